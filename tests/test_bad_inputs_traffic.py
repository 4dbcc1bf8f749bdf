"""Every public function of the traffic generator refuses an ordinary mistake with a course
error that names what was wrong, never a raw KeyError, TypeError, ValueError or numpy error.

One table: (what is called, the call, a piece of text the message must contain). The command
line turns these errors into exit status 2 (see tests/test_traffic.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.errors import CourseError
from helpers.traffic import generator, hosts, records, rules, scenarios
from helpers.traffic.topology import ALL, TCP, NaclEntry, SgRule, default_topology

TOPO = default_topology()
START = generator.LESSON_START
CTX = scenarios.Context(TOPO, START, START + 600)
FLOWS = scenarios.build("lab_ping", CTX, np.random.default_rng(0))[0]
DENY_ALL = NaclEntry(10, False, ALL, "deny", "0.0.0.0/0")

CASES = [
    # generate(): every argument
    ("generate scenarios", lambda: generator.generate("port_scn"), "'port_scn'"),
    ("generate scenarios type", lambda: generator.generate(42), "scenarios"),
    ("generate scenario item", lambda: generator.generate(["ddos", None]), "None"),
    ("generate seed negative", lambda: generator.generate(seed=-1), "seed"),
    ("generate seed float", lambda: generator.generate(seed=1.5), "seed"),
    ("generate seed text", lambda: generator.generate(seed="7"), "seed"),
    ("generate seed bool", lambda: generator.generate(seed=True), "seed"),
    ("generate start nan", lambda: generator.generate(start=float("nan")), "start"),
    ("generate start inf", lambda: generator.generate(start=float("inf")), "start"),
    ("generate start 1969", lambda: generator.generate(start="1969-07-20"), "'1969-07-20'"),
    ("generate start ms", lambda: generator.generate(start=START * 1000), "milliseconds"),
    ("generate start text", lambda: generator.generate(start="yesterday"), "'yesterday'"),
    ("generate start type", lambda: generator.generate(start=[START]), "start"),
    ("generate duration text", lambda: generator.generate(duration="1 week"), "'1 week'"),
    ("generate duration inf", lambda: generator.generate(duration=float("inf")), "duration"),
    ("generate duration huge", lambda: generator.generate(duration="100000d"), "'100000d'"),
    ("generate duration 10**12", lambda: generator.generate(duration=10**12), "duration"),
    ("generate scale nan", lambda: generator.generate(scale=float("nan")), "scale"),
    ("generate scale inf", lambda: generator.generate(scale=float("inf")), "scale"),
    ("generate scale text", lambda: generator.generate(scale="2"), "scale"),
    ("generate scale huge", lambda: generator.generate(scale=10**5, duration="1d"), "limit"),
    ("generate aggregation", lambda: generator.generate(aggregation=300), "aggregation"),
    ("generate topology", lambda: generator.generate(topology="lab"), "topology"),
    ("generate explain", lambda: generator.generate(explain="no"), "explain"),
    ("parse_duration", lambda: generator.parse_duration("-5m"), "'-5m'"),
    ("parse_start", lambda: generator.parse_start(-1), "-1"),
    ("scenario_names", lambda: generator.scenario_names("lab_pign"), "'lab_pign'"),
    ("estimate_records", lambda: generator.estimate_records(["dos"], 60), "'dos'"),
    ("estimate_records scale", lambda: generator.estimate_records(scale="big"), "'big'"),
    ("estimate_records interfaces", lambda: generator.estimate_records(interfaces=-3), "-3"),
    ("az_id", lambda: generator.az_id("seoul"), "'seoul'"),
    # scenarios
    ("build", lambda: scenarios.build("web", CTX, np.random.default_rng(0)), "'web'"),
    ("check_name", lambda: scenarios.check_name(3), "3"),
    ("expected_records", lambda: scenarios.expected_records("ddos2", 1), "'ddos2'"),
    ("Context.ip", lambda: CTX.ip("database"), "'database'"),
    # records
    ("route", lambda: records.route(TOPO, "web", "db"), "'db'"),
    ("route topology", lambda: records.route(None, "web", "internet"), "topology"),
    ("assign_ports", lambda: records.assign_ports([FLOWS, "x"], np.random.default_rng(0)),
     "batches"),
    ("assign_ports rng", lambda: records.assign_ports([FLOWS], 0), "rng"),
    ("to_records flows", lambda: records.to_records(
        "flows", TOPO, scenario_code=0, start=START, end=START + 60, window=60), "flows"),
    ("to_records window", lambda: records.to_records(
        FLOWS, TOPO, scenario_code=0, start=START, end=START + 60, window=0), "window"),
    ("to_records span", lambda: records.to_records(
        FLOWS, TOPO, scenario_code=0, start=START, end=START, window=60), "end"),
    # rules
    ("ipv4_to_int", lambda: rules.ipv4_to_int(["10.0.0.1", "10.0.0.256"]), "'10.0.0.256'"),
    ("ipv4_to_int short", lambda: rules.ipv4_to_int("10.0.1"), "'10.0.1'"),
    ("ipv4_to_int none", lambda: rules.ipv4_to_int([None]), "None"),
    ("int_to_ipv4", lambda: rules.int_to_ipv4([2**32]), "4294967296"),
    ("int_to_ipv4 negative", lambda: rules.int_to_ipv4([-1]), "-1"),
    ("check peer", lambda: rules.check(TOPO, "web", "ingress", "1.2.3", TCP, 22), "'1.2.3'"),
    ("check port", lambda: rules.check(TOPO, "web", "ingress", "8.8.8.8", TCP, 99999),
     "99999"),
    ("check protocol", lambda: rules.check(TOPO, "web", "ingress", "8.8.8.8", "tcp", 22),
     "'tcp'"),
    ("check interface", lambda: rules.check(TOPO, "db", "ingress", "8.8.8.8", TCP, 22),
     "'db'"),
    ("check direction", lambda: rules.check(TOPO, "web", "in", "8.8.8.8", TCP, 22), "'in'"),
    ("check topology", lambda: rules.check("lab", "web", "ingress", "8.8.8.8", TCP, 22),
     "topology"),
    ("evaluate peer", lambda: rules.is_allowed(TOPO, "web", "ingress", "8.8.8.x", TCP, 22),
     "'8.8.8.x'"),
    ("allowed peer text", lambda: rules.allowed(TOPO, 0, "ingress", "8.8.8.8", TCP, 22),
     "ipv4_to_int"),
    ("allowed port", lambda: rules.allowed(TOPO, 0, "ingress", 0, TCP, 65536), "65536"),
    ("allowed interface", lambda: rules.allowed(TOPO, 9, "ingress", 0, TCP, 22), "9"),
    ("allowed eni", lambda: rules.allowed(TOPO, "eni-nope", "ingress", 0, TCP, 22),
     "'eni-nope'"),
    ("allowed direction", lambda: rules.allowed(TOPO, 0, "out", 0, TCP, 22), "'out'"),
    ("allowed lengths", lambda: rules.allowed(TOPO, 0, "ingress", [0, 1], TCP, [1, 2, 3]),
     "one length"),
    ("allowed_at index", lambda: rules.allowed_at(TOPO, 5, True, [0], TCP, 22), "5"),
    # topology
    ("interface", lambda: TOPO.interface("nope"), "'nope'"),
    ("subnet", lambda: TOPO.subnet("subnet-0"), "'subnet-0'"),
    ("security_group", lambda: TOPO.security_group("web-sg"), "'web-sg'"),
    ("network_acl_for", lambda: TOPO.network_acl_for("subnet-0"), "'subnet-0'"),
    ("with_nacl_entry subnet", lambda: TOPO.with_nacl_entry("subnet-0", DENY_ALL),
     "'subnet-0'"),
    ("with_nacl_entry entry", lambda: TOPO.with_nacl_entry(
        TOPO.interface("web").subnet_id, "deny all"), "entry"),
    ("default_topology account", lambda: default_topology(account_id="abc"), "account_id"),
    ("default_topology region", lambda: default_topology(region="seoul"), "'seoul'"),
    ("NaclEntry action", lambda: NaclEntry(90, False, ALL, "block", "0.0.0.0/0"), "'block'"),
    ("NaclEntry cidr", lambda: NaclEntry(90, False, ALL, "deny", "1.2.3.4/40"), "'1.2.3.4/40'"),
    ("SgRule direction", lambda: SgRule("in", TCP, 22, 22, "0.0.0.0/0"), "'in'"),
    ("SgRule port", lambda: SgRule("ingress", TCP, 22, 70000, "0.0.0.0/0"), "70000"),
    # hosts
    ("address", lambda: hosts.address("httpbin.org"), "'httpbin.org'"),
    ("pool", lambda: hosts.pool("botnet"), "'botnet'"),
]


@pytest.mark.parametrize("call, offending", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_input_raises_a_course_error_naming_it(call, offending):
    with pytest.raises(CourseError) as caught:
        call()
    assert offending in str(caught.value)
