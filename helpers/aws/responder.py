"""The auto-block function on AWS and offline: its zip, role, deployment and invocation.

The handler (:mod:`helpers.respond.handler`) ships alone as the function's zip. This adapter:

- builds that zip (:func:`build_zip`: the handler module only, byte-for-byte reproducible);
- writes its least-privilege policies (:func:`trust_policy`, :func:`role_policy`) and its
  environment (:func:`function_environment`);
- deploys it (:func:`deploy`): the log group ``/aws/lambda/<function>``, the role, the function
  with one invocation at a time, and on AWS the wiring: a subscription of the function to the
  alarm's SNS topic (alarm → SNS → function) and a five-minute schedule that lets blocks expire
  on time. The emulator stores the role and the function but cannot run Lambda code without
  Docker, so offline nothing is subscribed: :func:`invoke` and :func:`deliver_alarm` hand the
  same events to the handler in-process, with the deployed function's environment and
  ``AWS_ENDPOINT_URL`` pointing at the emulator;
- reads the network ACLs back into a Topology (:func:`current_topology`), so the traffic
  generator judges traffic by the entries the function really made;
- removes what :func:`deploy` made (:func:`remove`).

AWS pages: Lambda execution role and environment variables
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html), SNS events for
Lambda (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html), EC2 actions and the
resources IAM can scope them to
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import uuid
import zipfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from botocore.exceptions import ClientError

from helpers import respond, times
from helpers.aws import cloudwatch, emulator, retry
from helpers.aws.account import Account, describe_error
from helpers.errors import AwsSetupError
from helpers.monitoring.evaluate import REGION_NAMES, AlarmTimeline
from helpers.respond import ResponseError
from helpers.traffic.topology import NaclEntry, Topology

__all__ = [
    "FUNCTION",
    "HANDLER",
    "build_zip",
    "current_topology",
    "deliver_alarm",
    "deploy",
    "function_environment",
    "invoke",
    "remove",
    "role_policy",
    "sns_event",
    "trust_policy",
]

FUNCTION = "network-autoblock"
ROLE = "network-autoblock-role"
SCHEDULE = "network-autoblock-expiry"
HANDLER = "handler.handler"  # the zip holds handler.py at its root
RUNTIME = "python3.12"
HANDLER_FILE = Path(respond.__file__).with_name("handler.py")
VARIABLES = ("NACL_ID", "ALLOWLIST", "RULE_NUMBER_RANGE", "MAX_BLOCKS", "BLOCK_TTL_MINUTES",
             "SNS_TOPIC_ARN", "NACL_RULE_QUOTA", "RESPOND_CLOCK")
"""Every environment variable the handler reads (RESPOND_CLOCK only offline and in tests)."""


def _handler_module():
    return sys.modules["helpers.respond.handler"]  # the package binds the name to the function


# --- the package and its policies (pure) ------------------------------------------------------


def build_zip(path: str | Path | None = None) -> bytes:
    """The deployment package: a zip holding ``handler.py`` and nothing else.

    Entries carry a fixed date and mode, so the same source gives the same bytes (and the same
    ``CodeSha256``; :func:`deploy` updates the code only when it changed). With ``path`` the
    zip is also written there.
    """
    info = zipfile.ZipInfo("handler.py", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, HANDLER_FILE.read_bytes())
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def code_sha256(data: bytes) -> str:
    """The ``CodeSha256`` Lambda reports for a zip: base64 of its SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def trust_policy() -> dict:
    """Who may assume the function's role: the Lambda service only."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}


def role_policy(account_id: str, region: str, nacl_id: str, function: str,
                topic_arn: str | None = None) -> dict:
    """The function's permissions, each on the narrowest resource IAM supports.

    - ``ec2:DescribeNetworkAcls`` and ``ec2:DescribeVpcs`` (the ACL's entries and tags, the
      VPC's CIDR blocks): EC2's Describe actions support no resource-level permissions, so
      ``*``.
    - ``ec2:CreateNetworkAclEntry``, ``ec2:DeleteNetworkAclEntry``: this network ACL's ARN only.
    - ``ec2:CreateTags``, ``ec2:DeleteTags`` (the audit tags): this ACL, and only tag keys
      starting with ``autoblock:``, so the function cannot touch the course's own tags.
    - ``sns:Publish`` to the report topic, when there is one.
    - ``logs:CreateLogStream``, ``logs:PutLogEvents`` on its own log group, which
      :func:`deploy` creates (with retention), so no ``logs:CreateLogGroup``.

    No ``ec2:ReplaceNetworkAclEntry``: the function adds and deletes its own entries, never
    rewrites one.
    """
    acl = f"arn:aws:ec2:{region}:{account_id}:network-acl/{nacl_id}"
    statements = [
        {"Sid": "ReadTheNetworkAcl", "Effect": "Allow",
         "Action": ["ec2:DescribeNetworkAcls", "ec2:DescribeVpcs"], "Resource": "*"},
        {"Sid": "EditTheNetworkAcl", "Effect": "Allow",
         "Action": ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry"],
         "Resource": acl},
        {"Sid": "AuditTags", "Effect": "Allow",
         "Action": ["ec2:CreateTags", "ec2:DeleteTags"], "Resource": acl,
         "Condition": {"ForAllValues:StringLike": {"aws:TagKeys": ["autoblock:*"]}}},
        {"Sid": "OwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:/aws/lambda/{function}:*"},
    ]
    if topic_arn:
        statements.insert(3, {"Sid": "Report", "Effect": "Allow", "Action": "sns:Publish",
                              "Resource": topic_arn})
    return {"Version": "2012-10-17", "Statement": statements}


def function_environment(topology: Topology, *, nacl_id: str | None = None,
                         allowlist=None, rule_range: str = "50-69", max_blocks: int = 10,
                         ttl_minutes: int = 60, topic_arn: str | None = None,
                         quota: int = 20) -> dict[str, str]:
    """The function's environment variables for the lab.

    Defaults: the network ACL of the web instance's subnet (the one the internet reaches),
    the lab's admin range as the allowlist, rules 50-69 (the lab's allow rules start at 100).
    The values are checked as the handler will check them.

    Raises:
        ResponseError: a value the handler would refuse.
    """
    if not isinstance(topology, Topology):
        raise ResponseError(f"topology must be the lab's Topology (cloud.lab_vpc()), not "
                            f"{type(topology).__name__}")
    if nacl_id is None:
        nacl_id = topology.network_acl_for(topology.interface("web").subnet_id).nacl_id
    if allowlist is None:
        allowlist = [topology.admin_cidr]
    if isinstance(allowlist, str):
        allowlist = [allowlist]
    variables = {"NACL_ID": nacl_id, "ALLOWLIST": ",".join(allowlist),
                 "RULE_NUMBER_RANGE": str(rule_range), "MAX_BLOCKS": str(max_blocks),
                 "BLOCK_TTL_MINUTES": str(ttl_minutes), "NACL_RULE_QUOTA": str(quota)}
    if topic_arn:
        variables["SNS_TOPIC_ARN"] = topic_arn
    try:
        respond.Settings.from_env(variables)
    except respond.ConfigurationError as err:
        raise ResponseError(str(err)) from err
    return variables


def sns_event(message: dict | str, *, topic_arn: str, subject: str | None = None,
              timestamp: str, attributes: dict[str, str] | None = None) -> dict:
    """The event SNS hands a subscribed Lambda function for one message.

    Shaped as in https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html: one record with
    ``EventSource`` ``aws:sns`` and ``Sns`` holding the message (JSON text), its subject,
    timestamp and message attributes (``{"Type": "String", "Value": ...}``). IDs are derived
    from the content, so the same message gives the same event.
    """
    text = message if isinstance(message, str) else json.dumps(message)
    message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{topic_arn}|{timestamp}|{text}"))
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid5(uuid.NAMESPACE_URL, topic_arn)}",
        "Sns": {
            "Type": "Notification", "MessageId": message_id, "TopicArn": topic_arn,
            "Subject": subject, "Message": text, "Timestamp": timestamp,
            "SignatureVersion": "1", "Signature": "EXAMPLE", "SigningCertUrl": "EXAMPLE",
            "UnsubscribeUrl": "EXAMPLE",
            "MessageAttributes": {k: {"Type": "String", "Value": v}
                                  for k, v in (attributes or {}).items()},
        }}]}


# --- clients ----------------------------------------------------------------------------------


def _names(cloud: Account) -> SimpleNamespace:
    function = cloud.name(FUNCTION)
    return SimpleNamespace(function=function, role=cloud.name(ROLE),
                           schedule=cloud.name(SCHEDULE), log_group=f"/aws/lambda/{function}")


# --- deploy -----------------------------------------------------------------------------------


def deploy(cloud: Account, topology: Topology, *, topic_arn: str | None = None,
           report: bool = True, **settings) -> dict:
    """Create (or update) the auto-block function and its wiring; what it made.

    Both backends: the log group ``/aws/lambda/network-autoblock`` (7 days), the role (trust
    for Lambda, :func:`role_policy`), the function (Python 3.12, :func:`build_zip`, the
    environment of :func:`function_environment`), all with the course's tags. AWS also:
    reserved concurrency 1 (invocations never race on the ACL; skipped with a note where the
    account's concurrency quota does not allow it), the subscription of the function to the
    alarm topic (with a filter policy that keeps the function's own reports away from it),
    and an EventBridge rule that invokes ``{"action": "expire"}`` every five minutes.

    Args:
        topology: the lab (``cloud.lab_vpc()``).
        topic_arn: the alarm topic (default: the course's, :func:`cloudwatch.ensure_topic`).
        report: also report to that topic (``SNS_TOPIC_ARN``).
        settings: :func:`function_environment`'s options (``allowlist``, ``rule_range``,
            ``max_blocks``, ``ttl_minutes``, ``nacl_id``, ``quota``).

    Returns:
        ``{"function", "function_arn", "role_arn", "topic_arn", "environment", "status"}``.

    Raises:
        AwsSetupError: a function or role of that name that the course did not create.
        ResponseError: settings the handler would refuse.
    """
    topic_arn = topic_arn or cloudwatch.ensure_topic(cloud)
    variables = function_environment(topology, topic_arn=topic_arn if report else None,
                                     **settings)
    names = _names(cloud)
    _ensure_log_group(cloud, names.log_group)
    role_arn = _ensure_role(cloud, names, variables["NACL_ID"], variables.get("SNS_TOPIC_ARN"))
    data = build_zip()
    function_arn, status = _ensure_function(cloud, names, role_arn, data, variables)
    if cloud.backend == "aws":
        _limit_concurrency(cloud, names.function)
        _subscribe(cloud, names.function, function_arn, topic_arn)
        _schedule_expiry(cloud, names, function_arn)
    else:
        print("Offline: the emulator stores the function but cannot run Lambda code, and "
              "subscribes nothing; cloud.respond(...) and cloud.respond_to_alarm(...) hand the "
              "same events to the handler in-process.")
    return {"function": names.function, "function_arn": function_arn, "role_arn": role_arn,
            "topic_arn": topic_arn, "environment": variables, "status": status}


def _ensure_log_group(cloud: Account, name: str) -> None:
    logs = cloud.logs
    found = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    if any(g["logGroupName"] == name for g in found):
        if not cloud.owns(logs.list_tags_log_group(logGroupName=name).get("tags", {})):
            raise AwsSetupError(f"log group {name!r} exists but was not created by the course")
        cloud.say("exists", f"log group {name}")
    else:
        logs.create_log_group(logGroupName=name, tags=cloud.tags)
        cloud.say("created", f"log group {name}")
    logs.put_retention_policy(logGroupName=name, retentionInDays=7)


def _ensure_role(cloud: Account, names, nacl_id: str, topic_arn: str | None) -> str:
    iam = cloud.iam
    try:
        arn = iam.get_role(RoleName=names.role)["Role"]["Arn"]
        if not cloud.owns(iam.list_role_tags(RoleName=names.role)["Tags"]):
            raise AwsSetupError(f"IAM role {names.role!r} exists but was not created by the "
                                "course; the course will not change it")
        cloud.say("exists", f"IAM role {names.role}")
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(
            RoleName=names.role, AssumeRolePolicyDocument=json.dumps(trust_policy()),
            Description="Lets the auto-block function edit one network ACL",
            Tags=[{"Key": k, "Value": v} for k, v in cloud.tags.items()])["Role"]["Arn"]
        cloud.say("created", f"IAM role {names.role}")
    iam.put_role_policy(RoleName=names.role, PolicyName="autoblock", PolicyDocument=json.dumps(
        role_policy(cloud.account_id, cloud.region, nacl_id, names.function, topic_arn)))
    return arn


def _ensure_function(cloud: Account, names, role_arn: str, data: bytes,
                     variables: dict) -> tuple[str, str]:
    lam = cloud.client("lambda")
    try:
        found = lam.get_function(FunctionName=names.function)
    except lam.exceptions.ResourceNotFoundException:
        found = None
    if found is None:
        arn = _create_function(cloud, lam, names, role_arn, data, variables)
        cloud.say("created", f"Lambda function {names.function} ({RUNTIME}, {HANDLER})")
        return arn, "created"
    config = found["Configuration"]
    arn = config["FunctionArn"]
    if not cloud.owns(lam.list_tags(Resource=arn).get("Tags", {})):
        raise AwsSetupError(f"Lambda function {names.function!r} exists but was not created "
                            "by the course; the course will not change it")
    changed = False
    if config.get("CodeSha256") != code_sha256(data):
        lam.update_function_code(FunctionName=names.function, ZipFile=data)
        _wait(cloud, lam, "function_updated_v2", names.function)
        changed = True
    if config.get("Environment", {}).get("Variables", {}) != variables \
            or config.get("Role") != role_arn:
        lam.update_function_configuration(FunctionName=names.function, Role=role_arn,
                                          Environment={"Variables": variables})
        _wait(cloud, lam, "function_updated_v2", names.function)
        changed = True
    cloud.say("updated" if changed else "exists", f"Lambda function {names.function}")
    return arn, "updated" if changed else "exists"


def _create_function(cloud: Account, lam, names, role_arn, data, variables) -> str:
    # A new role takes a few seconds to reach Lambda: CreateFunction answers
    # InvalidParameterValueException "The role defined for the function cannot be assumed by
    # Lambda" meanwhile (IAM eventual consistency); the course's retry layer waits it out.
    try:
        arn = retry.call(
            lam.create_function, retry_on=("InvalidParameterValueException",),
            message="cannot be assumed", what=f"create the function {names.function}",
            attempts=12, base_delay=2.0, max_delay=10.0, sleep=retry.sleeper(cloud),
            FunctionName=names.function, Runtime=RUNTIME, Role=role_arn, Handler=HANDLER,
            Code={"ZipFile": data}, Timeout=30, MemorySize=128,
            Description="Denies attackers in a network ACL (course day 5-3)",
            Environment={"Variables": variables}, Tags=cloud.tags,
        )["FunctionArn"]
    except ClientError as err:
        raise AwsSetupError(f"cannot create the function {names.function}: "
                            f"{describe_error(err)}") from err
    _wait(cloud, lam, "function_active_v2", names.function)
    return arn


def _wait(cloud: Account, lam, waiter: str, function: str) -> None:
    if cloud.backend == "aws":
        lam.get_waiter(waiter).wait(FunctionName=function)


def _limit_concurrency(cloud: Account, function: str) -> None:
    lam = cloud.client("lambda")
    try:
        lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=1)
    except ClientError as err:
        print(f"Note: reserved concurrency 1 was refused ({describe_error(err)}); new accounts "
              "often have too small a concurrency quota. Two invocations at once could then "
              "pick the same rule number: the second fails and SNS retries it.")


def _subscribe(cloud: Account, function: str, function_arn: str, topic_arn: str) -> None:
    lam, sns = cloud.client("lambda"), cloud.sns
    _permit(lam, function, "sns-alarm-topic", "sns.amazonaws.com", topic_arn)
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        if any(s["Protocol"] == "lambda" and s["Endpoint"] == function_arn
               for s in page["Subscriptions"]):
            cloud.say("exists", f"subscription of {function} to {topic_arn}")
            return
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=function_arn, Attributes={
        # Deliver everything except the function's own reports (attribute source=autoblock).
        "FilterPolicy": json.dumps({"source": [{"exists": False}]})})
    cloud.say("created", f"subscription of {function} to {topic_arn}")


def _permit(lam, function: str, statement: str, principal: str, source_arn: str) -> None:
    try:
        lam.add_permission(FunctionName=function, StatementId=statement,
                           Action="lambda:InvokeFunction", Principal=principal,
                           SourceArn=source_arn)
    except lam.exceptions.ResourceConflictException:
        pass  # the statement exists already


def _schedule_expiry(cloud: Account, names, function_arn: str) -> None:
    events = cloud.client("events")
    rule_arn = events.put_rule(Name=names.schedule, ScheduleExpression="rate(5 minutes)",
                               State="ENABLED", Tags=cloud.tag_list(),
                               Description="Lets the auto-block function expire blocks on time"
                               )["RuleArn"]
    events.put_targets(Rule=names.schedule, Targets=[{
        "Id": "autoblock", "Arn": function_arn, "Input": json.dumps({"action": "expire"})}])
    _permit(cloud.client("lambda"), names.function, "expiry-schedule",
            "events.amazonaws.com", rule_arn)
    cloud.say("ensured", f"schedule {names.schedule} (rate 5 minutes → expire)")


# --- invoke -----------------------------------------------------------------------------------


def invoke(cloud: Account, event: dict, *, at=None) -> dict:
    """Run the deployed function on ``event``; what the handler returned.

    AWS: a synchronous ``Invoke``. Local: the handler in-process, with the deployed
    function's environment variables, ``AWS_ENDPOINT_URL`` pointing at the emulator and, with
    ``at`` (a datetime, ISO text or epoch seconds), the clock set there (``RESPOND_CLOCK``);
    the process environment is restored afterwards.

    Raises:
        ResponseError: the function is not deployed, is misconfigured, or failed.
    """
    if not isinstance(event, dict):
        raise ResponseError(f"event must be a dict such as {{'action': 'block', 'ip': "
                            f"'203.0.113.66', 'reason': '...'}}, not {type(event).__name__}")
    names = _names(cloud)
    lam = cloud.client("lambda")
    if cloud.backend == "aws":
        if at is not None:
            raise ResponseError("at= is for offline runs: on AWS the function runs on AWS's "
                                "clock")
        try:
            response = lam.invoke(FunctionName=names.function, InvocationType="RequestResponse",
                                  Payload=json.dumps(event).encode())
        except ClientError as err:
            raise ResponseError(f"cannot invoke {names.function}: {describe_error(err)}; "
                                "deploy it first (cloud.deploy_responder(lab))") from err
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise ResponseError(f"{names.function} failed: "
                                f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        return payload
    try:
        config = lam.get_function_configuration(FunctionName=names.function)
    except ClientError as err:
        raise ResponseError(f"the function {names.function} is not deployed in the emulator: "
                            "call cloud.deploy_responder(lab) first") from err
    variables = config.get("Environment", {}).get("Variables", {})
    context = SimpleNamespace(function_name=names.function, aws_request_id="offline",
                              invoked_function_arn=config["FunctionArn"])
    with _lambda_environment(cloud, names.function, variables, at):
        try:
            return respond.handler(json.loads(json.dumps(event)), context)
        except respond.ConfigurationError as err:
            raise ResponseError(f"{names.function}: {err}") from err


@contextmanager
def _lambda_environment(cloud: Account, function: str, variables: dict, at):
    """The process environment as Lambda would set it, pointed at the emulator."""
    wanted = {k: v for k, v in variables.items() if k in VARIABLES}
    wanted.update(AWS_ENDPOINT_URL=emulator.endpoint(), AWS_REGION=cloud.region,
                  AWS_DEFAULT_REGION=cloud.region, AWS_LAMBDA_FUNCTION_NAME=function,
                  AWS_ACCESS_KEY_ID=emulator.CREDENTIALS["aws_access_key_id"],
                  AWS_SECRET_ACCESS_KEY=emulator.CREDENTIALS["aws_secret_access_key"])
    if at is not None:
        wanted["RESPOND_CLOCK"] = times.iso_z(times.to_epoch(at, "at"))
    dropped = [k for k in (*VARIABLES, "AWS_SESSION_TOKEN", "AWS_PROFILE",
                           "AWS_DEFAULT_PROFILE") if k not in wanted]
    saved = {k: os.environ.get(k) for k in (*wanted, *dropped)}
    try:
        for key in dropped:
            os.environ.pop(key, None)
        os.environ.update(wanted)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def deliver_alarm(cloud: Account, timeline: AlarmTimeline, *, ip=None,
                  topic_arn: str | None = None) -> list[dict]:
    """Local: hand each of the alarm's notifications to the handler as SNS would deliver it.

    One SNS event (:func:`sns_event`) per transition to ALARM, carrying the JSON CloudWatch
    publishes (:meth:`AlarmTimeline.notifications`), each run with the clock at its time. An
    alarm notification names no address, so the handler refuses it (``no-address``) unless
    ``ip`` is given: it travels as the message attribute ``ip``, as a detection step relaying
    the alarm would add it. AWS: nothing to do; SNS invokes the subscribed function itself.

    Returns:
        The handler's answer for each notification.
    """
    if not isinstance(timeline, AlarmTimeline):
        raise ResponseError(f"timeline must be an AlarmTimeline (evaluate.evaluate_alarm(...)), "
                            f"not {type(timeline).__name__}")
    if cloud.backend == "aws":
        print("On AWS, CloudWatch notifies the topic and SNS invokes the subscribed function "
              "itself; see the function's log group for what it did.")
        return []
    topic_arn = topic_arn or cloudwatch.ensure_topic(cloud)
    region_name = REGION_NAMES.get(cloud.region, cloud.region)
    if isinstance(ip, (list, tuple)):
        ip = ",".join(ip)
    answers = []
    for message in timeline.notifications(account_id=cloud.account_id, region=cloud.region,
                                          actions=[topic_arn]):
        stamp = message["StateChangeTime"].replace("+0000", "Z")
        event = sns_event(message, topic_arn=topic_arn, timestamp=stamp,
                          subject=f'ALARM: "{message["AlarmName"]}" in {region_name}'[:100],
                          attributes={"ip": ip} if ip else None)
        answer = invoke(cloud, event, at=stamp)
        for result in answer["results"]:
            cloud.say(result["status"], f"{result['cidr'] or result['address'] or '-'} "
                                        f"({message['AlarmName']} at {stamp})")
        answers.append(answer)
    return answers


# --- reading back, removing -------------------------------------------------------------------


def current_topology(cloud: Account, topology: Topology) -> Topology:
    """The topology with each network ACL's entries as AWS (or the emulator) holds them now.

    Read with ``DescribeNetworkAcls``; the default ``*`` entry (rule 32767) and IPv6 entries
    are left out (the generator's implicit deny and IPv4-only records cover them). The emulator
    does not keep an ICMP entry's ``IcmpTypeCode``; an ICMP entry read without one keeps the
    type and code the topology already had under that rule number and direction.
    """
    ids = [acl.nacl_id for acl in topology.network_acls]
    found = {a["NetworkAclId"]: a for a in
             cloud.ec2.describe_network_acls(NetworkAclIds=ids)["NetworkAcls"]}
    acls = []
    for acl in topology.network_acls:
        known = {(x.rule_number, x.egress): x for x in acl.entries}
        entries = []
        for e in found[acl.nacl_id].get("Entries", []):
            if int(e["RuleNumber"]) >= 32767 or "CidrBlock" not in e:
                continue
            ports = e.get("PortRange") or {}
            icmp = e.get("IcmpTypeCode") or {}
            before = known.get((int(e["RuleNumber"]), bool(e["Egress"])))
            if not icmp and int(e["Protocol"]) == 1 and before is not None:
                icmp = {"Type": before.icmp_type, "Code": before.icmp_code}
            entries.append(NaclEntry(
                int(e["RuleNumber"]), bool(e["Egress"]), int(e["Protocol"]), e["RuleAction"],
                e["CidrBlock"], ports.get("From"), ports.get("To"),
                int(icmp.get("Type", -1)), int(icmp.get("Code", -1))))
        acls.append(replace(acl, entries=tuple(sorted(
            entries, key=lambda x: (x.egress, x.rule_number)))))
    return replace(topology, network_acls=tuple(acls))


def remove(cloud: Account, deleted=None) -> list[str]:
    """Delete the function, its schedule, subscriptions, role and log group; what was deleted.

    ``deleted(kind, name)`` is called for each deletion (default: print it). The network
    ACL's ``autoblock:`` entries stay (unblock them first, or tear the lab down).
    """
    names, done = _names(cloud), []
    lam, events = cloud.client("lambda"), cloud.client("events")
    try:
        arn = lam.get_function(FunctionName=names.function)["Configuration"]["FunctionArn"]
    except lam.exceptions.ResourceNotFoundException:
        arn = None
    if arn and cloud.owns(lam.list_tags(Resource=arn).get("Tags", {})):
        for page in cloud.sns.get_paginator("list_subscriptions").paginate():
            for sub in page["Subscriptions"]:
                if sub["Protocol"] == "lambda" and sub["Endpoint"] == arn:
                    cloud.sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
                    done.append(("SNS subscription", sub["SubscriptionArn"]))
        lam.delete_function(FunctionName=names.function)
        done.append(("Lambda function", names.function))
    try:
        rule = events.describe_rule(Name=names.schedule)
        if cloud.owns(events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags", [])):
            targets = events.list_targets_by_rule(Rule=names.schedule)["Targets"]
            if targets:
                events.remove_targets(Rule=names.schedule, Ids=[t["Id"] for t in targets])
            events.delete_rule(Name=names.schedule)
            done.append(("EventBridge rule", names.schedule))
    except events.exceptions.ResourceNotFoundException:
        pass
    iam = cloud.iam
    try:
        if cloud.owns(iam.list_role_tags(RoleName=names.role)["Tags"]):
            for policy in iam.list_role_policies(RoleName=names.role)["PolicyNames"]:
                iam.delete_role_policy(RoleName=names.role, PolicyName=policy)
            iam.delete_role(RoleName=names.role)
            done.append(("IAM role", names.role))
    except iam.exceptions.NoSuchEntityException:
        pass
    groups = cloud.logs.describe_log_groups(logGroupNamePrefix=names.log_group)["logGroups"]
    if any(g["logGroupName"] == names.log_group for g in groups) and cloud.owns(
            cloud.logs.list_tags_log_group(logGroupName=names.log_group).get("tags", {})):
        cloud.logs.delete_log_group(logGroupName=names.log_group)
        done.append(("log group", names.log_group))
    for kind, name in done:
        if deleted is None:
            cloud.say("deleted", f"{kind} {name}")
        else:
            deleted(kind, name)
    return [f"{kind} {name}" for kind, name in done]
