"""The live lab's pure parts: layout, rulesets, commands, records and predictions (no root)."""

from __future__ import annotations

import pytest

from helpers import netlab, traffic
from helpers.errors import CourseError, NetlabError
from helpers.netlab import commands, plan, records, rulesets
from helpers.netlab.records import Packet

TOPO = traffic.default_topology()


def test_the_layout_keeps_the_lab_inside_its_namespaces():
    layout = plan.layout(TOPO, "abc123")
    assert all(ns.startswith(plan.NAMESPACE_PREFIX) for ns in layout.all_namespaces)
    ends = {link.a_ns for link in layout.links} | {link.b_ns for link in layout.links}
    assert ends <= set(layout.all_namespaces)  # no link has an end in the host
    for address in (*plan.INTERNET_HOSTS.values(), *plan.PUBLIC_ADDRESSES.values()):
        assert plan.in_documentation_range(address)
    igw = [args for ns, args in layout.routes if ns == layout.namespaces["igw"]]
    assert not any(a.startswith("default") for a in igw)  # nothing routed beyond RFC 5737


def test_a_bad_tag_is_refused():
    with pytest.raises(NetlabError, match="1-8 letters or digits"):
        plan.layout(TOPO, "no/slash")


def test_the_rulesets_follow_the_spec():
    web = rulesets.instance_ruleset(TOPO, "web")
    assert 'hook ingress device "eth0"' in web
    assert "ip saddr 198.51.100.0/24 tcp dport 22 accept  # public-nacl rule 120" in web
    assert "ct state established,related accept" in web
    assert "goto deny  # public-nacl rule * deny" in web
    nat = rulesets.instance_ruleset(TOPO, "nat")
    assert "table inet" not in nat  # a NAT gateway has no security group
    router = rulesets.router_ruleset(TOPO)
    assert "icmp type 8 goto sg_web  # public-nacl rule 120 allow" in router
    assert 'iifname "v-private" meta nfproto ipv4 jump out_private' in router


def test_a_nacl_deny_entry_becomes_a_kernel_drop_before_later_allows():
    deny = traffic.NaclEntry(90, False, 6, "deny", "203.0.113.0/24", 0, 65535)
    topo = TOPO.with_nacl_entry(TOPO.interface("web").subnet_id, deny)
    text = rulesets.instance_ruleset(topo, "web")
    assert text.index("rule 90 deny") < text.index("rule 100 allow")
    assert "ip saddr 203.0.113.0/24 meta l4proto tcp goto deny" in text


@pytest.mark.parametrize("host, command, expected", [
    ("web", "curl http://httpbin.org/ip", [("203.0.113.80", 80, "http")]),
    ("web", "ssh ec2-user@private", [("10.0.11.50", 22, "ssh")]),
    ("web", "telnet private 3306", [("10.0.11.50", 3306, "probe")]),
    ("client", "curl http://web/", [("203.0.113.200", 80, "http")]),
    ("private", "wget https://releases.ubuntu.com/x.iso", [("203.0.113.91", 443, "bulk")]),
    ("scanner", "nmap -p 22,80 web", [("203.0.113.200", 22, "probe"),
                                      ("203.0.113.200", 80, "probe")]),
])
def test_the_lessons_commands_become_connections(host, command, expected):
    conns = commands.parse(TOPO, host, command)
    assert [(c.dst, c.dport, c.mode) for c in conns] == expected


@pytest.mark.parametrize("host, command, message", [
    ("web", "ping -c 5 8.8.8.8", "192.0.2.53 instead of 8.8.8.8"),
    ("web", "curl http://example.com/", "not a host of the lab"),
    ("client", "ssh private", "no public address"),
    ("webb", "curl http://httpbin.org/ip", "did you mean 'web'"),
    ("web", "rm -rf /", "the lab runs curl"),
])
def test_commands_outside_the_lab_are_refused(host, command, message):
    with pytest.raises(NetlabError, match=message):
        commands.parse(TOPO, host, command)
    assert issubclass(NetlabError, CourseError)


def test_unknown_scenario_suggests_one():
    with pytest.raises(NetlabError, match="did you mean 'lab2'"):
        commands.scenario_steps("lab3")


def test_tcp_flags_are_or_ed_as_aws_does():
    assert netlab.tcp_flags([2, 16, 24, 17]) == 3
    assert netlab.tcp_flags([18, 24, 17]) == 19
    assert netlab.tcp_flags([2, 20]) == 6  # SYN, then RST: a refused connection
    assert netlab.tcp_flags([16, 24]) == 0


def _nat_packets():
    """A download through the NAT gateway, as the captures see it."""
    private, nat, mirror = "10.0.11.50", "10.0.1.200", "203.0.113.91"
    return {
        "web": [],
        "private": [Packet(100.0, True, private, mirror, 6, 41000, 443, 60, 2),
                    Packet(100.1, False, mirror, private, 6, 443, 41000, 1500, 18)],
        "nat": [Packet(100.0, False, private, mirror, 6, 41000, 443, 60, 2),
                Packet(100.0, True, nat, mirror, 6, 41000, 443, 60, 2),
                Packet(100.1, False, mirror, nat, 6, 443, 41000, 1500, 18),
                Packet(100.1, True, mirror, private, 6, 443, 41000, 1500, 18)],
    }


def test_records_at_the_nat_gateway_use_its_own_address():
    frame = records.to_records(_nat_packets(), {}, TOPO, t0=100.0, t1=101.0, interval=60,
                               labels=[(100.0, "wget")])
    nat = frame[frame["interface_id"] == TOPO.interface("nat").eni_id]
    from_private = nat[(nat["flow_direction"] == "ingress") & (nat["srcaddr"] == "10.0.11.50")]
    assert from_private[["dstaddr", "pkt_dstaddr"]].values.tolist() == [
        ["10.0.1.200", "203.0.113.91"]]
    to_private = nat[(nat["flow_direction"] == "egress") & (nat["pkt_dstaddr"] == "10.0.11.50")]
    assert to_private[["srcaddr", "pkt_srcaddr", "tcp_flags"]].values.tolist() == [
        ["10.0.1.200", "203.0.113.91", 18]]
    assert set(frame["label"]) == {"wget", "nodata"}  # the web instance was idle: NODATA
    assert (frame["aggregation_interval"] == 60).all()


def test_records_take_the_kernels_action_and_write_icmp_ports_as_zero():
    web, admin = "10.0.1.100", "198.51.100.10"
    packets = {"web": [Packet(5.0, False, admin, web, 1, 0, 0, 84, 0, 8),
                       Packet(5.0, True, web, admin, 1, 0, 0, 84, 0, 0)]}
    rejected = {("web", "egress"): {(web, admin, 1, 0, 0): 1}}
    frame = records.to_records(packets, rejected, TOPO, t0=0.0, t1=10.0, interval=60,
                               explain=True)
    assert sorted(frame[["flow_direction", "action", "srcport", "dstport"]].values.tolist()) \
        == [["egress", "REJECT", 0, 0], ["ingress", "ACCEPT", 0, 0]]
    table = netlab.agreement(frame.assign(label="ping"))
    assert table["agree"].all()


def test_records_load_back_and_run_the_lessons_queries(tmp_path):
    from helpers import flowlogs, insights
    from helpers.queries import load, names

    frame = records.to_records(_nat_packets(), {}, TOPO, t0=100.0, t1=101.0, interval=60)
    back = flowlogs.read(flowlogs.write_text(frame, tmp_path / "lab.log"))
    assert back[list(records.COLUMNS)].equals(frame[list(records.COLUMNS)])
    for name in names():
        insights.run(load(name).insights, back)


def test_the_prediction_agrees_with_the_evaluator_and_differs_in_size():
    predicted = netlab.predict("all")
    assert set(predicted["action"]) == {"ACCEPT", "REJECT"}
    ping = predicted[predicted["label"] == "ping -c 3 web"]
    assert ping[["flow_direction", "action"]].values.tolist() == [
        ["ingress", "ACCEPT"], ["egress", "REJECT"]]


def test_interval_and_topology_are_checked():
    with pytest.raises(NetlabError, match="whole number of seconds"):
        netlab.Lab(interval=0)
    with pytest.raises(NetlabError, match="must be a Topology"):
        netlab.Lab(topology="web")


def test_agreement_needs_the_explained_columns():
    frame = records.to_records({}, {}, TOPO, t0=0.0, t1=1.0, interval=60)
    with pytest.raises(NetlabError, match="explain=True"):
        netlab.agreement(frame.drop(columns="label"))


def test_missing_says_what_to_install(monkeypatch):
    from helpers.netlab import system

    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(system, "_have", lambda tool: tool != "nft")
    problems = system.missing()
    assert any("needs root" in p for p in problems)
    assert any("apt-get install nftables iproute2" in p for p in problems)
    with pytest.raises(NetlabError, match="Every other notebook works without it"):
        system.require()
    with pytest.raises(NetlabError, match="needs root"):
        netlab.Lab().start()


def test_a_flow_longer_than_the_interval_gives_one_record_per_interval():
    web, httpbin = "10.0.1.100", "203.0.113.80"
    packets = {"web": [Packet(0.5, True, web, httpbin, 6, 41000, 80, 60, 2),
                       Packet(1.5, True, web, httpbin, 6, 41000, 80, 52, 16),
                       Packet(2.5, True, web, httpbin, 6, 41000, 80, 52, 17)]}
    frame = records.to_records(packets, {}, TOPO, t0=0.0, t1=3.0, interval=2)
    assert frame[["packets", "bytes", "tcp_flags", "start", "end"]].values.tolist() == [
        [2, 112, 2, 0, 1], [1, 52, 1, 2, 2]]
    assert frame.attrs["aggregation_interval"] == 2


def test_the_command_line_says_what_is_missing(monkeypatch, capsys):
    from helpers.netlab import cli, system

    monkeypatch.setattr(system, "missing", lambda: ["the lab needs root"])
    assert cli.main(["check"]) == 1
    assert "cannot run: the lab needs root" in capsys.readouterr().out
    assert cli.main(["run", "lab2", "--out", "unused"]) == 2
    assert "Every other notebook works without it" in capsys.readouterr().out
