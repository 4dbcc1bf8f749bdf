"""The auto-block handler against the emulator: blocks, refusals, cap, expiry, audit, reports.

Each test deploys the function to a fresh emulator (``aws.connect()``) and runs the handler
in-process through :func:`helpers.aws.responder.invoke`, as the local backend does, with the
clock pinned by ``at=`` (``RESPOND_CLOCK``): no sleeping. What the handler did is checked in
the emulator with ``describe_network_acls``.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import replace

import boto3
import pandas as pd
import pytest

from helpers import aws, traffic
from helpers.aws import emulator, responder
from helpers.monitoring import alarms, evaluate
from helpers.respond import ConfigurationError, ResponseError, Settings, check_address

T0 = "2021-12-20T00:10:00Z"
SCANNER = "203.0.113.66"  # helpers.traffic.hosts: the port_scan_inbound source


@pytest.fixture(scope="module")
def built():
    """One emulator and lab VPC for the module (building the lab takes seconds)."""
    cloud = aws.connect("local")
    return cloud, cloud.lab_vpc()


@pytest.fixture
def lab(built, capsys):
    """The lab with no blocks, and the function deployed with the default settings."""
    cloud, topology = built
    acl = _acl(cloud, topology)
    for entry in acl["Entries"]:
        if entry["RuleAction"] == "deny" and entry["RuleNumber"] < 100:
            cloud.ec2.delete_network_acl_entry(NetworkAclId=acl["NetworkAclId"],
                                               RuleNumber=entry["RuleNumber"],
                                               Egress=entry["Egress"])
    tags = [{"Key": t["Key"]} for t in acl.get("Tags", []) if t["Key"].startswith("autoblock:")]
    if tags:
        cloud.ec2.delete_tags(Resources=[acl["NetworkAclId"]], Tags=tags)
    responder.deploy(cloud, topology)
    capsys.readouterr()
    return cloud, topology


def _deploy(cloud, topology, capsys, **settings):
    responder.deploy(cloud, topology, **settings)
    capsys.readouterr()


def _acl(cloud, topology):
    nacl = responder.function_environment(topology)["NACL_ID"]
    return cloud.ec2.describe_network_acls(NetworkAclIds=[nacl])["NetworkAcls"][0]


def _denies(cloud, topology):
    return sorted((e["RuleNumber"], e["Egress"], e["CidrBlock"])
                  for e in _acl(cloud, topology)["Entries"] if e["RuleAction"] == "deny"
                  and e["RuleNumber"] != 32767)


def _tags(cloud, topology):
    return {t["Key"]: t["Value"] for t in _acl(cloud, topology).get("Tags", [])
            if t["Key"].startswith("autoblock:")}


def _block(cloud, ip, at=T0, **fields):
    return responder.invoke(cloud, {"action": "block", "ip": ip, "reason": "port scan",
                                    **fields}, at=at)


# --- blocking ---------------------------------------------------------------------------------


def test_block_adds_a_deny_entry_before_the_allow_rules(lab):
    cloud, topology = lab
    answer = _block(cloud, SCANNER, requested_by="analyst kim")
    [result] = answer["results"]
    assert (result["status"], result["cidr"], result["rule_number"]) == \
        ("blocked", "203.0.113.66/32", 50)
    assert result["until"] == "2021-12-20T01:10:00Z"  # BLOCK_TTL_MINUTES=60
    entries = _acl(cloud, topology)["Entries"]
    [deny] = [e for e in entries if e["RuleAction"] == "deny"]
    assert (deny["Egress"], deny["Protocol"], deny["CidrBlock"]) == \
        (False, "-1", "203.0.113.66/32")
    lowest_allow = min(e["RuleNumber"] for e in entries
                       if e["RuleAction"] == "allow" and not e["Egress"])
    assert deny["RuleNumber"] < lowest_allow  # evaluated first
    # The audit trail: a tag on the ACL (entries cannot carry one) and the returned log.
    tag = json.loads(_tags(cloud, topology)["autoblock:50"])
    assert tag == {"cidr": "203.0.113.66/32", "at": T0, "until": "2021-12-20T01:10:00Z",
                   "dirs": "ingress", "who": "analyst kim", "why": "port scan"}
    [audit] = answer["audit"]
    assert (audit["action"], audit["who"], audit["why"], audit["rule_number"], audit["time"],
            audit["by"]) == ("block", "analyst kim", "port scan", 50, T0, "network-autoblock")


def test_a_second_block_adds_nothing(lab):
    cloud, topology = lab
    _block(cloud, SCANNER)
    before = _acl(cloud, topology)
    again = _block(cloud, SCANNER, at="2021-12-20T00:11:00Z")["results"][0]
    assert (again["status"], again["rule_number"]) == ("already_blocked", 50)
    assert _acl(cloud, topology)["Entries"] == before["Entries"]
    assert _acl(cloud, topology)["Tags"] == before["Tags"]
    # An address inside a blocked network is already blocked too.
    _block(cloud, "192.0.2.0/24")
    inside = _block(cloud, "192.0.2.240")["results"][0]
    assert (inside["status"], inside["cidr"]) == ("already_blocked", "192.0.2.0/24")


LAB_ALLOWLIST = (ipaddress.IPv4Network("198.51.100.0/24"),)
LAB_VPC = (ipaddress.IPv4Network("10.0.0.0/16"),)
REFUSED = [
    ("198.51.100.10", "allowlisted", "overlaps the allowlist entry 198.51.100.0/24"),
    ("10.0.1.100", "vpc", "the VPC's own CIDR block 10.0.0.0/16"),
    ("10.200.0.1", "private", "private address space (RFC 1918)"),
    ("172.16.5.5", "private", "172.16.0.0/12, private address space (RFC 1918)"),
    ("192.168.1.1", "private", "192.168.0.0/16"),
    ("100.64.0.1", "private", "carrier-grade NAT"),
    ("169.254.169.254", "link-local", "instance metadata service"),
    ("127.0.0.1", "loopback", "loopback"),
    ("224.0.0.251", "multicast", "multicast"),
    ("255.255.255.255", "reserved", "broadcast"),
    ("0.0.0.0/0", "too-wide", "wider than /16"),
    ("203.0.0.0/8", "too-wide", "wider than /16"),
    ("203.0.113.300", "invalid", "not an IPv4 address or CIDR"),
    ("attacker", "invalid", "not an IPv4 address or CIDR"),
    (42, "invalid", "not an IPv4 address or CIDR"),
    ("2001:db8::1", "ipv6", "IPv4 entries only"),
]


@pytest.mark.parametrize("ip, code, words", REFUSED)
def test_protected_and_malformed_addresses_are_refused_with_a_reason(ip, code, words):
    network, found, reason = check_address(ip, allowlist=LAB_ALLOWLIST, vpc_cidrs=LAB_VPC)
    assert found == code
    assert words in reason


def test_the_handler_refuses_them_and_leaves_the_acl_alone(lab):
    cloud, topology = lab
    answer = responder.invoke(cloud, {"action": "block", "ip": [ip for ip, _, _ in REFUSED],
                                      "reason": "test"}, at=T0)
    assert [(r["status"], r["code"]) for r in answer["results"]] == \
        [("refused", code) for _, code, _ in REFUSED]
    assert all(words in r["reason"] for r, (_, _, words) in zip(answer["results"], REFUSED))
    assert [a["action"] for a in answer["audit"]] == ["refuse"] * len(REFUSED)
    assert _denies(cloud, topology) == [] and _tags(cloud, topology) == {}


@pytest.mark.parametrize("ip", ["192.0.2.240", "198.51.100.77", "203.0.113.0/24"])
def test_the_documentation_ranges_stand_for_the_internet(ip):
    # ipaddress calls RFC 5737 private; the course's addresses of the internet live there.
    assert check_address(ip)[1:] == (None, None)


def test_a_documentation_address_is_blocked_in_the_emulator(lab):
    cloud, topology = lab
    assert _block(cloud, "192.0.2.240")["results"][0]["status"] == "blocked"
    assert _denies(cloud, topology) == [(50, False, "192.0.2.240/32")]


def test_egress_on_request_uses_the_same_rule_number_both_ways(lab):
    cloud, topology = lab
    result = _block(cloud, "203.0.113.99", egress=True)["results"][0]
    assert result["directions"] == ["ingress", "egress"]
    assert _denies(cloud, topology) == [(50, False, "203.0.113.99/32"),
                                        (50, True, "203.0.113.99/32")]
    responder.invoke(cloud, {"action": "unblock", "ip": "203.0.113.99"}, at=T0)
    assert _denies(cloud, topology) == []


# --- cap, expiry, unblock ---------------------------------------------------------------------


def test_the_cap_expires_the_oldest_block(lab, capsys):
    cloud, topology = lab
    _deploy(cloud, topology, capsys, max_blocks=3)
    for minute, ip in enumerate(["203.0.113.100", "203.0.113.101", "203.0.113.102"]):
        _block(cloud, ip, at=f"2021-12-20T00:1{minute}:00Z")
    answer = _block(cloud, "203.0.113.103", at="2021-12-20T00:15:00Z")
    [result] = answer["results"]
    assert (result["status"], result["rule_number"]) == ("blocked", 50)  # the freed number
    [gone] = answer["expired"]
    assert (gone["cidr"], gone["why"], gone["blocked_at"]) == \
        ("203.0.113.100/32", "cap", "2021-12-20T00:10:00Z")
    assert [a["action"] for a in answer["audit"]] == ["evict", "block"]
    assert sorted(c for _, _, c in _denies(cloud, topology)) == [
        "203.0.113.101/32", "203.0.113.102/32", "203.0.113.103/32"]
    assert sorted(_tags(cloud, topology)) == ["autoblock:50", "autoblock:51", "autoblock:52"]


def test_the_rule_quota_caps_blocks_below_max_blocks(lab, capsys):
    cloud, topology = lab
    # The public ACL has 7 inbound allow rules: a quota of 9 leaves room for two blocks.
    _deploy(cloud, topology, capsys, quota=9)
    _block(cloud, "203.0.113.100", at="2021-12-20T00:10:00Z")
    _block(cloud, "203.0.113.101", at="2021-12-20T00:11:00Z")
    answer = _block(cloud, "203.0.113.102", at="2021-12-20T00:12:00Z")
    assert answer["results"][0]["status"] == "blocked"
    assert [e["cidr"] for e in answer["expired"]] == ["203.0.113.100/32"]
    assert len([e for e in _acl(cloud, topology)["Entries"] if not e["Egress"]]) == 9


def test_blocks_expire_after_their_ttl(lab, capsys):
    cloud, topology = lab
    _deploy(cloud, topology, capsys, ttl_minutes=30)
    _block(cloud, SCANNER, at="2021-12-20T00:10:00Z")
    early = responder.invoke(cloud, {"action": "expire"}, at="2021-12-20T00:39:59Z")
    assert early["expired"] == [] and len(early["blocks"]) == 1
    late = responder.invoke(cloud, {"action": "expire"}, at="2021-12-20T00:40:00Z")
    [gone] = late["expired"]
    assert (gone["cidr"], gone["why"], gone["until"]) == \
        ("203.0.113.66/32", "ttl", "2021-12-20T00:40:00Z")
    assert late["results"] == [] and late["blocks"] == []
    assert _denies(cloud, topology) == [] and _tags(cloud, topology) == {}
    assert late["audit"][0]["action"] == "expire"


def test_any_invocation_sweeps_expired_blocks_first(lab):
    cloud, topology = lab
    _block(cloud, SCANNER, at="2021-12-20T00:10:00Z")
    answer = _block(cloud, "192.0.2.240", at="2021-12-20T02:00:00Z")
    assert [e["cidr"] for e in answer["expired"]] == ["203.0.113.66/32"]
    assert answer["results"][0]["rule_number"] == 50  # reused
    assert _denies(cloud, topology) == [(50, False, "192.0.2.240/32")]


def test_unblock_removes_the_entry_and_its_tag(lab):
    cloud, topology = lab
    _block(cloud, SCANNER)
    answer = responder.invoke(cloud, {"action": "unblock", "ip": SCANNER,
                                      "reason": "false positive"}, at=T0)
    [result] = answer["results"]
    assert (result["status"], result["rule_number"]) == ("unblocked", 50)
    assert answer["audit"][0]["why"] == "false positive"
    assert _denies(cloud, topology) == [] and _tags(cloud, topology) == {}
    again = responder.invoke(cloud, {"action": "unblock", "ip": SCANNER}, at=T0)
    assert again["results"][0]["status"] == "not_blocked"


def test_a_hand_deleted_entry_leaves_no_stale_record(lab):
    cloud, topology = lab
    _block(cloud, SCANNER)
    nacl = _acl(cloud, topology)["NetworkAclId"]
    cloud.ec2.delete_network_acl_entry(NetworkAclId=nacl, RuleNumber=50, Egress=False)
    answer = responder.invoke(cloud, {"action": "expire"}, at=T0)
    assert [a["action"] for a in answer["audit"]] == ["stale"]
    assert _tags(cloud, topology) == {}


def test_entries_the_function_did_not_make_are_left_alone(lab):
    cloud, topology = lab
    nacl = _acl(cloud, topology)["NetworkAclId"]
    cloud.ec2.create_network_acl_entry(NetworkAclId=nacl, RuleNumber=50, Egress=False,
                                       Protocol="-1", RuleAction="deny",
                                       CidrBlock="192.0.2.1/32")
    result = _block(cloud, SCANNER, at="2021-12-21T00:00:00Z")["results"][0]
    assert result["rule_number"] == 51
    assert (50, False, "192.0.2.1/32") in _denies(cloud, topology)


def test_a_long_reason_fits_the_tag(lab):
    cloud, topology = lab
    _block(cloud, SCANNER, reason="x" * 600)
    value = _tags(cloud, topology)["autoblock:50"]
    assert len(value) <= 256 and json.loads(value)["why"].endswith("...")


# --- events -----------------------------------------------------------------------------------


@pytest.fixture
def reject_alarm():
    """High-Reject-Rate over a scan: quiet, then 400 rejects a minute for five minutes."""
    spec = next(a for a in alarms.lesson_alarms("nat-0123456789abcdef0", "/aws/vpc/flowlogs")
                if a.name == "High-Reject-Rate")
    minutes = pd.date_range("2021-12-20T00:00:00Z", periods=15, freq="1min")
    values = [5.0] * 5 + [400.0] * 5 + [5.0] * 5
    return evaluate.evaluate_alarm(spec, pd.Series(values, index=minutes))


def test_an_alarm_notification_without_an_address_is_refused(lab, reject_alarm, capsys):
    cloud, topology = lab
    [answer] = responder.deliver_alarm(cloud, reject_alarm)
    [result] = answer["results"]
    assert (result["status"], result["code"]) == ("refused", "no-address")
    assert "carries the metric, not the sources" in result["reason"]
    assert "refused" in capsys.readouterr().out
    assert _denies(cloud, topology) == []


def test_an_alarm_relayed_with_the_address_blocks_it(lab, reject_alarm, capsys):
    cloud, topology = lab
    [answer] = responder.deliver_alarm(cloud, reject_alarm, ip=SCANNER)
    [result] = answer["results"]
    assert result["status"] == "blocked"
    assert result["reason"].startswith("alarm High-Reject-Rate: Threshold Crossed")
    when = reject_alarm.transitions.query("new_state == 'ALARM'")["time"].iloc[0]
    assert answer["time"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")  # the clock of the alarm
    assert answer["audit"][0]["who"].startswith("alarm High-Reject-Rate via arn:aws:sns:")
    assert _denies(cloud, topology) == [(50, False, "203.0.113.66/32")]
    assert "blocked  203.0.113.66/32 (High-Reject-Rate at" in capsys.readouterr().out


def test_an_alarm_back_to_ok_is_ignored(lab):
    cloud, _ = lab
    message = {"AlarmName": "High-Reject-Rate", "NewStateValue": "OK"}
    event = responder.sns_event(message, topic_arn="arn:aws:sns:ap-northeast-2:1:t",
                                timestamp=T0, attributes={"ip": SCANNER})
    assert responder.invoke(cloud, event, at=T0)["results"][0]["status"] == "ignored"


@pytest.mark.parametrize("state, status", [("ALARM", "refused"), ("OK", "ignored")])
def test_an_alarm_action_invoking_the_function_directly(lab, state, status):
    cloud, _ = lab
    event = {"source": "aws.cloudwatch", "alarmArn": "arn:aws:cloudwatch:ap-northeast-2:1:"
             "alarm:High-Reject-Rate", "alarmData": {"alarmName": "High-Reject-Rate",
                                                     "state": {"value": state}}}
    [result] = responder.invoke(cloud, event, at=T0)["results"]
    assert result["status"] == status
    if status == "refused":
        assert result["code"] == "no-address"


def test_a_block_request_can_arrive_through_sns(lab):
    cloud, topology = lab
    event = responder.sns_event({"action": "block", "ip": SCANNER, "reason": "detector"},
                                topic_arn="arn:aws:sns:ap-northeast-2:1:t", timestamp=T0)
    assert responder.invoke(cloud, event, at=T0)["results"][0]["status"] == "blocked"


@pytest.mark.parametrize("event, code", [
    ({"hello": "world"}, "unrecognised"),
    ({"action": "block"}, "invalid"),
    ({"action": "delete-everything", "ip": SCANNER}, "invalid"),
    ({"Records": [{"Sns": {"Message": "not json", "TopicArn": "t"}}]}, "unrecognised"),
])
def test_unrecognised_events_are_refused(lab, event, code):
    cloud, _ = lab
    [result] = responder.invoke(cloud, event, at=T0)["results"]
    assert (result["status"], result["code"]) == ("refused", code)


# --- SNS report -------------------------------------------------------------------------------


def test_sns_gets_a_report_and_the_report_does_not_loop(lab):
    cloud, topology = lab
    topic = cloud.sns.list_topics()["Topics"][0]["TopicArn"]
    sqs = boto3.Session(region_name=cloud.region, **emulator.CREDENTIALS).client(
        "sqs", endpoint_url=emulator.endpoint())
    queue = sqs.create_queue(QueueName="reports")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    cloud.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    answer = _block(cloud, SCANNER)
    assert answer["notified"] is True
    [received] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(received["Body"])
    assert envelope["Subject"].startswith("Auto-block acl-") and "1 blocked" in envelope["Subject"]
    assert "blocked 203.0.113.66/32 (rule 50, ingress): port scan" in envelope["Message"]
    assert envelope["MessageAttributes"]["source"]["Value"] == "autoblock"
    # Delivered back to the function (same topic), the report is ignored and not re-reported.
    echo = {"Records": [{"EventSource": "aws:sns", "Sns": envelope}]}
    again = responder.invoke(cloud, echo, at=T0)
    assert [r["status"] for r in again["results"]] == ["ignored"]
    assert again["notified"] is False


def test_nothing_to_report_publishes_nothing(lab):
    cloud, _ = lab
    _block(cloud, SCANNER)
    assert _block(cloud, SCANNER)["notified"] is False  # already blocked: nothing changed


# --- the effect on traffic --------------------------------------------------------------------


def test_traffic_from_a_blocked_address_is_rejected(lab):
    cloud, topology = lab
    scenarios = ["port_scan_inbound", "web_baseline"]
    before = traffic.generate(scenarios, topology=topology, seed=3, duration="2h")
    scan = before[before["srcaddr"] == SCANNER]
    assert (scan["action"] == "ACCEPT").any()  # the open ports answered
    _block(cloud, SCANNER)
    blocked = responder.current_topology(cloud, topology)  # read back from the emulator
    acl = blocked.network_acl_for(topology.interface("web").subnet_id)
    assert traffic.NaclEntry(50, False, traffic.ALL, "deny", "203.0.113.66/32") in acl.entries
    after = traffic.generate(scenarios, topology=blocked, seed=3, duration="2h")
    scan = after[after["srcaddr"] == SCANNER]
    assert len(scan) and (scan["action"] == "REJECT").all()
    # Only the attacker: the web clients' requests are accepted as before.
    clients = after[(after["label"] == "web_baseline") & (after["dstport"] == 443)]
    assert (clients["action"] == "ACCEPT").all() and len(clients)


# --- configuration ----------------------------------------------------------------------------


def test_a_range_that_is_not_below_the_allow_rules_is_refused(lab, capsys):
    cloud, topology = lab
    _deploy(cloud, topology, capsys, rule_range="95-114")
    with pytest.raises(ResponseError, match=r"allow rule numbered 100, not above "
                                            r"RULE_NUMBER_RANGE 95-114"):
        _block(cloud, SCANNER)
    assert _denies(cloud, topology) == []


@pytest.mark.parametrize("env, words", [
    ({}, "NACL_ID must be a network ACL ID"),
    ({"NACL_ID": "acl-0123456789abcdef0", "RULE_NUMBER_RANGE": "69-50"}, "RULE_NUMBER_RANGE"),
    ({"NACL_ID": "acl-0123456789abcdef0", "RULE_NUMBER_RANGE": "1-40000"}, "32766"),
    ({"NACL_ID": "acl-0123456789abcdef0", "MAX_BLOCKS": "21"}, "MAX_BLOCKS must be a whole "
                                                               "number from 1 to 20"),
    ({"NACL_ID": "acl-0123456789abcdef0", "BLOCK_TTL_MINUTES": "0"}, "BLOCK_TTL_MINUTES"),
    ({"NACL_ID": "acl-0123456789abcdef0", "ALLOWLIST": "198.51.100.0/24,office"},
     "ALLOWLIST entry 'office'"),
])
def test_bad_settings_name_the_variable(env, words):
    with pytest.raises(ConfigurationError, match=words):
        Settings.from_env(env)


def test_the_deployed_function_refuses_bad_settings_before_deploying(lab, capsys):
    cloud, topology = lab
    with pytest.raises(ResponseError, match="MAX_BLOCKS"):
        responder.deploy(cloud, topology, max_blocks=0)


def test_invoking_before_deploying_says_what_to_do(built):
    cloud = replace(built[0], student="nobody")  # its function would be nobody-network-...
    with pytest.raises(ResponseError, match=r"deploy_responder\(lab\) first"):
        responder.invoke(cloud, {"action": "expire"})


def test_the_process_environment_is_restored(lab, monkeypatch):
    cloud, _ = lab
    monkeypatch.setenv("SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:1:someone-elses")
    keys = ("NACL_ID", "AWS_ENDPOINT_URL", "RESPOND_CLOCK", "AWS_LAMBDA_FUNCTION_NAME")
    before = {k: os.environ.get(k) for k in (*keys, "SNS_TOPIC_ARN", "AWS_ACCESS_KEY_ID")}
    _block(cloud, SCANNER)
    assert {k: os.environ.get(k) for k in before} == before


def test_reading_the_acl_back_keeps_the_icmp_types_the_emulator_drops(capsys):
    cloud = aws.connect()
    lab = cloud.lab_vpc()
    before = {(e.rule_number, e.egress): e for acl in lab.network_acls for e in acl.entries
              if e.protocol == 1}
    after = {(e.rule_number, e.egress): e for acl in cloud.refresh_topology(lab).network_acls
             for e in acl.entries if e.protocol == 1}
    assert before and {k: (e.icmp_type, e.icmp_code) for k, e in after.items()} == {
        k: (e.icmp_type, e.icmp_code) for k, e in before.items()}
    capsys.readouterr()
