"""Traffic analysis of notebook 04: each measurement on records small enough to check by hand,
and on generated scenarios whose ground truth says what the answer must be."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import analysis, detect, traffic
from helpers.errors import MonitoringError
from helpers.monitoring import metrics

LAB = traffic.default_topology()
WEB, PRIVATE, NAT = LAB.interface("web"), LAB.interface("private"), LAB.interface("nat")
T0 = 1639958400  # 2021-12-20T00:00:00Z = 09:00 KST

COLUMNS = ["interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets",
           "bytes", "start", "end", "action", "tcp_flags", "flow_direction", "pkt_srcaddr",
           "pkt_dstaddr", "label"]


def records(*rows) -> pd.DataFrame:
    """Records from tuples in :data:`COLUMNS` order (pkt addresses default to the addresses)."""
    frame = pd.DataFrame(rows, columns=COLUMNS).astype({
        "srcport": "Int32", "dstport": "Int32", "protocol": "Int32", "packets": "Int64",
        "bytes": "Int64", "start": "Int64", "end": "Int64", "tcp_flags": "Int32",
        "action": "string", "interface_id": "string", "srcaddr": "string",
        "dstaddr": "string", "pkt_srcaddr": "string", "pkt_dstaddr": "string",
        "flow_direction": "string", "label": "string"})
    frame["pkt_srcaddr"] = frame["pkt_srcaddr"].fillna(frame["srcaddr"])
    frame["pkt_dstaddr"] = frame["pkt_dstaddr"].fillna(frame["dstaddr"])
    return frame


def web_in(src, sport, dport, t, action="ACCEPT", flags=2, nbytes=1000, packets=10,
           label="web_baseline", end=None):
    return (WEB.eni_id, src, WEB.private_ip, sport, dport, 6, packets, nbytes, t,
            t if end is None else end, action, flags, "ingress", None, None, label)


def web_out(dst, sport, dport, t, action="ACCEPT", flags=18, nbytes=5000, packets=10,
            label="web_baseline", end=None):
    return (WEB.eni_id, WEB.private_ip, dst, sport, dport, 6, packets, nbytes, t,
            t if end is None else end, action, flags, "egress", None, None, label)


NODATA = (WEB.eni_id, None, None, None, None, None, None, None, T0, T0 + 59, None, None, None,
          None, None, "nodata")


@pytest.fixture(scope="module")
def scans():
    return traffic.generate(["port_scan_inbound", "port_scan_outbound"], seed=1, duration="1h")


@pytest.fixture(scope="module")
def download():
    return traffic.generate(["lab_download", "port_scan_outbound"], seed=2, duration="2h")


# --- records ------------------------------------------------------------------------------------


def test_only_records_with_an_action_are_traffic():
    frame = records(NODATA, web_in("192.0.2.1", 40000, 443, T0))
    assert len(analysis.traffic_records(frame)) == 1
    assert analysis.traffic_records(frame, PRIVATE.eni_id).empty


def test_a_request_is_a_tcp_syn_without_syn_ack():
    frame = records(web_in("192.0.2.1", 40000, 443, T0, flags=2),
                    web_in("192.0.2.1", 40001, 443, T0, flags=3),   # SYN + FIN: short connection
                    web_out("192.0.2.1", 443, 40000, T0, flags=18),  # the server's SYN-ACK
                    web_in("192.0.2.1", 40002, 443, T0, flags=None))
    frame.loc[3, "protocol"] = 1
    assert analysis.requests(frame).tolist() == [True, True, False, False]


def test_addresses_inside_the_vpc():
    assert analysis.is_internal(["10.0.1.100", "203.0.113.9", None], LAB.vpc_cidr).tolist() == [
        True, False, False]


@pytest.mark.parametrize("bad, message", [
    ([1, 2], "must be a DataFrame"),
    (pd.DataFrame({"srcaddr": []}), "lacks the columns interface_id, dstaddr"),
])
def test_bad_records_raise_a_course_error(bad, message):
    with pytest.raises(MonitoringError, match=message):
        analysis.traffic_records(bad)


def test_labels_of_addresses_are_the_most_common_label():
    frame = records(web_in("192.0.2.1", 40000, 443, T0, label="ddos"),
                    web_in("192.0.2.1", 40001, 443, T0, label="ddos"),
                    web_in("192.0.2.1", 40002, 443, T0, label="web_baseline"))
    assert analysis.labels_of(["192.0.2.1", "198.51.100.1"], frame)[0] == "ddos"
    assert analysis.labels_of(["198.51.100.1"], frame)[0] is pd.NA


# --- normal and abnormal patterns ----------------------------------------------------------------


def test_hourly_profile_counts_inbound_requests_by_korean_hour():
    frame = records(web_in("192.0.2.1", 40000, 443, T0),              # 09 KST
                    web_out("192.0.2.1", 443, 40000, T0),              # a reply: no connection
                    web_in("192.0.2.2", 40000, 443, T0 + 5 * 3600),   # 14 KST
                    NODATA)
    profile = analysis.hourly_profile(frame, WEB.eni_id)
    assert profile.index.tolist() == list(range(24))
    assert profile.loc[9].tolist() == [1, 2, 6000]
    assert profile.loc[14, "connections"] == 1 and profile["connections"].sum() == 2


def test_port_mix_shares_and_accepted():
    frame = records(web_in("192.0.2.1", 40000, 443, T0), web_in("192.0.2.1", 40001, 443, T0),
                    web_in("192.0.2.9", 50000, 22, T0, action="REJECT"),
                    web_out("192.0.2.1", 443, 40000, T0))
    mix = analysis.port_mix(frame, WEB.eni_id)
    assert mix["dstport"].tolist() == [443, 22]
    assert mix["service"].tolist() == ["HTTPS", "SSH"]
    assert mix["share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert mix["accepted"].tolist() == [1.0, 0.0]


def test_locality_reads_the_packet_addresses_of_a_nat_hop():
    nat_leg = (NAT.eni_id, PRIVATE.private_ip, NAT.private_ip, 40000, 443, 6, 10, 1000, T0, T0,
               "ACCEPT", 2, "ingress", None, "203.0.113.91", "lab_download")
    ssh = (PRIVATE.eni_id, WEB.private_ip, PRIVATE.private_ip, 40000, 22, 6, 10, 300, T0, T0,
           "ACCEPT", 2, "ingress", None, None, "lab_ssh")
    out = analysis.locality(records(nat_leg, ssh, web_in("192.0.2.1", 40000, 443, T0)), LAB)
    # 10.0.11.50 → 10.0.1.200 on the NAT interface, really to 203.0.113.91: not internal
    assert out.loc["nat", "internal_bytes"] == 0.0
    assert out.loc["private", "internal_records"] == 1.0
    assert out.loc["web", "internal_records"] == 0.0
    assert out.index.tolist() == ["web", "private", "nat"]


def test_reject_rates_per_interface_and_period():
    frame = records(web_in("192.0.2.1", 40000, 443, T0),
                    web_in("192.0.2.9", 50000, 22, T0 + 10, action="REJECT"),
                    web_in("192.0.2.9", 50001, 23, T0 + 3600, action="REJECT"), NODATA)
    hourly = analysis.reject_rates(frame, LAB)
    assert hourly["rate"].tolist() == [0.5, 1.0]
    assert hourly["period"].iloc[1] == pd.Timestamp("2021-12-20T01:00Z")
    whole = analysis.reject_rates(frame, LAB, freq=None)
    assert whole.loc[0, ["role", "records", "rejects"]].tolist() == ["web", 3, 2]


def test_inbound_per_minute_fills_quiet_minutes():
    frame = records(web_in("192.0.2.1", 40000, 443, T0, packets=60),
                    web_in("192.0.2.2", 40000, 443, T0 + 30, packets=60),
                    web_in("192.0.2.2", 40000, 443, T0 + 45, flags=16, packets=60),
                    web_in("192.0.2.3", 40000, 443, T0 + 150))
    minute = analysis.inbound_per_minute(frame, WEB.private_ip)
    assert len(minute) == 3 and minute["connections"].tolist() == [2, 0, 1]
    assert minute["sources"].tolist() == [2, 0, 1]
    assert minute["pps"].iloc[0] == 3.0
    span = analysis.inbound_per_minute(frame, WEB.private_ip, start=T0, end=T0 + 600)
    assert len(span) == 10 and span.index[0] == pd.Timestamp("2021-12-20T00:00Z")


def test_scan_profile_shows_the_lessons_three_signs(scans):
    inbound = analysis.scan_profile(scans, traffic.hosts.HOSTS["scanner"]).iloc[0]
    assert inbound["ports"] == 1038 and inbound["rejected"] > 0.99 and inbound["minutes"] < 5


def test_an_outbound_scan_through_the_nat_names_the_real_target_once(scans):
    out = analysis.scan_profile(scans, PRIVATE.private_ip)
    assert out["dstaddr"].tolist() == [traffic.hosts.HOSTS["scan_target"]]
    assert out.loc[0, "requests"] == 1038  # not twice (the NAT's interface logs them again)
    assert out.loc[0, "rejected"] == 0.0  # our security group lets it out: not mostly REJECT


def test_web_directions_groups_requests_and_replies():
    frame = records(web_in("192.0.2.1", 40000, 443, T0), web_out("192.0.2.1", 443, 40000, T0),
                    web_in("192.0.2.9", 50000, 22, T0, action="REJECT"),
                    web_out("203.0.113.80", 41000, 80, T0, flags=2))
    out = analysis.web_directions(frame, WEB.eni_id)
    assert out.index.tolist() == ["ingress: to 80/443", "egress: from 80/443 to 1024-65535",
                                  "ingress: other", "egress: other"]
    assert out["records"].tolist() == [1, 1, 1, 1]
    assert out.loc["ingress: other", "accepted"] == 0.0


def test_every_finding_type_has_a_korean_meaning():
    assert set(analysis.FINDING_MEANINGS) == set(detect.FINDING_TYPES)
    findings = pd.DataFrame({"finding_type": ["Inbound:EC2/DDoS", "Recon:EC2/Portscan",
                                              "Recon:EC2/Portscan"]})
    table = analysis.finding_types(findings)
    assert table["finding_type"].tolist() == ["Recon:EC2/Portscan", "Inbound:EC2/DDoS"]
    assert table["findings"].tolist() == [2, 1] and table["guardduty"].tolist() == [True, False]
    with pytest.raises(MonitoringError, match="detect.detect"):
        analysis.finding_types(pd.DataFrame())


# --- bottlenecks --------------------------------------------------------------------------------


def test_nat_utilisation_is_the_busiest_minute_against_the_documented_limits(download):
    nat = metrics.nat_metrics(download, LAB)
    table = analysis.nat_utilisation(nat)
    both = metrics.series(nat, "BytesInFromSource") + metrics.series(nat, "BytesInFromDestination")
    assert table.loc["bandwidth_gbps", "peak"] == pytest.approx(both.max() * 8 / 60 / 1e9)
    assert table.loc["bandwidth_gbps", "at"] == both.idxmax()
    assert table.loc["bandwidth_gbps", ["limit", "scales_to"]].tolist() == [5, 100]
    assert table.loc["packets_per_second", "limit"] == 1_000_000
    assert table.loc["connections_per_destination", "limit"] == metrics.PORT_LIMIT
    assert (table["used"] < 1).all()


def test_an_outbound_scan_is_what_makes_nat_connections_fail(download):
    failures = analysis.connection_failures(metrics.nat_metrics(download, LAB))
    worst = failures["failure_rate"].idxmax()
    scan = download[download["label"] == "port_scan_outbound"]
    assert worst == pd.Timestamp(int(scan["start"].min()) // 3600 * 3600, unit="s", tz="UTC")
    assert failures.loc[worst, "attempts"] >= 1038 and failures.loc[worst, "failure_rate"] > 0.9
    assert failures["failure_rate"].drop(worst).fillna(0).max() < 0.5


def test_interface_throughput_is_per_instance_and_direction():
    frame = records(web_in("192.0.2.1", 40000, 443, T0, nbytes=7_500_000),
                    web_in("192.0.2.2", 40000, 443, T0 + 30, nbytes=7_500_000),
                    web_out("192.0.2.1", 443, 40000, T0 + 120, nbytes=750_000))
    out = analysis.interface_throughput(frame, LAB)
    assert out.index.tolist() == ["web", "private"]  # the NAT gateway is not an instance
    assert out.loc["web", "peak_in_mbps"] == pytest.approx(2.0)
    assert out.loc["web", "out_at"] == pd.Timestamp("2021-12-20T00:02Z")
    assert out.loc["private", "peak_in_mbps"] == 0.0


def test_connections_join_both_directions_and_skip_pings():
    ping = (WEB.eni_id, "198.51.100.10", WEB.private_ip, 0, 0, 1, 4, 336, T0, T0 + 3, "ACCEPT",
            None, "ingress", None, None, "admin_ping")
    frame = records(web_in("192.0.2.1", 40000, 443, T0, end=T0 + 59),
                    web_out("192.0.2.1", 443, 40000, T0, end=T0 + 59),
                    web_in("192.0.2.1", 40000, 443, T0 + 60, flags=17, end=T0 + 130),
                    web_in("192.0.2.9", 50000, 22, T0 + 5, action="REJECT"), ping)
    conns = analysis.connections(frame, WEB.eni_id)
    assert len(conns) == 2
    web = conns[conns["server_port"] == 443].iloc[0]
    assert (web["client"], web["server"]) == ("192.0.2.1:40000", "10.0.1.100:443")
    assert (web["seconds"], web["records"], web["accepted"]) == (130, 3, True)
    assert not conns.loc[conns["server_port"] == 22, "accepted"].iloc[0]


def test_concurrent_connections_count_every_minute_a_connection_spans():
    frame = records(web_in("192.0.2.1", 40000, 443, T0, end=T0 + 150),
                    web_in("192.0.2.2", 40000, 443, T0 + 70, end=T0 + 80),
                    web_in("192.0.2.9", 50000, 22, T0, action="REJECT"))
    open_ = analysis.concurrent_connections(frame, WEB.eni_id)
    assert open_.tolist() == [1, 2, 1]
    assert open_.index[0] == pd.Timestamp("2021-12-20T00:00Z")
    assert analysis.concurrent_connections(frame, PRIVATE.eni_id).empty


def test_top_talkers_sum_both_directions_on_one_interface():
    frame = records(web_in("192.0.2.1", 40000, 443, T0, nbytes=100),
                    web_out("192.0.2.1", 443, 40000, T0, nbytes=900),
                    web_in("192.0.2.2", 40000, 443, T0, nbytes=5000, label="ddos"))
    top = analysis.top_talkers(frame, WEB.eni_id, n=1)
    assert top.iloc[0][["peer", "bytes_in", "bytes_out", "bytes", "records"]].tolist() == [
        "192.0.2.2", 5000, 0, 5000, 1]
    assert top.iloc[0]["label"] == "ddos"


def test_rejects_by_port_counts_inbound_rejects_only():
    frame = records(web_in("192.0.2.9", 50000, 22, T0, action="REJECT", label="ssh_brute_force"),
                    web_in("192.0.2.9", 50001, 22, T0, action="REJECT", label="ssh_brute_force"),
                    web_in("192.0.2.8", 50001, 23, T0, action="REJECT", label="internet_noise"),
                    web_out("192.0.2.1", 443, 40000, T0, action="REJECT"))
    out = analysis.rejects_by_port(frame, LAB.vpc_cidr)
    assert out[["dstport", "service", "rejects", "sources", "label"]].values.tolist() == [
        [22, "SSH", 2, 1, "ssh_brute_force"], [23, "Telnet", 1, 1, "internet_noise"]]


def test_nat_processed_bytes_add_up_to_the_nat_metrics(download):
    processed = analysis.nat_processed(download, LAB)
    nat = metrics.nat_metrics(download, LAB)
    total = (metrics.series(nat, "BytesInFromSource").sum()
             + metrics.series(nat, "BytesInFromDestination").sum())
    assert processed["bytes"].sum() == total
    top = processed.iloc[0]
    assert (top["peer"], top["label"]) == (traffic.hosts.HOSTS["mirror"], "lab_download")
    assert top["download"] > 10 * top["upload"]
    assert np.array_equal(processed["bytes"], processed["upload"] + processed["download"])


def test_probes_of_an_outbound_scan_are_counted_on_the_instance(scans):
    seen = analysis.probes(scans, PRIVATE.private_ip)
    assert set(seen["interface_id"]) == {PRIVATE.eni_id}
    assert seen["start"].is_monotonic_increasing and seen["dstport"].nunique() == 1038
    assert analysis.probes(scans, "198.51.100.1").empty


def test_with_times_converts_epoch_seconds():
    frame = pd.DataFrame({"start": [T0], "end": [T0 + 60]})
    out = analysis.with_times(frame, tz=analysis.KST)
    assert out.loc[0, "start"] == pd.Timestamp("2021-12-20T09:00+09:00")
    assert frame.loc[0, "start"] == T0  # the original is not changed


def test_run_with_warnings_returns_the_lessons_field_warnings():
    frame = records(web_in("192.0.2.9", 50000, 22, T0, action="REJECT"))
    result, messages = analysis.run_with_warnings(
        'filter action = "REJECT" | stats count(*) as n by srcaddr', frame)
    assert result["n"].tolist() == [1]
    assert len(messages) == 1 and "Did you mean 'srcAddr'?" in messages[0]


def test_finding_labels_name_the_attack_behind_each_finding():
    day = traffic.generate(["web_baseline", "ddos", "traffic_spike", "ssh_brute_force"], seed=4,
                           duration="6h")
    found = detect.detect(day, detectors=["traffic_spike", "ddos", "ssh_brute_force"])
    truth = analysis.finding_labels(found, day, ["ddos", "traffic_spike", "ssh_brute_force"])
    expected = {"Inbound:EC2/DDoS": {"ddos"}, "Inbound:EC2/TrafficSpike": {"ddos", "traffic_spike"},
                "UnauthorizedAccess:EC2/SSHBruteForce": {"ssh_brute_force"}}
    assert len(truth) == len(found) > 0
    for finding_type, label in zip(found["finding_type"], truth):
        assert label in expected[finding_type]
    none = found.head(1).assign(start=T0 - 600, end=T0 - 300)
    assert analysis.finding_labels(none, day, ["ddos"])[0] is pd.NA


def test_finding_labels_take_findings_with_readable_times():
    day = traffic.generate(["web_baseline", "ssh_brute_force"], seed=5, duration="3h")
    found = detect.detect_ssh_brute_force(day)
    assert analysis.finding_labels(analysis.with_times(found), day, ["ssh_brute_force"]) == \
        ["ssh_brute_force"] * len(found)
