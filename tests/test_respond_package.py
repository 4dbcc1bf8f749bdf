"""The auto-block function as a deployable: its zip, its role, and its deployment on both backends.

The aws backend's deployment runs against the emulator with a ``Cloud("aws", ...)`` whose
clients point there: the same calls as on AWS (subscription, schedule, concurrency), without
an account. Invoking it on AWS is tested with botocore's Stubber (the emulator cannot run
Lambda code).
"""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
import zipfile

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from helpers import aws
from helpers.aws import emulator, responder
from helpers.aws.cloud import Cloud, _local_clients
from helpers.respond import ResponseError

ACCOUNT, REGION, NACL = "123456789012", "ap-northeast-2", "acl-0123456789abcdef0"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:network-alerts"


# --- the zip ----------------------------------------------------------------------------------


def test_the_zip_holds_the_handler_and_nothing_else(tmp_path):
    data = responder.build_zip(tmp_path / "autoblock.zip")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["handler.py"]
    assert archive.read("handler.py") == responder.HANDLER_FILE.read_bytes()
    assert (tmp_path / "autoblock.zip").read_bytes() == data
    assert responder.build_zip() == data  # reproducible: the same CodeSha256 every build
    assert responder.HANDLER == "handler.handler"


def test_the_handler_imports_only_the_standard_library_and_boto3():
    tree = ast.parse(responder.HANDLER_FILE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore"}
    assert imported - allowed == set()
    assert "helpers" not in imported


def test_the_unzipped_handler_imports_on_its_own(tmp_path):
    zipfile.ZipFile(io.BytesIO(responder.build_zip())).extractall(tmp_path)
    code = ("import sys, handler; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'helpers'))")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, check=True)
    assert run.stdout.strip() == "[]"


# --- the role ---------------------------------------------------------------------------------


def _statements(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Statement"]}


def test_the_role_policy_is_least_privilege():
    policy = responder.role_policy(ACCOUNT, REGION, NACL, "network-autoblock", TOPIC)
    actions = sorted(a for s in policy["Statement"] for a in
                     ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["ec2:CreateNetworkAclEntry", "ec2:CreateTags",
                       "ec2:DeleteNetworkAclEntry", "ec2:DeleteTags",
                       "ec2:DescribeNetworkAcls", "ec2:DescribeVpcs",
                       "logs:CreateLogStream", "logs:PutLogEvents", "sns:Publish"]
    assert all(s["Effect"] == "Allow" and "*" not in str(s["Action"])
               for s in policy["Statement"])
    by_sid = _statements(policy)
    acl = f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-acl/{NACL}"
    # Only the Describe actions, which support no resource-level permissions, get "*".
    assert [s["Sid"] for s in policy["Statement"] if s["Resource"] == "*"] == \
        ["ReadTheNetworkAcl"]
    assert by_sid["EditTheNetworkAcl"]["Resource"] == acl
    assert by_sid["AuditTags"]["Resource"] == acl
    assert by_sid["AuditTags"]["Condition"] == {
        "ForAllValues:StringLike": {"aws:TagKeys": ["autoblock:*"]}}
    assert by_sid["Report"]["Resource"] == TOPIC
    assert by_sid["OwnLogs"]["Resource"] == \
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/network-autoblock:*"


def test_without_a_report_topic_the_role_cannot_publish():
    policy = responder.role_policy(ACCOUNT, REGION, NACL, "network-autoblock")
    assert "Report" not in _statements(policy)
    assert "sns:Publish" not in json.dumps(policy)


def test_only_lambda_may_assume_the_role():
    [statement] = responder.trust_policy()["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


# --- deploying --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built():
    cloud = aws.connect("local")
    return cloud, cloud.lab_vpc()


def _lambda(cloud):
    session = boto3.Session(region_name=cloud.region, **emulator.CREDENTIALS)
    return session.client("lambda", endpoint_url=emulator.endpoint())


def test_deploy_on_the_local_backend_creates_the_role_and_function(built, capsys):
    cloud, lab = built
    info = responder.deploy(cloud, lab, ttl_minutes=30)
    out = capsys.readouterr().out
    assert "created  Lambda function network-autoblock (python3.12, handler.handler)" in out
    assert "cannot run Lambda code" in out
    nacl = lab.network_acl_for(lab.interface("web").subnet_id).nacl_id
    assert info["environment"] == {
        "NACL_ID": nacl, "ALLOWLIST": "198.51.100.0/24", "RULE_NUMBER_RANGE": "50-69",
        "MAX_BLOCKS": "10", "BLOCK_TTL_MINUTES": "30", "NACL_RULE_QUOTA": "20",
        "SNS_TOPIC_ARN": info["topic_arn"]}
    config = _lambda(cloud).get_function_configuration(FunctionName="network-autoblock")
    assert (config["Runtime"], config["Handler"], config["Role"]) == \
        ("python3.12", "handler.handler", info["role_arn"])
    assert config["Environment"]["Variables"] == info["environment"]
    assert config["CodeSha256"] == responder.code_sha256(responder.build_zip())
    stored = cloud.iam.get_role_policy(RoleName="network-autoblock-role",
                                       PolicyName="autoblock")["PolicyDocument"]
    assert stored == responder.role_policy(cloud.account_id, cloud.region, nacl,
                                           "network-autoblock", info["topic_arn"])
    [group] = cloud.logs.describe_log_groups(
        logGroupNamePrefix="/aws/lambda/network-autoblock")["logGroups"]
    assert group["retentionInDays"] == 7
    # Offline nothing is subscribed: SNS would try to run the code.
    subscriptions = cloud.sns.list_subscriptions_by_topic(TopicArn=info["topic_arn"])
    assert [s["Protocol"] for s in subscriptions["Subscriptions"]] == ["email"]
    # Again: nothing new; other settings: updated.
    assert responder.deploy(cloud, lab, ttl_minutes=30)["status"] == "exists"
    assert responder.deploy(cloud, lab, ttl_minutes=45)["status"] == "updated"
    capsys.readouterr()


def test_deploy_on_the_aws_backend_wires_sns_and_the_expiry_schedule(built, capsys):
    local, lab = built
    session = boto3.Session(region_name=local.region, **emulator.CREDENTIALS)
    clients = {**_local_clients(local.region), "lambda": _lambda(local),
               "events": session.client("events", endpoint_url=emulator.endpoint())}
    cloud = Cloud("aws", local.region, local.account_id, "aws", clients)
    info = responder.deploy(cloud, lab)
    capsys.readouterr()
    assert info["function"] == "aws-network-autoblock"
    lam, events = clients["lambda"], clients["events"]
    assert lam.get_function_concurrency(FunctionName=info["function"])[
        "ReservedConcurrentExecutions"] == 1
    [subscription] = [s for s in cloud.sns.list_subscriptions_by_topic(
        TopicArn=info["topic_arn"])["Subscriptions"] if s["Protocol"] == "lambda"]
    assert subscription["Endpoint"] == info["function_arn"]
    attributes = cloud.sns.get_subscription_attributes(
        SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"source": [{"exists": False}]}
    [target] = events.list_targets_by_rule(Rule="aws-network-autoblock-expiry")["Targets"]
    assert (target["Arn"], json.loads(target["Input"])) == \
        (info["function_arn"], {"action": "expire"})
    statements = json.loads(lam.get_policy(FunctionName=info["function"])["Policy"])["Statement"]
    assert sorted((s["Principal"]["Service"], s["Condition"]["ArnLike"]["AWS:SourceArn"])
                  for s in statements) == [
        ("events.amazonaws.com", f"arn:aws:events:{cloud.region}:{cloud.account_id}:rule/"
                                 "aws-network-autoblock-expiry"),
        ("sns.amazonaws.com", info["topic_arn"])]
    # Idempotent, and removable.
    assert responder.deploy(cloud, lab)["status"] == "exists"
    assert len([s for s in cloud.sns.list_subscriptions_by_topic(TopicArn=info["topic_arn"])[
        "Subscriptions"] if s["Protocol"] == "lambda"]) == 1
    removed = responder.remove(cloud)
    capsys.readouterr()
    assert removed[1:] == ["Lambda function aws-network-autoblock",
                           "EventBridge rule aws-network-autoblock-expiry",
                           "IAM role aws-network-autoblock-role",
                           "log group /aws/lambda/aws-network-autoblock"]
    assert removed[0].startswith("SNS subscription arn:aws:sns:")
    assert responder.remove(cloud) == []


def test_a_function_of_that_name_not_made_by_the_course_is_left_alone(built, capsys):
    cloud, lab = built
    student = Cloud("local", cloud.region, cloud.account_id, "other", cloud.clients,
                    cloud.generation)
    role = cloud.iam.create_role(RoleName="other-network-autoblock-role",
                                 AssumeRolePolicyDocument=json.dumps(responder.trust_policy()))
    with pytest.raises(aws.AwsSetupError, match="was not created by the course"):
        responder.deploy(student, lab)
    capsys.readouterr()
    cloud.iam.delete_role(RoleName=role["Role"]["RoleName"])


# --- invoking on AWS --------------------------------------------------------------------------


def _aws_cloud_with(lam) -> Cloud:
    return Cloud("aws", REGION, ACCOUNT, None, {"lambda": lam, "ec2": lam})


def _payload(value) -> StreamingBody:
    raw = json.dumps(value).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_invoke_on_aws_calls_the_function_synchronously():
    lam = boto3.client("lambda", region_name=REGION, aws_access_key_id="x",
                       aws_secret_access_key="x")
    event = {"action": "block", "ip": "203.0.113.66", "reason": "scan"}
    answer = {"results": [{"status": "blocked"}]}
    with Stubber(lam) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "Payload": _payload(answer)},
                          {"FunctionName": "network-autoblock",
                           "InvocationType": "RequestResponse",
                           "Payload": json.dumps(event).encode()})
        assert responder.invoke(_aws_cloud_with(lam), event) == answer
        stub.assert_no_pending_responses()


def test_a_failed_function_on_aws_raises_its_error():
    lam = boto3.client("lambda", region_name=REGION, aws_access_key_id="x",
                       aws_secret_access_key="x")
    failure = {"errorType": "ConfigurationError", "errorMessage": "NACL_ID must be ..."}
    with Stubber(lam) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled",
                                     "Payload": _payload(failure)})
        with pytest.raises(ResponseError, match="ConfigurationError: NACL_ID must be"):
            responder.invoke(_aws_cloud_with(lam), {"action": "expire"})


def test_the_clock_cannot_be_set_on_aws():
    with pytest.raises(ResponseError, match="offline"):
        responder.invoke(_aws_cloud_with(object()), {"action": "expire"}, at=0)


def test_the_sns_event_has_lambdas_shape():
    event = responder.sns_event({"AlarmName": "x"}, topic_arn=TOPIC, subject="ALARM",
                                timestamp="2021-12-20T00:10:00Z",
                                attributes={"ip": "203.0.113.66"})
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert json.loads(record["Sns"]["Message"]) == {"AlarmName": "x"}
    assert record["Sns"]["MessageAttributes"] == {"ip": {"Type": "String",
                                                         "Value": "203.0.113.66"}}
    assert responder.sns_event({"AlarmName": "x"}, topic_arn=TOPIC, subject="ALARM",
                               timestamp="2021-12-20T00:10:00Z",
                               attributes={"ip": "203.0.113.66"}) == event
