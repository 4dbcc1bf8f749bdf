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
    expected = [rules.is_allowed(topology, *case[:5], is_response=case[5]) for case in cases]
    assert got.tolist() == expected


def test_both_outcomes_occur_in_the_grid():
    topo = default_topology()
    verdicts = {rules.is_allowed(topo, e.role, d, p, TCP, 22)
                for e, d, p in itertools.product(topo.interfaces, ("ingress", "egress"), PEERS)}
    assert verdicts == {True, False}


def test_security_group_rejects_mysql_from_the_public_subnet():
    verdict = rules.check(default_topology(), "private", "ingress", "10.0.1.100", TCP, 3306)
    assert verdict.action == "REJECT" and "security group" in verdict.reason


def test_security_group_allows_ssh_from_the_public_subnet():
    assert rules.is_allowed(default_topology(), "private", "ingress", "10.0.1.100", TCP, 22)


def test_ping_reply_to_the_admin_is_denied_by_the_stateless_nacl():
    topo = default_topology()
    assert rules.is_allowed(topo, "web", "ingress", "198.51.100.10", ICMP, 8)
    reply = rules.check(topo, "web", "egress", "198.51.100.10", ICMP, 0, is_response=True)
    assert reply.action == "REJECT" and "implicit deny" in reply.reason


def test_responses_pass_security_groups_but_not_nacls():
    topo = default_topology()
    # The web instance's reply to a client's ephemeral port: no egress SG rule is needed...
    assert rules.is_allowed(topo, "web", "egress", "192.0.2.1", TCP, 40000, is_response=True)
    # ...but an inbound response to a port below 1024 is outside the NACL's ephemeral range.
    assert not rules.is_allowed(topo, "web", "ingress", "192.0.2.1", TCP, 1023, is_response=True)


def test_a_nacl_deny_entry_wins_over_a_later_allow():
    topo = _with_group_reference()
    verdict = rules.check(topo, "web", "ingress", "203.0.113.66", TCP, 443)
    assert verdict.action == "REJECT" and "rule 90" in verdict.reason
    assert rules.is_allowed(topo, "web", "ingress", "203.0.113.67", TCP, 443)


def test_traffic_within_one_subnet_skips_the_nacl():
    topo = default_topology()
    subnet = topo.interface("web").subnet_id
    walled = topo.with_nacl_entry(subnet, NaclEntry(10, False, ALL, "deny", "0.0.0.0/0"))
    assert rules.is_allowed(walled, "web", "ingress", "10.0.1.200", TCP, 80)  # NAT, same subnet
    assert not rules.is_allowed(walled, "web", "ingress", "10.0.11.50", TCP, 80)


def test_a_group_reference_matches_member_interfaces_only():
    topo = _with_group_reference()
    assert rules.is_allowed(topo, "private", "ingress", "10.0.1.100", TCP, 3306)  # web-sg member
    assert not rules.is_allowed(topo, "private", "ingress", "10.0.1.200", TCP, 3306)  # the NAT


def test_the_nat_interface_has_no_security_group_check():
    topo = default_topology()
    assert rules.is_allowed(topo, "nat", "ingress", "10.0.11.50", TCP, 5555)


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


# --- bad arguments ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["10.0.0.256", "10.0.0", "10.0.0.1.5", "10.0.0.x", "", "-1.0.0.0",
                                  " 10.0.0.1", "10..0.1"])
def test_a_malformed_address_is_a_traffic_error_naming_it(text):
    with pytest.raises(TrafficError, match=f"addresses: {text!r} is not a dotted IPv4"):
        rules.ipv4_to_int(["8.8.8.8", text])


@pytest.mark.parametrize("values", [[None], [5], [[1, 2]]])
def test_addresses_that_are_not_text_are_a_traffic_error(values):
    with pytest.raises(TrafficError, match="addresses"):
        rules.ipv4_to_int(values)


@pytest.mark.parametrize("value", [-1, 2**32, 1.5, "ten", True])
def test_an_integer_out_of_the_ipv4_range_is_a_traffic_error(value):
    with pytest.raises(TrafficError, match=f"values: {value!r} is not an IPv4 address"):
        rules.int_to_ipv4([0, value])


@pytest.mark.parametrize("peer", ["10.0.0.999", "nope", None, -1])
def test_check_refuses_a_malformed_peer(peer):
    with pytest.raises(TrafficError, match=f"peer must be a dotted IPv4 address.*not {peer!r}"):
        rules.check(default_topology(), "web", "ingress", peer, TCP, 80)


@pytest.mark.parametrize("protocol, port, name", [
    (TCP, 70000, "port"), (TCP, -1, "port"), (TCP, "80", "port"), (ICMP, 300, "port"),
    (TCP, 80.0, "port"), ("tcp", 80, "protocol"), (256, 80, "protocol"), (True, 80, "protocol")])
def test_check_refuses_a_port_or_protocol_out_of_range(protocol, port, name):
    bad = port if name == "port" else protocol
    with pytest.raises(TrafficError, match=f"{name} must be a whole number.*not {bad!r}"):
        rules.check(default_topology(), "web", "ingress", "8.8.8.8", protocol, port)


def test_check_suggests_a_role_for_a_misspelt_interface():
    with pytest.raises(TrafficError, match="unknown interface 'wbe'; did you mean 'web'"):
        rules.check(default_topology(), "wbe", "ingress", "8.8.8.8", TCP, 80)


@pytest.mark.parametrize("kwargs, message", [
    (dict(peer="8.8.8.8"), "peer must be whole numbers.*ipv4_to_int.*'8.8.8.8'"),
    (dict(peer=-1), "peer must be whole numbers from 0 to 4294967295.*not -1"),
    (dict(port=[80, 70000]), "port must be whole numbers from 0 to 65535.*not 70000"),
    (dict(protocol="tcp"), "protocol must be whole numbers.*'tcp'"),
    (dict(interface=7), "interface must be an ENI ID.*index 0 to 2, not 7"),
    (dict(interface=-1), "not -1"),
    (dict(interface="eni-01a1b2c3d4e5f6001"), "unknown interface 'eni-01a1b2c3d4e5f6001'; "
                                              "did you mean 'eni-01a1b2c3d4e5f6000'"),
    (dict(port=[80, 443, 22], peer=[1, 2]), "scalars or arrays of one length.*peer \\(2,\\)"),
    (dict(is_response="no"), "is_response must be True or False"),
    (dict(topology="lab"), "topology must be a Topology.*not str"),
])
def test_allowed_refuses_malformed_arguments_naming_them(kwargs, message):
    args = dict(topology=default_topology(), interface=0, direction="ingress",
                peer=rules.ipv4_to_int("8.8.8.8"), protocol=TCP, port=80)
    args.update(kwargs)
    with pytest.raises(TrafficError, match=message):
        rules.allowed(**args)


def test_allowed_at_refuses_an_interface_index_out_of_range():
    with pytest.raises(TrafficError, match="index must be an interface's position.*not 3"):
        rules.allowed_at(default_topology(), 3, False, [0], TCP, 80)


# --- topology lookups and rules -------------------------------------------------------------


@pytest.mark.parametrize("lookup, message", [
    (lambda t: t.interface("nope"), "no interface with role 'nope'; it has web, private, nat"),
    (lambda t: t.interface("privat"), "did you mean 'private'"),
    (lambda t: t.subnet("subnet-nope"), "no subnet 'subnet-nope'"),
    (lambda t: t.security_group("sg-nope"), "no security group 'sg-nope'"),
    (lambda t: t.network_acl_for("subnet-nope"), "no network ACL for subnet 'subnet-nope'"),
])
def test_an_unknown_topology_name_is_a_traffic_error_and_still_a_key_error(lookup, message):
    from helpers.errors import TopologyLookupError

    with pytest.raises(TopologyLookupError, match=message) as caught:
        lookup(default_topology())
    assert isinstance(caught.value, TrafficError) and isinstance(caught.value, KeyError)
    assert str(caught.value).startswith("the topology has no ")  # not KeyError's quoted repr


def test_a_duplicate_nacl_rule_number_is_a_traffic_error():
    topo = default_topology()
    with pytest.raises(TrafficError, match="already has ingress rule 100; choose another"):
        topo.with_nacl_entry(topo.interface("web").subnet_id,
                             NaclEntry(100, False, ALL, "deny", "0.0.0.0/0"))


@pytest.mark.parametrize("make, message", [
    (lambda: NaclEntry(90, False, ALL, "permit", "0.0.0.0/0"), "action must be 'allow' or "
                                                             "'deny', not 'permit'"),
    (lambda: NaclEntry(90, False, ALL, "deny", "203.0.113.0/33"), "cidr must be an IPv4 CIDR"),
    (lambda: NaclEntry(0, False, ALL, "deny", "0.0.0.0/0"), "rule_number must be a whole "
                                                           "number from 1 to 32766, not 0"),
    (lambda: NaclEntry(90, "in", ALL, "deny", "0.0.0.0/0"), "egress must be True"),
    (lambda: NaclEntry(90, False, TCP, "deny", "0.0.0.0/0", 443, 80), "from_port 443 is above"),
    (lambda: NaclEntry(90, False, TCP, "deny", "0.0.0.0/0", 0, 70000), "to_port.*not 70000"),
    (lambda: SgRule("inbound", TCP, 22, 22, "0.0.0.0/0"), "direction must be 'ingress' or "
                                                         "'egress', not 'inbound'"),
    (lambda: SgRule("ingress", "tcp", 22, 22, "0.0.0.0/0"), "protocol must be a whole number"),
    (lambda: SgRule("ingress", TCP, 22, 22), "exactly one peer"),
    (lambda: SgRule("ingress", TCP, 22, 22, "10.0.0.0/8", "web-sg"), "exactly one peer"),
    (lambda: SgRule("ingress", TCP, 22, 22, "10.0.0.300/8"), "cidr must be an IPv4 CIDR"),
])
def test_a_malformed_rule_is_refused_when_it_is_made(make, message):
    with pytest.raises(TrafficError, match=message):
        make()


@pytest.mark.parametrize("kwargs, message", [
    (dict(account_id="12345"), "account_id must be an AWS account ID.*'12345'"),
    (dict(account_id=123456789012), "account_id.*not 123456789012"),
    (dict(region="../x"), "region must be an AWS Region code.*'../x'"),
])
def test_default_topology_checks_its_account_and_region(kwargs, message):
    with pytest.raises(TrafficError, match=message):
        default_topology(**kwargs)


def test_an_unknown_host_or_pool_suggests_a_name():
    from helpers.traffic import hosts

    with pytest.raises(TrafficError, match="unknown host 'scaner'; did you mean 'scanner'"):
        hosts.address("scaner")
    with pytest.raises(TrafficError, match="unknown host pool 'bots'"):
        hosts.pool("bots")
