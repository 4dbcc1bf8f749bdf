"""helpers.detect: each detector finds its attack, the result table, the SQL for Athena."""

from __future__ import annotations

import dataclasses
import inspect
import ipaddress

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlglot

from helpers import detect, flowlogs, insights, paths, traffic
from helpers.detect import DetectError
from helpers.detect.sql import partition_filter
from helpers.errors import CourseError
from helpers.traffic.hosts import pool
from helpers.traffic.rules import int_to_ipv4

START = 1639958400  # the lesson's day, 2021-12-20T00:00:00Z
WEB, PRIVATE, NAT = "10.0.1.100", "10.0.11.50", "10.0.1.200"
WEB_ENI = traffic.default_topology().interface("web").eni_id


@pytest.fixture(scope="module")
def day():
    """A lesson day (tuning seed 0): lab 2 over the web baseline, noise and every attack."""
    return traffic.generate([*traffic.DEFAULT_SCENARIOS, "internet_noise",
                             *detect.LESSON_ATTACKS], seed=0, duration="1d")


@pytest.fixture(scope="module")
def findings(day):
    return detect.detect(day)


# --- each detector finds its attack --------------------------------------------------------

ATTACKS = [  # (scenario, detector function, finding type, srcaddr, dstaddr, severity)
    ("port_scan_inbound", detect.detect_port_probe, "Recon:EC2/PortProbeUnprotectedPort",
     "203.0.113.66", WEB, "Low"),
    ("port_scan_outbound", detect.detect_port_scan, "Recon:EC2/Portscan", PRIVATE,
     "192.0.2.240", "Medium"),
    ("ddos", detect.detect_ddos, "Inbound:EC2/DDoS", None, WEB, "High"),
    ("data_exfiltration", detect.detect_exfiltration, "Behavior:EC2/TrafficVolumeUnusual",
     PRIVATE, "203.0.113.99", "High"),
    ("traffic_spike", detect.detect_traffic_spike, "Inbound:EC2/TrafficSpike", None, WEB,
     "Low"),
]


@pytest.mark.parametrize("scenario, function, finding_type, src, dst, severity", ATTACKS,
                         ids=[a[0] for a in ATTACKS])
def test_each_detector_finds_its_attack_and_nothing_else(scenario, function, finding_type,
                                                          src, dst, severity):
    records = traffic.generate(["web_baseline", scenario], seed=4, duration="3h")
    found = function(records)
    assert len(found) == 1
    row = found.iloc[0]
    assert (row.finding_type, row.severity, row.dstaddr) == (finding_type, severity, dst)
    assert row.srcaddr == src if src else pd.isna(row.srcaddr)
    truth = records[records.label == scenario]
    assert row.start <= truth.start.max() and row.end >= truth.start.min()


@pytest.mark.parametrize("scenario, function, service", [
    ("ssh_brute_force", detect.detect_ssh_brute_force, 22),
    ("rdp_brute_force", detect.detect_rdp_brute_force, 3389),
])
def test_brute_force_names_every_attacker_with_its_port(scenario, function, service):
    records = traffic.generate(["web_baseline", scenario], seed=4, duration="6h")
    found = function(records)
    attackers = set(records.srcaddr[(records.label == scenario)
                                    & records.dstaddr.eq(WEB).fillna(False)])
    assert set(found.srcaddr) == attackers
    assert set(found.dstport) == {service} and set(found.severity) == {"Low"}
    assert (found.connections >= 10).all() and (found.rejects > 0).all()


def test_the_threat_list_finds_the_caller_and_the_beacon_once_each():
    records = traffic.generate(["web_baseline", "lab_download", "malicious_ip_caller"], seed=4,
                               duration="6h")
    found = detect.detect_threat_list(records)
    listed = [ipaddress.ip_network(n) for n in detect.load_threat_list()]
    assert len(found) == 2 and set(found.severity) == {"Medium"}
    inbound, outbound = (found[found.dstaddr == WEB], found[found.srcaddr == PRIVATE])
    assert len(inbound) == len(outbound) == 1  # the NAT gateway's hop is not a second finding
    assert any(ipaddress.ip_address(inbound.srcaddr.iloc[0]) in n for n in listed)
    assert any(ipaddress.ip_address(outbound.dstaddr.iloc[0]) in n for n in listed)


def test_a_list_override_replaces_the_file():
    records = traffic.generate(["web_baseline", "malicious_ip_caller"], seed=4, duration="3h")
    assert detect.detect_threat_list(records, threat_list=["198.51.100.200/32"]).empty
    caller = records.srcaddr[(records.label == "malicious_ip_caller")
                             & (records.dstaddr == WEB)].iloc[0]
    found = detect.detect_threat_list(records, threat_list=[caller])
    assert list(found.srcaddr) == [caller]


def test_the_reject_rate_uses_the_lessons_twenty_percent():
    records = traffic.generate(["web_baseline", "port_scan_inbound"], seed=4, duration="3h")
    found = detect.detect_reject_rate(records)
    assert list(found.interface_id) == [WEB_ENI]
    assert (found.rejects > 0.2 * found.records).all()
    assert "abnormal above 20 %" in found.detail.iloc[0]
    assert detect.detect_reject_rate(records, max_ratio=0.95).empty


def test_an_instance_behind_the_nat_gateway_is_named_by_its_own_address():
    records = traffic.generate(["port_scan_outbound", "data_exfiltration"], seed=4,
                               duration="3h")
    assert NAT in set(records.srcaddr)  # the NAT gateway forwards the traffic ...
    found = detect.detect(records, detectors=["port_scan", "exfiltration"])
    assert set(found.srcaddr) == {PRIVATE}  # ... but is not reported as a second actor


def test_consecutive_windows_are_one_finding():
    records = traffic.generate(["ddos"], seed=4, duration="1h")
    found = detect.detect_ddos(records)
    flood = records[records.label == "ddos"]
    assert len(found) == 1 and found.end.iloc[0] - found.start.iloc[0] >= 600
    assert found.start.iloc[0] <= flood.start.min() < found.start.iloc[0] + 60


# --- detect() and its result table -----------------------------------------------------------


def test_detect_is_every_detector_run_alone(day, findings):
    alone = pd.concat([getattr(detect, f"detect_{name}")(day) for name in detect.DETECTORS],
                      ignore_index=True)
    key = ["start", "finding_type", "srcaddr", "dstaddr", "interface_id"]
    pd.testing.assert_frame_equal(
        findings.sort_values(key).reset_index(drop=True),
        alone.sort_values(key).reset_index(drop=True))


def test_every_detector_reports_on_the_lesson_day(findings):
    reported = set(findings.finding_type)
    assert reported == {d.finding_type for d in detect.DETECTORS.values()}


def test_the_table_is_sorted_by_start_then_severity(findings):
    assert list(findings.columns) == list(detect.COLUMNS)
    rank = findings.severity.map({"High": 0, "Medium": 1, "Low": 2})
    order = list(zip(findings.start, rank))
    assert order == sorted(order)
    assert set(findings.severity) <= {"High", "Medium", "Low"}
    assert findings.detail.str.len().between(20, 200).all()


def test_the_table_is_typed_like_the_records(findings):
    assert findings.finding_type.dtype == pd.StringDtype("pyarrow")
    assert str(findings.start.dtype) == "Int64" and str(findings.dstport.dtype) == "Int32"
    assert findings.baseline.dtype == np.float64
    assert not any(dtype == np.dtype(object) for dtype in findings.dtypes)


def test_no_records_give_an_empty_typed_table():
    records = traffic.generate(["web_baseline"], seed=4, duration="10m").iloc[:0]
    found = detect.detect(records)
    assert found.empty and list(found.columns) == list(detect.COLUMNS)
    assert str(found.records.dtype) == "Int64"


def test_detectors_and_thresholds_are_chosen_by_name(day):
    found = detect.detect(day, detectors=["ssh_brute_force"],
                          ssh_brute_force_min_attempts=40)
    assert set(found.finding_type) == {"UnauthorizedAccess:EC2/SSHBruteForce"}
    assert (found.connections >= 40).all()
    assert len(found) < len(detect.detect_ssh_brute_force(day))


def test_a_time_range_keeps_only_records_that_start_in_it(day, findings):
    start, end = START + 6 * 3600, START + 18 * 3600
    found = detect.detect(day, start="2021-12-20T06:00:00Z", end=end)
    assert (found.start >= start).all() and (found.end <= end + 600).all()
    assert len(found) < len(findings)


def test_default_format_records_are_enough():
    """The committed sample is version 2 (no tcp-flags, no pkt-* fields): its inbound scan is
    found, and lab 2's long admin SSH session is not mistaken for brute force."""
    records = flowlogs.read(paths.SAMPLE_PARQUET)
    found = detect.detect(records)
    assert set(found.finding_type) == {"Recon:EC2/PortProbeUnprotectedPort",
                                       "Network:EC2/RejectRateHigh"}
    assert set(found.srcaddr.dropna()) == {"203.0.113.66"}


def test_an_arrow_table_works_like_a_dataframe(day, findings):
    table = pa.Table.from_pandas(day, preserve_index=False)
    pd.testing.assert_frame_equal(detect.detect(table), findings)


def test_other_vpc_blocks_change_what_is_ours():
    records = traffic.generate(["web_baseline", "port_scan_inbound"], seed=4, duration="2h")
    assert detect.detect_port_probe(records, vpc_cidr="172.31.0.0/16").empty
    found = detect.detect_port_probe(records, vpc_cidr=["172.31.0.0/16", "10.0.1.0/24"])
    assert list(found.dstaddr) == [WEB]


# --- what the detectors are named after ----------------------------------------------------


def test_every_detector_reports_a_documented_finding_type():
    for detector in detect.DETECTORS.values():
        kind = detect.FINDING_TYPES[detector.finding_type]
        assert kind.severity in ("High", "Medium", "Low")
        assert kind.page.startswith("https://docs.aws.amazon.com/guardduty/")
        assert kind.guardduty == (not kind.name.startswith(("Inbound:", "Network:")))


def test_portscan_means_our_instance_scans_out():
    assert "outbound" in detect.FINDING_TYPES["Recon:EC2/Portscan"].meaning
    assert "SENDS" in detect.FINDING_TYPES["Inbound:EC2/DDoS"].meaning


def test_the_functions_defaults_are_the_catalogs():
    for name, detector in detect.DETECTORS.items():
        parameters = inspect.signature(getattr(detect, f"detect_{name}")).parameters
        for key, param in detector.params.items():
            assert parameters[key].default == param.default, (name, key)
        assert detect.thresholds(name) == {k: p.default for k, p in detector.params.items()}
        doc = getattr(detect, f"detect_{name}").__doc__
        assert detector.finding_type in doc and "default" in doc


@pytest.mark.parametrize("name", list(detect.DETECTORS))
def test_the_logs_insights_equivalents_compile(name):
    text = getattr(detect, f"detect_{name}").insights
    if name in ("exfiltration", "traffic_spike"):
        assert text is None  # a rolling baseline needs window functions
    else:
        assert insights.to_sql(text).startswith("SELECT")


def test_the_threat_list_holds_documentation_addresses_only():
    documentation = [ipaddress.ip_network(n) for n in
                     ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    listed = [ipaddress.ip_network(n) for n in detect.load_threat_list()]
    assert listed and all(any(n.subnet_of(d) for d in documentation) for n in listed)
    text = detect.THREAT_LIST.read_text()
    assert text.startswith("#") and "EXAMPLES ONLY" in text and "RFC 5737" in text
    actors = [ipaddress.ip_address(a) for a in int_to_ipv4(pool("threat_actors"))]
    assert all(any(a in n for n in listed) for a in actors)
    others = [ipaddress.ip_address(a) for name in ("web_clients", "ddos_bots", "ssh_attackers",
                                                    "rdp_attackers", "noise_sources")
              for a in int_to_ipv4(pool(name))]
    assert not any(a in n for a in others for n in listed)


# --- the same SQL on Athena --------------------------------------------------------------------


@pytest.fixture(scope="module")
def athena_table(day):
    """The day's records with the partition columns of helpers.insights.athena_ddl."""
    stamp = pd.to_datetime(day["start"].astype("int64"), unit="s", utc=True)
    return day.assign(aws_account_id="123456789012", aws_region="ap-northeast-2",
                      year=stamp.dt.year, month=stamp.dt.month, day=stamp.dt.day,
                      hour=stamp.dt.hour)


@pytest.mark.parametrize("name", list(detect.DETECTORS))
def test_the_athena_sql_returns_the_same_rows(athena_table, name):
    import duckdb

    start, end = "2021-12-20T00:00:00Z", "2021-12-21T00:00:00Z"
    athena = detect.to_sql(name, dialect="athena", table="vpc_flow_logs", start=start,
                           end=end)
    assert "year = 2021 AND month = 12 AND day = 20" in athena
    back = sqlglot.parse_one(athena, read="trino").sql(dialect="duckdb")
    local = detect.to_sql(name, table="vpc_flow_logs", start=start, end=end)
    con = duckdb.connect()
    con.register("vpc_flow_logs", pa.Table.from_pandas(athena_table, preserve_index=False))
    got, want = con.sql(back).df(), con.sql(local).df()
    con.close()
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want)


def test_the_athena_sql_reads_the_partitioned_table():
    sql = detect.to_sql("port_probe", dialect="athena", table="logs.vpc_flow_logs",
                        start=START, end=START + 3600)
    assert "FROM logs.vpc_flow_logs" in sql and "BITWISE_AND" in sql
    assert "hour >= 0" not in sql and "hour <= 1" in sql
    assert "year" not in detect.to_sql("port_probe", table="flows", start=START,
                                       end=START + 3600)


def test_partition_filters_name_whole_months_and_hour_bounds():
    text = partition_filter(1640995200 - 86400 * 40, 1640995200 + 86400 * 35)
    assert "(year = 2021 AND month = 12)" in text and "(year = 2022 AND month = 1)" in text
    assert "month = 12 AND day" not in text and "(year = 2021 AND month = 11)" not in text
    assert "month = 11 AND day = 21 AND hour >= 23" in text and "day = 5 AND hour <= 0" in text
    assert partition_filter(None, START) is None
    assert "hour" not in partition_filter(START, START + 7200, hourly=False)


# --- bad inputs: a course error that names the argument --------------------------------------

RECORDS = traffic.generate(["web_baseline"], seed=4, duration="10m")

BAD = [  # (what, call, the argument the message names)
    ("not a table", lambda: detect.detect([1, 2, 3]), "records must be a pandas DataFrame"),
    ("missing columns", lambda: detect.detect(RECORDS.drop(columns=["srcaddr", "action"])),
     "missing columns srcaddr, action"),
    ("text ports", lambda: detect.detect(RECORDS.assign(dstport="443")), "dstport"),
    ("number addresses", lambda: detect.detect(RECORDS.assign(srcaddr=1)), "srcaddr"),
    ("negative threshold", lambda: detect.detect_port_probe(RECORDS, min_ports=-1),
     "min_ports must be 0 or more"),
    ("negative in detect", lambda: detect.detect(RECORDS, ddos_min_pps=-5),
     "ddos_min_pps must be 0 or more"),
    ("unknown threshold", lambda: detect.detect(RECORDS, ssh_brute_force_min_attempt=3),
     "did you mean 'ssh_brute_force_min_attempts'"),
    ("unknown argument", lambda: detect.detect(RECORDS, threshold=3), "threshold"),
    ("unknown keyword", lambda: detect.to_sql("ddos", min_source=5), "min_source"),
    ("odd window", lambda: detect.detect_ddos(RECORDS, window=90), "window must be"),
    ("boolean threshold", lambda: detect.detect_ddos(RECORDS, min_sources=True),
     "min_sources"),
    ("ratio above 1", lambda: detect.detect_reject_rate(RECORDS, max_ratio=20),
     "max_ratio must be a share"),
    ("factor below 1", lambda: detect.detect_traffic_spike(RECORDS, factor=0.5), "factor"),
    ("baseline not windows", lambda: detect.detect_exfiltration(RECORDS, baseline=1000),
     "baseline must be a whole number of windows"),
    ("not a number", lambda: detect.detect_port_scan(RECORDS, min_ports="20"), "min_ports"),
    ("infinite", lambda: detect.detect_port_scan(RECORDS, min_ports=float("inf")),
     "min_ports"),
    ("bad CIDR", lambda: detect.detect(RECORDS, vpc_cidr="10.0.0.0/33"), "vpc_cidr"),
    ("address, not CIDR", lambda: detect.detect(RECORDS, vpc_cidr="10.0.0.1"), "vpc_cidr"),
    ("threat list as text", lambda: detect.detect_threat_list(RECORDS, threat_list="1.2.3.4"),
     "threat_list must be a list"),
    ("bad threat entry", lambda: detect.detect_threat_list(RECORDS, threat_list=["nope"]),
     "threat_list, entry 1"),
    ("missing threat file", lambda: detect.load_threat_list(paths.DATA / "nope.txt"),
     "cannot read the threat list"),
    ("unknown detector", lambda: detect.detect(RECORDS, detectors=["port_scans"]),
     "did you mean 'port_scan'"),
    ("bad time", lambda: detect.detect(RECORDS, start="yesterday"), "start"),
    ("end before start", lambda: detect.detect(RECORDS, start=START + 60, end=START),
     "end"),
    ("bad dialect", lambda: detect.to_sql("ddos", dialect="mysql"), "dialect"),
    ("bad table", lambda: detect.to_sql("ddos", table="flows; DROP TABLE x"), "table"),
    ("unknown detector SQL", lambda: detect.to_sql("dos"), "did you mean 'ddos'"),
    ("unlabelled records", lambda: detect.evaluate(RECORDS.drop(columns="label")),
     "missing column label"),
]


@pytest.mark.parametrize("call, text", [case[1:] for case in BAD], ids=[c[0] for c in BAD])
def test_a_bad_input_is_a_course_error_that_names_the_argument(call, text):
    with pytest.raises(DetectError) as caught:
        call()
    assert text in str(caught.value)
    assert isinstance(caught.value, CourseError) and isinstance(caught.value, ValueError)
    assert "Traceback" not in str(caught.value)


def test_a_bad_threat_file_line_is_named(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# comment\n203.0.113.7\n\nnot-an-address\n")
    with pytest.raises(DetectError, match=r"list.txt, line 4: 'not-an-address'"):
        detect.load_threat_list(path)


def test_a_threat_file_with_comments_loads(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# comment\n198.51.100.77  # a caller\n198.51.100.200/30\n")
    assert detect.load_threat_list(path) == ["198.51.100.77", "198.51.100.200/30"]
    records = traffic.generate(["web_baseline"], seed=4, duration="10m")
    assert detect.detect_threat_list(records, threat_list=path).empty


def test_scenarios_keep_unrecorded_traffic_out():
    """DESIGN §7.15: flow logs do not record the DNS resolver, metadata service, time sync or
    the VPC router; the detect scenarios make none of it."""
    records = traffic.generate(["rdp_brute_force", "malicious_ip_caller", "traffic_spike",
                                "internet_noise", "db_queries"], seed=4, duration="6h")
    addresses = set(records.srcaddr.dropna()) | set(records.dstaddr.dropna())
    unrecorded = [ipaddress.ip_network(n) for n in ("169.254.0.0/16", "10.0.0.2/32",
                                                    "10.0.0.1/32")]
    assert not any(ipaddress.ip_address(a) in n for a in addresses for n in unrecorded)
    assert not set(records.dstport.dropna()) & {53, 67, 68, 123}


def test_db_queries_follow_the_private_security_group():
    records = traffic.generate(["db_queries"], seed=4, duration="2h")
    assert set(records.action[records.interface_id != WEB_ENI].dropna()) == {"REJECT"}
    topology = _with_mysql(traffic.default_topology())
    allowed = traffic.generate(["db_queries"], seed=4, duration="2h", topology=topology)
    assert set(allowed.action.dropna()) == {"ACCEPT"}


def _with_mysql(topology):
    """The lab VPC with private-sg also allowing MySQL from the public subnet."""
    from helpers.traffic.topology import TCP, SgRule

    rule = SgRule("ingress", TCP, 3306, 3306, "10.0.1.0/24", description="MySQL from web")
    groups = tuple(dataclasses.replace(g, rules=(*g.rules, rule)) if g.name == "private-sg"
                   else g for g in topology.security_groups)
    return dataclasses.replace(topology, security_groups=groups)
