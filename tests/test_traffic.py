"""The traffic generator: deterministic, typed like the reader, and judged by the VPC's rules."""

from __future__ import annotations

import datetime as dt
import ipaddress

import numpy as np
import pandas as pd
import pytest

from helpers import flowlogs, traffic
from helpers.errors import TrafficError
from helpers.monitoring import metrics
from helpers.traffic import rules
from helpers.traffic.topology import ALL, NaclEntry, default_topology

START = 1639958400
WEB, PRIVATE, NAT = "10.0.1.100", "10.0.11.50", "10.0.1.200"
WEB_ENI, PRIVATE_ENI, NAT_ENI = (default_topology().interface(r).eni_id
                                 for r in ("web", "private", "nat"))


@pytest.fixture(scope="module")
def every_scenario():
    return traffic.generate("all", seed=3, duration="2h", explain=True)


@pytest.fixture(scope="module")
def lab():
    return traffic.generate(seed=0)


def _ok(df, mask=None):
    """The records with log-status OK (and ``mask``, a condition on ``df``)."""
    keep = df.log_status == "OK"
    return df[keep if mask is None else keep & mask]


# --- determinism and shape ----------------------------------------------------------------


def test_the_same_seed_gives_the_same_frame():
    pd.testing.assert_frame_equal(traffic.generate(seed=7), traffic.generate(seed=7))


def test_a_different_seed_gives_a_different_frame():
    assert not traffic.generate(seed=7).equals(traffic.generate(seed=8))


def test_columns_are_every_field_of_versions_2_to_5_then_label(lab):
    expected = [f.column for f in flowlogs.FIELDS.values() if f.version <= 5]
    assert list(lab.columns) == [*expected, "label"]


def test_dtypes_are_the_readers(lab, tmp_path):
    flat = lab.drop(columns="label")
    back = flowlogs.read(flowlogs.write_text(flat, tmp_path / "lab.log.gz"))
    pd.testing.assert_frame_equal(back, flat)


def test_explain_adds_two_typed_columns(every_scenario):
    assert list(every_scenario.columns[-3:]) == ["label", "is_response", "icmp_type"]
    assert str(every_scenario.is_response.dtype) == "boolean"
    assert str(every_scenario.icmp_type.dtype) == "Int32"


def test_default_scenarios_are_lab_2_over_the_baseline(lab):
    assert set(lab.label) == {*traffic.DEFAULT_SCENARIOS, "nodata", "skipdata"}


def test_version_and_interface_metadata(lab):
    assert set(lab.version) == {5}
    nat = lab[lab.interface_id == NAT_ENI]
    assert nat.instance_id.isna().all()
    web = lab[lab.interface_id == WEB_ENI]
    assert set(web.instance_id) == {"i-01a1b2c3d4e5f6000"}
    assert set(lab.az_id) == {"apne2-az1"}  # every lab interface is in ap-northeast-2a
    assert set(lab.region) == {"ap-northeast-2"} and set(lab.account_id) == {"123456789012"}


# --- AWS's semantics ----------------------------------------------------------------------


def _forgets_ephemeral_ports():
    """The lab VPC whose public network ACL denies inbound TCP to ephemeral ports (rule 125,
    before the allow at 130): responses to the public subnet's own connections are lost."""
    topo = default_topology()
    return topo.with_nacl_entry(topo.interface("web").subnet_id,
                                NaclEntry(125, False, 6, "deny", "0.0.0.0/0", 1024, 65535))


@pytest.mark.parametrize("topology", [None, _forgets_ephemeral_ports()],
                         ids=["default", "nacl-forgets-ephemeral-ports"])
def test_every_action_agrees_with_an_independent_evaluation_of_the_rules(every_scenario,
                                                                         topology):
    if topology is not None:
        every_scenario = traffic.generate("all", seed=3, duration="2h", explain=True,
                                          topology=topology)
    ok = _ok(every_scenario)
    ingress = ok.flow_direction == "ingress"
    keys = pd.DataFrame({
        "interface": ok.interface_id,
        "direction": ok.flow_direction,
        "peer": ok.pkt_srcaddr.where(ingress, ok.pkt_dstaddr),
        "protocol": ok.protocol,
        "port": ok.icmp_type.where(ok.protocol == 1, ok.dstport),
        "response": ok.is_response,
    }).astype(object)
    unique = keys.drop_duplicates()
    topo = default_topology() if topology is None else topology
    verdict = {tuple(k): rules.is_allowed(topo, k[0], k[1], k[2], k[3], k[4], is_response=k[5])
               for k in unique.itertuples(index=False)}
    expected = [verdict[tuple(k)] for k in keys.itertuples(index=False)]
    assert (ok.action == "ACCEPT").tolist() == expected
    assert set(ok.action) == {"ACCEPT", "REJECT"}


def test_mysql_from_the_public_subnet_is_rejected_on_the_private_interface(lab):
    mysql = _ok(lab, (lab.dstaddr == PRIVATE) & (lab.dstport == 3306))
    assert len(mysql) > 0
    on_private = mysql[mysql.interface_id == PRIVATE_ENI]
    on_web = mysql[mysql.interface_id == WEB_ENI]
    assert set(on_private.action) == {"REJECT"} and set(on_private.flow_direction) == {"ingress"}
    assert set(on_web.action) == {"ACCEPT"} and set(on_web.flow_direction) == {"egress"}
    assert mysql.srcaddr.map(lambda a: ipaddress.ip_address(a) in
                             ipaddress.ip_network("10.0.1.0/24")).all()


def test_ssh_from_the_public_subnet_is_accepted(lab):
    ssh = _ok(lab, lab.label == "lab_ssh")
    assert len(ssh) > 0 and set(ssh.action) == {"ACCEPT"}
    assert set(ssh.interface_id) == {WEB_ENI, PRIVATE_ENI}


def test_a_rejected_syn_is_one_to_three_packets_of_60_bytes(lab):
    blocked = _ok(lab, lab.label == "lab_blocked")
    assert blocked.packets.between(1, 3).all()
    assert (blocked.bytes == 60 * blocked.packets).all()
    assert set(blocked.tcp_flags) == {2}


def test_admin_ping_reproduces_the_documented_icmp_pair():
    df = traffic.generate(["admin_ping"], duration="10m")
    icmp = df[df.protocol == 1]
    request = icmp[icmp.flow_direction == "ingress"]
    reply = icmp[icmp.flow_direction == "egress"]
    assert set(icmp.interface_id) == {WEB_ENI}
    assert set(request.action) == {"ACCEPT"} and set(reply.action) == {"REJECT"}
    assert (icmp.srcport == 0).all() and (icmp.dstport == 0).all()
    assert request.packets.tolist() == reply.packets.tolist()
    assert set(request.srcaddr) == {"198.51.100.10"} and set(reply.dstaddr) == {"198.51.100.10"}


def test_a_nacl_deny_entry_turns_the_scanner_away_at_the_subnet_edge():
    topo = default_topology()
    blocked = topo.with_nacl_entry(topo.interface("web").subnet_id,
                                   NaclEntry(90, False, ALL, "deny", "203.0.113.66/32"))
    before = traffic.generate(["port_scan_inbound"], duration="1h")
    after = traffic.generate(["port_scan_inbound"], duration="1h", topology=blocked)
    scanned_before = _ok(before, before.srcaddr == "203.0.113.66")
    scanned_after = _ok(after, after.srcaddr == "203.0.113.66")
    assert "ACCEPT" in set(scanned_before.action)  # the web ports 80 and 443 answered
    assert set(scanned_after.action) == {"REJECT"}
    assert len(scanned_after) == len(scanned_before)  # every probe is still recorded
    assert (_ok(after).flow_direction == "ingress").all()  # and nothing answers


def test_a_stateless_nacl_rejects_responses_on_the_way_back():
    df = _ok(traffic.generate(["lab_curl", "lab_ssh"], duration="1h",
                              topology=_forgets_ephemeral_ports()))
    web = df[df.interface_id == WEB_ENI]
    requests, responses = web[web.flow_direction == "egress"], web[web.flow_direction == "ingress"]
    assert set(requests.action) == {"ACCEPT"} and set(requests.tcp_flags) == {2}  # SYN retries
    assert set(responses.action) == {"REJECT"} and set(responses.tcp_flags) == {18}  # SYN-ACKs
    # The private instance accepted the SSH request and sent its SYN-ACKs: ACCEPT there.
    private = df[df.interface_id == PRIVATE_ENI]
    assert set(private.action) == {"ACCEPT"} and set(private.tcp_flags) == {2, 18}


def test_nat_records_follow_the_documented_address_pattern():
    df = _ok(traffic.generate(["lab_download"], duration="1h"))
    mirror = "203.0.113.91"
    nat = df[df.interface_id == NAT_ENI]
    legs = [  # srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr, flow-direction
        (PRIVATE, NAT, PRIVATE, mirror, "ingress"),  # instance → NAT gateway
        (NAT, mirror, NAT, mirror, "egress"),  # NAT gateway → internet host
        (mirror, NAT, mirror, NAT, "ingress"),  # internet host → NAT gateway
        (NAT, PRIVATE, mirror, PRIVATE, "egress"),  # NAT gateway → instance
    ]
    for src, dst, pkt_src, pkt_dst, direction in legs:
        leg = nat[(nat.srcaddr == src) & (nat.dstaddr == dst)]
        assert len(leg) > 0, (src, dst)
        assert set(leg.pkt_srcaddr) == {pkt_src} and set(leg.pkt_dstaddr) == {pkt_dst}
        assert set(leg.flow_direction) == {direction}
    assert len(nat) == sum(((nat.srcaddr == s) & (nat.dstaddr == d)).sum() for s, d, *_ in legs)
    instance = df[df.interface_id == PRIVATE_ENI]
    assert (instance.srcaddr == instance.pkt_srcaddr).all()
    assert (instance.dstaddr == instance.pkt_dstaddr).all()
    assert set(instance.srcaddr) | set(instance.dstaddr) == {PRIVATE, mirror}


def test_internet_traffic_to_the_web_instance_uses_its_private_address(lab):
    web = _ok(lab, lab.label == "web_baseline")
    assert set(web.dstaddr[web.flow_direction == "ingress"]) == {WEB}


def test_traffic_path_is_set_on_egress_only(every_scenario):
    ok = _ok(every_scenario)
    assert ok.traffic_path[ok.flow_direction == "ingress"].isna().all()
    egress = ok[ok.flow_direction == "egress"]
    web_out = egress[(egress.interface_id == WEB_ENI) & ~egress.dstaddr.str.startswith("10.")]
    assert set(web_out.traffic_path) == {8}
    inside = egress[egress.dstaddr.str.startswith("10.0.")]
    assert set(inside.traffic_path) == {1}


FLAGS = {
    "web_baseline": {0, 1, 2, 3, 18, 19},
    "rdp_brute_force": {2},
    "malicious_ip_caller": {0, 1, 2, 3, 18, 19},
    "traffic_spike": {0, 1, 2, 3, 18, 19},
    "internet_noise": {2, 4, 6, 18},
    "db_queries": {0, 1, 2, 3, 18, 19},
    "lab_curl": {3, 19},
    "lab_ping": {0},
    "lab_ssh": {0, 1, 2, 3, 18, 19},
    "lab_blocked": {2},
    "lab_download": {0, 1, 2, 3, 18, 19},
    "port_scan_inbound": {2, 4, 6, 18},
    "port_scan_outbound": {2, 4, 6, 18},
    "ssh_brute_force": {2},
    "ddos": {0, 1, 2, 3, 18, 19},
    "data_exfiltration": {0, 1, 2, 3, 18, 19},
    "admin_ping": {0},
    "lab_background": {0, 1, 2, 3, 18, 19},
}


def test_every_scenario_has_its_flag_table():
    assert set(FLAGS) == set(traffic.SCENARIOS)


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_tcp_flags_are_ones_aws_can_report_for_the_scenario(every_scenario, name):
    flags = set(every_scenario.tcp_flags[every_scenario.label == name])
    assert flags and flags <= FLAGS[name]


def test_a_short_connection_in_one_window_gives_3_and_19():
    df = _ok(traffic.generate(["lab_curl"], duration="1h"))
    assert set(df.tcp_flags[df.flow_direction == "egress"]) == {3}
    assert set(df.tcp_flags[df.flow_direction == "ingress"]) == {19}


def test_tcp_bytes_are_at_least_40_per_packet(every_scenario):
    tcp = _ok(every_scenario, every_scenario.protocol == 6)
    assert (tcp.bytes >= 40 * tcp.packets).all() and (tcp.packets >= 1).all()


def test_client_ports_are_linux_ephemeral_ports(lab):
    inbound = _ok(lab, (lab.label == "web_baseline") & (lab.flow_direction == "ingress"))
    assert inbound.srcport.between(32768, 60999).all()


@pytest.mark.parametrize("aggregation", [60, 600])
def test_one_record_per_interface_5_tuple_direction_and_window(aggregation):
    df = _ok(traffic.generate("all", seed=5, duration="2h", aggregation=aggregation))
    window = (df.start - START) // aggregation
    keys = ["interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
            "flow_direction"]
    assert not df.assign(window=window).duplicated([*keys, "window"]).any()


@pytest.mark.parametrize("aggregation", [60, 600])
def test_start_and_end_lie_in_one_window(aggregation):
    df = traffic.generate("all", seed=5, duration="2h", aggregation=aggregation)
    assert ((df.start - START) // aggregation == (df.end - START) // aggregation).all()
    assert (df.end >= df.start).all() and (df.start >= START).all()
    assert (df.end < START + 7200).all()


def test_long_sessions_are_split_across_windows_with_syn_first_and_fin_last(lab):
    download = _ok(lab, (lab.label == "lab_download") & (lab.interface_id == PRIVATE_ENI))
    egress = download[download.flow_direction == "egress"].sort_values("start")
    assert len(egress) > 1
    assert egress.tcp_flags.iloc[0] == 2 and egress.tcp_flags.iloc[-1] == 1
    assert (egress.tcp_flags.iloc[1:-1] == 0).all()


def test_idle_interfaces_get_nodata_records(lab):
    nodata = lab[lab.log_status == "NODATA"]
    assert len(nodata) > 0 and set(nodata.label) == {"nodata"}
    traffic_fields = ["srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets",
                      "bytes", "action", "tcp_flags", "type", "flow_direction"]
    assert nodata[traffic_fields].isna().all().all()
    assert nodata.interface_id.notna().all() and nodata.start.notna().all()


def test_an_interface_records_either_traffic_or_a_status_in_each_window(lab):
    cells = lab.assign(window=(lab.start - START) // 60).groupby(["interface_id", "window"])
    per_cell = cells.log_status.agg(["nunique", "size", "first"])
    assert len(per_cell) == 3 * 60
    assert (per_cell["nunique"] == 1).all()
    status = per_cell[per_cell["first"] != "OK"]
    assert len(status) > 0 and (status["size"] == 1).all()


def test_an_occasional_window_is_skipdata(lab):
    assert (lab.log_status == "SKIPDATA").sum() == 1


def test_web_baseline_follows_a_daily_rhythm():
    df = _ok(traffic.generate(["web_baseline"], duration="1d"))
    per_hour = df.groupby((df.start - START) // 3600).size()
    assert len(per_hour) == 24 and per_hour.max() > 3 * per_hour.min()


def test_internet_peers_are_documentation_addresses_or_google_dns(every_scenario):
    """RFC 5737 for the internet, RFC 2544's unrouted block for AWS's endpoints, and 8.8.8.8."""
    ok = _ok(every_scenario)
    addresses = set(ok.srcaddr) | set(ok.dstaddr)
    allowed = [ipaddress.ip_network(n) for n in
               ("10.0.0.0/16", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                "198.18.0.0/15", "8.8.8.8/32")]
    assert all(any(ipaddress.ip_address(a) in net for net in allowed) for a in addresses)


def test_scale_multiplies_the_connections():
    small = traffic.generate(["web_baseline"], duration="2h")
    large = traffic.generate(["web_baseline"], duration="2h", scale=4)
    assert 3 < len(_ok(large)) / len(_ok(small)) < 5


# --- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["2021-12-20T00:00:00Z", "2021-12-20T09:00:00+09:00",
                                   dt.datetime(2021, 12, 20, tzinfo=dt.timezone.utc),
                                   dt.datetime(2021, 12, 20), START, float(START)])
def test_start_accepts_epoch_seconds_iso_text_and_datetimes(start):
    df = traffic.generate(["lab_ping"], start=start, duration="10m")
    assert df.start.min() >= START and df.end.max() < START + 600


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("1h", 3600),
                                           ("1d", 86400), (120, 120),
                                           (dt.timedelta(minutes=5), 300)])
def test_duration_accepts_units_and_seconds(text, seconds):
    df = traffic.generate(["web_baseline"], duration=text)
    assert df.end.max() == START + seconds - 1


def test_scenarios_accept_a_comma_separated_string_and_all():
    df = traffic.generate("lab_ping, admin_ping", duration="10m")
    assert set(df.label) - {"nodata", "skipdata"} == {"lab_ping", "admin_ping"}
    assert len(traffic.generate("all", duration="10m").label.unique()) >= 10


def test_an_unknown_scenario_names_the_valid_ones_and_a_suggestion():
    with pytest.raises(TrafficError, match=r"unknown scenario 'port_scan'; did you mean "
                                           r"'port_scan_\w+'\? Valid scenarios: web_baseline"):
        traffic.generate(["port_scan"])


@pytest.mark.parametrize("aggregation", [30, 300, "60"])
def test_aggregation_must_be_60_or_600(aggregation):
    with pytest.raises(TrafficError, match="aggregation must be 60 or 600 seconds"):
        traffic.generate(aggregation=aggregation)


@pytest.mark.parametrize("duration", ["1 week", "-5m", 0, "h"])
def test_a_bad_duration_is_a_traffic_error(duration):
    with pytest.raises(TrafficError, match="duration"):
        traffic.generate(duration=duration)


def test_a_bad_start_is_a_traffic_error():
    with pytest.raises(TrafficError, match="start: 'yesterday-ish' is not a time"):
        traffic.generate(start="yesterday-ish")


def test_traffic_errors_are_course_errors_and_value_errors():
    from helpers.errors import CourseError

    assert issubclass(TrafficError, CourseError) and issubclass(TrafficError, ValueError)


def test_scenario_descriptions_are_short_english_lines():
    assert all(name.isidentifier() and name.islower() for name in traffic.SCENARIOS)
    assert all(0 < len(text) < 140 for text in traffic.SCENARIOS.values())


def test_generated_frame_has_no_python_objects(lab):
    assert not any(dtype == np.dtype(object) for dtype in lab.dtypes)


# --- bad arguments: refused with a course error, never a library's ----------------------------


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, None])
def test_seed_must_be_a_whole_number_from_zero(seed):
    with pytest.raises(TrafficError, match=r"seed must be a whole number from 0.*not "):
        traffic.generate(["lab_ping"], seed=seed, duration="10m")


def test_a_numpy_integer_seed_is_the_same_seed():
    pd.testing.assert_frame_equal(traffic.generate(["lab_ping"], seed=np.int64(3)),
                                  traffic.generate(["lab_ping"], seed=3))


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), -1, 0, "2", True, None, 10**400])
def test_scale_must_be_a_finite_positive_number(scale):
    with pytest.raises(TrafficError, match="scale must be a finite number above 0"):
        traffic.generate(["lab_ping"], scale=scale, duration="10m")


@pytest.mark.parametrize("start, message", [
    (float("nan"), "is not a finite time"), (float("inf"), "is not a finite time"),
    (-5, "before 1970-01-01"), ("1969-12-31T23:59:59Z", "before 1970-01-01"),
    (dt.datetime(1960, 1, 1), "before 1970-01-01"), ("NaT", "is not a time"),
    (pd.NaT, "is not a time"), (START * 1000, "epoch milliseconds"), (10**30, "outside the times"),
    ("2262-04-11T20:00:00Z", "ends after 2262")])
def test_start_is_finite_and_from_1970(start, message):
    with pytest.raises(TrafficError, match=message):
        traffic.generate(["lab_ping"], start=start, duration="10h")


@pytest.mark.parametrize("duration", [float("nan"), float("inf"), 10**400])
def test_duration_must_be_finite(duration):
    with pytest.raises(TrafficError, match="duration must be a finite number of seconds"):
        traffic.generate(duration=duration)


@pytest.mark.parametrize("kwargs", [dict(duration="100000d"), dict(duration=10**12),
                                    dict(duration="100000d", scale=1e-9),
                                    dict(scenarios="all", duration="1d", scale=1000),
                                    dict(scenarios=["ddos"], duration="1h", scale=1e5)])
def test_a_huge_request_is_refused_from_its_estimate_before_any_memory_is_taken(kwargs):
    with pytest.raises(TrafficError, match=r"would make about [\d,.e+]+ records .*the limit "
                                           r"is 15,000,000 records"):
        traffic.generate(**kwargs)


def test_the_estimate_is_close_to_the_records_made():
    from helpers.traffic.generator import estimate_records, parse_duration

    for names, duration, scale in ((list(traffic.SCENARIOS), "1d", 1),
                                   (list(traffic.DEFAULT_SCENARIOS), "6h", 4)):
        made = len(traffic.generate(names, duration=duration, scale=scale))
        estimate = estimate_records(names, parse_duration(duration), scale=scale)
        assert 0.8 < estimate / made < 1.25


def test_the_benchmarks_largest_frame_is_within_the_limit():
    from helpers.traffic.generator import MAX_RECORDS, estimate_records

    assert estimate_records(list(traffic.SCENARIOS), 86400, scale=64) < MAX_RECORDS


def test_scale_above_the_maximum_is_refused_even_for_capped_scenarios():
    with pytest.raises(TrafficError, match="at most 1,000,000, not 1e\\+20"):
        traffic.generate(["ssh_brute_force"], scale=1e20, duration="1h")


@pytest.mark.parametrize("topology", ["default", 5, {"vpc_id": "vpc-1"}])
def test_topology_must_be_a_topology(topology):
    with pytest.raises(TrafficError, match=f"topology must be a Topology.*not "
                                           f"{type(topology).__name__}"):
        traffic.generate(topology=topology)


@pytest.mark.parametrize("scenarios, message", [
    (5, "scenarios must be a list of scenario names.*not int 5"),
    (b"ddos", "scenarios must be a list.*not bytes"),
    ([None], "scenarios must hold scenario names \\(text\\), not NoneType None"),
    (["ddos", 3], "not int 3"),
    ("xyz", "unknown scenario 'xyz'. Valid scenarios: web_baseline"),
    ("lab_ping,", "unknown scenario ''")])
def test_scenarios_of_the_wrong_type_name_the_argument(scenarios, message):
    with pytest.raises(TrafficError, match=message):
        traffic.generate(scenarios)


def test_aggregation_written_as_a_float_is_the_same_interval():
    pd.testing.assert_frame_equal(traffic.generate(["lab_ping"], aggregation=600.0),
                                  traffic.generate(["lab_ping"], aggregation=600))


def test_explain_must_be_a_boolean():
    with pytest.raises(TrafficError, match="explain must be True or False, not 'yes'"):
        traffic.generate(explain="yes")


def test_an_unknown_scenario_builder_suggests_a_name():
    from helpers.traffic import scenarios

    ctx = scenarios.Context(default_topology(), START, START + 60)
    with pytest.raises(TrafficError, match="unknown scenario 'dos'; did you mean 'ddos'"):
        scenarios.build("dos", ctx, np.random.default_rng(0))


def test_az_id_of_a_govcloud_zone_and_of_a_bad_name():
    from helpers.traffic.generator import az_id

    assert az_id("us-gov-west-1a") == "usgw1-az1"
    with pytest.raises(TrafficError, match="az must be an Availability Zone name.*'nope'"):
        az_id("nope")


# --- the command line ---------------------------------------------------------------------


def _cli(tmp_path, *args):
    import subprocess
    import sys

    from conftest import ROOT

    return subprocess.run([sys.executable, "-m", "helpers.traffic", *args, "--out",
                           str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["--scenarios", "ddoss"], "did you mean 'ddos'?"),
    (["--duration", "100000d"], "the limit is 15,000,000 records"),
    (["--duration", "abc"], "cannot read duration 'abc'"),
    (["--scale", "nan"], "scale must be a finite number"),
    (["--seed", "-1"], "seed must be a whole number from 0"),
    (["--start", "-5"], "before 1970-01-01"),
    (["--flow-log-id", "fl-0a1b2c3d/../../x"], "argument --flow-log-id: 'fl-0a1b2c3d/../../x' "
                                               "is not a flow-log ID"),
    (["--seed", "one"], "argument --seed: invalid int value")])
def test_command_line_argument_errors_exit_2_with_usage_and_no_traceback(tmp_path, args,
                                                                       message):
    result = _cli(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("usage: python -m helpers.traffic")
    assert "python -m helpers.traffic: error: " in result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flow_log_id", ["../../../tmp/evil", "fl-../x", "fl-0a1b2c3d4e5f6000/x",
                                         "fl-0a1b2c3", "fl-0a1b2c3d4e5f600000",
                                         "fl-0A1B2C3D", "FL-0a1b2c3d", "fl-0a1b2c3g", ""])
def test_command_line_refuses_a_flow_log_id_that_is_not_awss(tmp_path, capsys, flow_log_id):
    from helpers.traffic import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--flow-log-id", flow_log_id, "--duration", "10m", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage:") and f"{flow_log_id!r} is not a flow-log ID" in err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("flow_log_id", ["fl-1234abcd", "fl-0123456789abcdef0"])
def test_command_line_accepts_both_lengths_of_aws_flow_log_ids(tmp_path, flow_log_id):
    from helpers.traffic import cli

    assert cli.main(["--flow-log-id", flow_log_id, "--duration", "10m", "--out",
                     str(tmp_path)]) == 0
    names = [p.name for p in tmp_path.rglob("*.parquet")]
    assert names and all(f"_{flow_log_id}_" in n for n in names)


def test_command_line_errors_from_the_generator_print_usage_and_return_2(tmp_path, capsys):
    from helpers.traffic import cli

    assert cli.main(["--duration", "100000d", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m helpers.traffic")
    assert "error: duration '100000d' at scale 1.0 would make about" in err


def test_command_line_refuses_an_existing_file_as_the_tree_folder(tmp_path, capsys):
    from helpers.traffic import cli

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--duration", "10m", "--out", str(tmp_path / "notes.txt")])
    assert exit_.value.code == 2 and "is a file" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_command_line_reads_fractional_epoch_seconds(tmp_path):
    from helpers.traffic import cli

    assert cli.main(["--start", f"{START}.5", "--duration", "10m", "--out",
                     str(tmp_path / "lab.parquet")]) == 0
    assert flowlogs.read(tmp_path / "lab.parquet").start.min() >= START


def test_command_line_reports_an_out_folder_it_cannot_create(tmp_path, capsys):
    from helpers.traffic import cli

    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["--duration", "10m", "--out", str(tmp_path / "notes.txt" / "tree")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage:") and "error: cannot write --out" in err


# --- the lab's background ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def background():
    return traffic.generate(["lab_background"], seed=2, duration="3h", explain=True)


def test_the_background_holds_no_traffic_flow_logs_do_not_record(background):
    """DNS to the VPC resolver, IMDS, Amazon Time Sync and DHCP never appear in a flow log."""
    ends = pd.concat([background.srcaddr, background.dstaddr])
    assert not ends.str.startswith("169.254.").any()
    assert not ends.isin(["10.0.0.2"]).any()  # the VPC's resolver (base of the CIDR + 2)
    ports = pd.concat([background.srcport, background.dstport])
    assert not ports.isin([53, 67, 68, 123]).any()


def test_the_private_instances_agents_reach_aws_through_the_nat_gateway(background):
    lab = traffic.default_topology()
    nat = background[background.interface_id == lab.interface("nat").eni_id]
    outside = nat[(nat.srcaddr == lab.interface("nat").private_ip) & (nat.dstport == 443)]
    assert set(outside.dstaddr) == {
        "198.18.0.10", "198.18.0.11", "198.18.0.20", "198.18.0.30"}
    web = background[background.interface_id == lab.interface("web").eni_id]
    assert not web.srcaddr.eq(lab.interface("nat").private_ip).any()  # web goes by the IGW


def test_health_checks_reach_the_web_page_every_30_seconds_from_each_checker(background):
    ok = background[background.log_status == "OK"]
    checks = ok[(ok.dstport == 80) & (ok.action == "ACCEPT")]
    per_checker = checks.groupby("srcaddr").size()
    assert list(per_checker.index) == ["198.18.1.1", "198.18.1.2", "198.18.1.3"]
    # a check every 30 s for 3 hours, less the two of a minute a SKIPDATA window may take
    assert per_checker.between(3 * 3600 // 30 - 3, 3 * 3600 // 30 + 1).all()


def test_the_background_keeps_the_nat_gateway_busy_every_minute(background):
    nat = metrics.nat_metrics(background, traffic.default_topology())
    active = metrics.series(nat, "ActiveConnectionCount")
    assert (active.iloc[2:-2] >= 1).all() and active.median() >= 2
    assert (metrics.series(nat, "BytesOutToDestination").iloc[2:-2] > 0).all()
