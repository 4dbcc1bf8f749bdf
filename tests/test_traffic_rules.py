"""Security groups and network ACLs: the vectorised evaluator against the scalar reference."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from helpers.errors import TrafficError
from helpers.traffic import rules
from helpers.traffic.topology import ALL, ICMP, TCP, UDP, NaclEntry, SgRule, default_topology

PEERS = ["10.0.1.100", "10.0.1.200", "10.0.11.50", "10.0.2.7", "198.51.100.10",
         "203.0.113.66", "8.8.8.8", "192.0.2.1"]
PORTS = {TCP: [22, 80, 443, 3306, 1023, 1024, 32768, 60999, 65535], UDP: [53, 1024, 40000],
         ICMP: [0, 3, 8]}


def _with_group_reference():
    """The default VPC plus a private-sg rule that trusts web-sg by reference, and a deny."""
    topo = default_topology()
    private = topo.security_group("sg-02a1b2c3d4e5f6000")
    extra = SgRule("ingress", TCP, 3306, 3306, source_group="web-sg", description="MySQL")
    groups = tuple(replace(g, rules=(*g.rules, extra)) if g is private else g
                   for g in topo.security_groups)
    topo = replace(topo, security_groups=groups)
    return topo.with_nacl_entry(topo.interface("web").subnet_id,
                                NaclEntry(90, False, ALL, "deny", "203.0.113.66/32"))


@pytest.mark.parametrize("topology", [default_topology(), _with_group_reference()],
                         ids=["default", "group-reference-and-deny"])
def test_vectorised_rules_agree_with_the_scalar_reference(topology):
    cases = [(eni.eni_id, direction, peer, proto, port, response)
             for eni in topology.interfaces
             for direction in ("ingress", "egress")
             for peer in PEERS
             for proto, ports in PORTS.items() for port in ports
             for response in (False, True)]
    interface, direction, peer, proto, port, response = map(list, zip(*cases))
    got = rules.allowed(topology, interface, direction, rules.ipv4_to_int(peer), proto, port,
                        response)
    expected = [rules.evaluate(topology, *case[:5], is_response=case[5]) for case in cases]
    assert got.tolist() == expected


def test_both_outcomes_occur_in_the_grid():
    topo = default_topology()
    verdicts = {rules.evaluate(topo, e.role, d, p, TCP, 22)
                for e, d, p in itertools.product(topo.interfaces, ("ingress", "egress"), PEERS)}
    assert verdicts == {True, False}


def test_security_group_rejects_mysql_from_the_public_subnet():
    verdict = rules.check(default_topology(), "private", "ingress", "10.0.1.100", TCP, 3306)
    assert verdict.action == "REJECT" and "security group" in verdict.reason


def test_security_group_allows_ssh_from_the_public_subnet():
    assert rules.evaluate(default_topology(), "private", "ingress", "10.0.1.100", TCP, 22)


def test_ping_reply_to_the_admin_is_denied_by_the_stateless_nacl():
    topo = default_topology()
    assert rules.evaluate(topo, "web", "ingress", "198.51.100.10", ICMP, 8)
    reply = rules.check(topo, "web", "egress", "198.51.100.10", ICMP, 0, is_response=True)
    assert reply.action == "REJECT" and "implicit deny" in reply.reason


def test_responses_pass_security_groups_but_not_nacls():
    topo = default_topology()
    # The web instance's reply to a client's ephemeral port: no egress SG rule is needed...
    assert rules.evaluate(topo, "web", "egress", "192.0.2.1", TCP, 40000, is_response=True)
    # ...but an inbound response to a port below 1024 is outside the NACL's ephemeral range.
    assert not rules.evaluate(topo, "web", "ingress", "192.0.2.1", TCP, 1023, is_response=True)


def test_a_nacl_deny_entry_wins_over_a_later_allow():
    topo = _with_group_reference()
    verdict = rules.check(topo, "web", "ingress", "203.0.113.66", TCP, 443)
    assert verdict.action == "REJECT" and "rule 90" in verdict.reason
    assert rules.evaluate(topo, "web", "ingress", "203.0.113.67", TCP, 443)


def test_traffic_within_one_subnet_skips_the_nacl():
    topo = default_topology()
    subnet = topo.interface("web").subnet_id
    walled = topo.with_nacl_entry(subnet, NaclEntry(10, False, ALL, "deny", "0.0.0.0/0"))
    assert rules.evaluate(walled, "web", "ingress", "10.0.1.200", TCP, 80)  # NAT, same subnet
    assert not rules.evaluate(walled, "web", "ingress", "10.0.11.50", TCP, 80)


def test_a_group_reference_matches_member_interfaces_only():
    topo = _with_group_reference()
    assert rules.evaluate(topo, "private", "ingress", "10.0.1.100", TCP, 3306)  # web-sg member
    assert not rules.evaluate(topo, "private", "ingress", "10.0.1.200", TCP, 3306)  # the NAT


def test_the_nat_interface_has_no_security_group_check():
    topo = default_topology()
    assert rules.evaluate(topo, "nat", "ingress", "10.0.11.50", TCP, 5555)


def test_addresses_convert_both_ways():
    text = ["0.0.0.0", "10.0.1.100", "203.0.113.66", "255.255.255.255"]
    values = rules.ipv4_to_int(text)
    assert values.dtype == np.uint32
    assert rules.int_to_ipv4(values) == text


def test_unknown_interface_is_a_traffic_error():
    with pytest.raises(TrafficError, match="unknown interface 'eni-nope'"):
        rules.allowed(default_topology(), "eni-nope", "ingress", 0, TCP, 80)


def test_bad_direction_is_a_traffic_error():
    with pytest.raises(TrafficError, match="direction must be 'ingress' or 'egress'"):
        rules.check(default_topology(), "web", "inbound", "8.8.8.8", TCP, 80)
