"""Reliability on a shared account: retries, delivery checks, repair, robust teardown, sweep.

Each test reproduces one AWS behaviour the emulator does not show by itself: with botocore's
Stubber on a real client (no request leaves the test), or by wrapping one call of the
emulator's client so that it answers the way AWS does (IAM propagation, a dependency still
being deleted, a failed delivery). Where moto reproduces the behaviour (versioned buckets,
GetLogEvents' tokens, tags), moto is used as is.
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import boto3
import pandas as pd
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from helpers import aws, insights, traffic
from helpers.aws import (
    athena,
    flow_log_setup,
    logs_insights,
    policies,
    responder,
    retry,
    run_command,
    teardown,
    transport,
)
from helpers.aws.cloud import Cloud
from helpers.errors import (
    AwsRetryError,
    AwsSetupError,
    InsightsError,
    InsightsResultLimitWarning,
)
from helpers.selfcheck import notebook02

REGION = "ap-northeast-2"
ACCOUNT = "123456789012"


def client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def aws_error(code: str, message: str = "", operation: str = "Operation") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class Recorder:
    """A sleep that records how long it was asked to wait."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def failing_first(real, errors: list[ClientError]):
    """``real``, but raising each of ``errors`` once first (as AWS answers while it catches up)."""
    pending = list(errors)
    calls = []

    def call(*args, **kwargs):
        calls.append(kwargs)
        if pending:
            raise pending.pop(0)
        return real(*args, **kwargs)

    call.calls = calls
    return call


@pytest.fixture
def cloud(capsys):
    """A fresh emulator; no real sleeping is allowed on the local backend."""
    yield aws.connect()
    capsys.readouterr()


@pytest.fixture
def no_real_sleep(monkeypatch):
    def refuse(seconds):
        raise AssertionError(f"the local backend slept {seconds} s")
    monkeypatch.setattr(time, "sleep", refuse)


# --- the retry layer --------------------------------------------------------------------------


def test_a_transient_error_is_retried_with_growing_jittered_capped_waits():
    sleep = Recorder()
    fn = failing_first(lambda **kw: "done", [aws_error("DependencyViolation")] * 3)
    got = retry.call(fn, retry_on=("DependencyViolation",), what="delete subnet-1",
                     base_delay=1.0, max_delay=3.0, sleep=sleep, SubnetId="subnet-1")
    assert got == "done" and len(fn.calls) == 4
    assert fn.calls[0] == {"SubnetId": "subnet-1"}  # kwargs go to the call
    caps = [1.0, 2.0, 3.0]  # doubling, capped at max_delay
    assert all(cap / 2 <= wait <= cap for wait, cap in zip(sleep.waits, caps))
    assert sleep.waits == retry.delays("delete subnet-1", 8, 1.0, 3.0)[:3]  # deterministic


@pytest.mark.parametrize("error", [
    aws_error("InvalidParameter", "LogDestination is not a valid ARN"),  # a real mistake
    aws_error("AccessDenied", "not authorized to perform ec2:CreateFlowLogs"),
])
def test_other_errors_are_raised_at_once_without_waiting(error):
    sleep = Recorder()
    fn = failing_first(lambda **kw: "done", [error])
    with pytest.raises(ClientError) as info:
        retry.call(fn, **retry.FLOW_LOG_ROLE, what="create the flow log", sleep=sleep)
    assert info.value is error and sleep.waits == [] and len(fn.calls) == 1


def test_retries_that_run_out_say_what_was_retried_and_what_to_do():
    fn = failing_first(lambda **kw: "never", [aws_error(
        "InvalidParameter", "Unable to assume given IAM role: arn:aws:iam::1:role/r")] * 3)
    with pytest.raises(AwsRetryError) as info:
        retry.call(fn, **retry.FLOW_LOG_ROLE, what="create the flow log on vpc-1",
                   attempts=3, sleep=Recorder(), hint="Wait a minute and run the cell again.")
    message = str(info.value)
    assert message.startswith("cannot create the flow log on vpc-1: AWS still answered "
                              "InvalidParameter (Unable to assume given IAM role")
    assert "after 3 attempts" in message and message.endswith("run the cell again.")
    assert isinstance(info.value, AwsSetupError)  # a course error a notebook can catch


def test_wait_for_polls_until_the_condition_holds_and_gives_up_with_a_course_error():
    sleep, answers = Recorder(), iter([None, {}, {"PingStatus": "Online"}])
    assert retry.wait_for(lambda: next(answers), what="online", sleep=sleep) == {
        "PingStatus": "Online"}
    assert len(sleep.waits) == 2
    with pytest.raises(AwsRetryError, match="gave up waiting until the NAT gateway is gone"):
        retry.wait_for(lambda: False, what="the NAT gateway is gone", attempts=2,
                       sleep=Recorder())


def test_every_client_has_the_one_retry_configuration(cloud):
    for name, c in cloud.clients.items():
        assert c.meta.config.retries == {"total_max_attempts": 8, "mode": "standard"}, name
        assert c.meta.config.read_timeout == 60, name
    assert cloud.athena.meta.config.retries == retry.CONFIG.retries


# --- IAM propagation and delivery status (CreateFlowLogs) -------------------------------------


def test_create_flow_log_retries_while_iam_propagates_the_new_role(cloud, monkeypatch,
                                                                    no_real_sleep):
    vpc = cloud.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    not_yet = aws_error("InvalidParameter", "Unable to assume given IAM role: "
                        "arn:aws:iam::123456789012:role/flowlogsRole", "CreateFlowLogs")
    create = failing_first(cloud.ec2.create_flow_logs, [not_yet, not_yet])
    monkeypatch.setattr(cloud.ec2, "create_flow_logs", create)
    flow_log = cloud.create_flow_log(vpc)
    assert len(create.calls) == 3 and flow_log.flow_log_id.startswith("fl-")
    assert [f.flow_log_id for f in cloud.flow_logs()] == [flow_log.flow_log_id]


def test_a_refusal_listed_as_unsuccessful_is_retried_too(cloud, monkeypatch, no_real_sleep):
    vpc = cloud.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    real, answers = cloud.ec2.create_flow_logs, []

    def create(**request):
        if not answers:
            answers.append("refused")
            return {"FlowLogIds": [], "Unsuccessful": [{"ResourceId": vpc, "Error": {
                "Code": "InvalidParameter", "Message": "Unable to assume given IAM role"}}]}
        return real(**request)

    monkeypatch.setattr(cloud.ec2, "create_flow_logs", create)
    assert cloud.create_flow_log(vpc).flow_log_id.startswith("fl-")


def test_a_flow_log_whose_delivery_failed_is_reported_with_what_to_do(cloud, monkeypatch):
    vpc = cloud.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    monkeypatch.setattr(cloud, "backend", "aws")  # the emulator delivers nothing to check
    real = cloud.ec2.describe_flow_logs

    def describe(**args):
        found = real(**args)
        for entry in found["FlowLogs"]:
            entry.update(DeliverLogsStatus="FAILED", DeliverLogsErrorMessage="Access error")
        return found

    monkeypatch.setattr(cloud.ec2, "describe_flow_logs", describe)
    with pytest.raises(AwsSetupError) as info:
        cloud.create_flow_log(vpc)
    message = str(info.value)
    assert "AWS reports its delivery FAILED: Access error" in message
    assert "cloud.role_policies()" in message


# --- repair ------------------------------------------------------------------------------------


def test_a_role_left_without_its_policy_is_repaired_on_the_next_run(cloud, capsys):
    name = cloud.name(flow_log_setup.ROLE)
    cloud.iam.create_role(  # what a set-up interrupted after CreateRole leaves
        RoleName=name, AssumeRolePolicyDocument=json.dumps(policies.trust_policy(
            cloud.account_id, cloud.region)),
        Tags=[{"Key": k, "Value": v} for k, v in cloud.tags.items()])
    assert cloud.iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    capsys.readouterr()
    cloud.ensure_role()
    assert "repaired  IAM role flowlogsRole (restored its policy flow-logs-publish)" in (
        capsys.readouterr().out)
    assert cloud.role_policies()["permissions"]["flow-logs-publish"] == policies.role_policy(
        cloud.account_id, cloud.region, cloud.log_group_name())
    cloud.ensure_role()  # complete now: nothing to repair
    assert capsys.readouterr().out.strip() == "exists  IAM role flowlogsRole"


def test_a_role_made_meanwhile_entity_already_exists_is_taken_over(cloud, monkeypatch, capsys,
                                                                   no_real_sleep):
    cloud.ensure_role()
    cloud.iam.delete_role_policy(RoleName="flowlogsRole", PolicyName="flow-logs-publish")
    # IAM does not show the role yet to GetRole (eventual consistency): the course tries to
    # create it and gets EntityAlreadyExists.
    real = cloud.iam.get_role
    monkeypatch.setattr(cloud.iam, "get_role", failing_first(real, [
        cloud.iam.exceptions.NoSuchEntityException(
            {"Error": {"Code": "NoSuchEntity", "Message": "not found"}}, "GetRole")] * 2))
    capsys.readouterr()
    arn = cloud.ensure_role()
    assert arn.endswith(":role/flowlogsRole")
    assert "flow-logs-publish" in cloud.role_policies()["permissions"]


def test_a_role_of_that_name_the_course_did_not_make_is_left_alone(cloud):
    cloud.iam.create_role(RoleName="flowlogsRole", AssumeRolePolicyDocument="{}")
    with pytest.raises(AwsSetupError, match="exists but was not created by the course"):
        cloud.ensure_role()
    assert cloud.iam.list_role_policies(RoleName="flowlogsRole")["PolicyNames"] == []


def test_a_bucket_is_tagged_in_its_create_request(cloud, monkeypatch):
    real, sent = cloud.s3.create_bucket, []
    monkeypatch.setattr(cloud.s3, "create_bucket",
                        lambda **kw: sent.append(kw) or real(**kw))
    name = cloud.ensure_bucket()
    tags = sent[0]["CreateBucketConfiguration"]["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == cloud.tags
    assert cloud.owns(cloud.s3.get_bucket_tagging(Bucket=name)["TagSet"])


def test_a_bucket_that_cannot_be_tagged_is_deleted_again(cloud, monkeypatch):
    monkeypatch.setattr(cloud.s3, "put_bucket_tagging", failing_first(
        cloud.s3.put_bucket_tagging, [aws_error("AccessDenied", "no s3:PutBucketTagging")]))
    with pytest.raises(AwsSetupError) as info:
        cloud.ensure_bucket()
    assert "could not be tagged (AccessDenied: no s3:PutBucketTagging)" in str(info.value)
    assert "it has been deleted again" in str(info.value)
    assert cloud.s3.list_buckets()["Buckets"] == []


# --- SSM Run Command ---------------------------------------------------------------------------


def test_run_command_waits_until_the_agent_is_online():
    ssm = client("ssm")
    with Stubber(ssm) as stub:
        wanted = {"Filters": [{"Key": "InstanceIds", "Values": ["i-1"]}]}
        stub.add_response("describe_instance_information", {"InstanceInformationList": []},
                          wanted)  # not registered yet
        stub.add_response("describe_instance_information", {"InstanceInformationList": [
            {"InstanceId": "i-1", "PingStatus": "ConnectionLost"}]}, wanted)
        stub.add_response("describe_instance_information", {"InstanceInformationList": [
            {"InstanceId": "i-1", "PingStatus": "Online"}]}, wanted)
        sleep = Recorder()
        found = run_command.wait_until_online(SimpleNamespace(backend="aws", ssm=ssm), "i-1",
                                              sleep=sleep)
        stub.assert_no_pending_responses()
    assert found["PingStatus"] == "Online" and len(sleep.waits) == 2


def test_an_agent_that_never_registers_says_what_to_check():
    ssm = client("ssm")
    with Stubber(ssm) as stub:
        for _ in range(3):
            stub.add_response("describe_instance_information", {"InstanceInformationList": []})
        with pytest.raises(AwsRetryError) as info:
            run_command.wait_until_online(SimpleNamespace(backend="aws", ssm=ssm), "i-1",
                                          sleep=Recorder(), attempts=3)
    assert "the SSM agent of instance i-1 is Online" in str(info.value)
    assert "instance profile" in str(info.value)


COMMAND = "11111111-2222-3333-4444-555555555555"  # SSM command IDs are 36 characters


def fake_lab():
    hosts = {"web": SimpleNamespace(instance_id="i-web", private_ip="10.0.1.100"),
             "private": SimpleNamespace(instance_id="i-db", private_ip="10.0.11.50")}
    return SimpleNamespace(interface=hosts.__getitem__)


def test_run_command_sends_after_registration_and_keeps_a_failed_commands_output(monkeypatch):
    ssm, sleep = client("ssm"), Recorder()
    monkeypatch.setattr(retry, "sleeper", lambda cloud: sleep)
    account = SimpleNamespace(backend="aws", ssm=ssm, say=lambda *a: None)
    with Stubber(ssm) as stub:
        stub.add_response("describe_instance_information", {"InstanceInformationList": [
            {"InstanceId": "i-web", "PingStatus": "Online"}]})
        stub.add_client_error("send_command", "InvalidInstanceId",
                              "Instances not in a valid state for account")  # just online
        stub.add_response("send_command", {"Command": {"CommandId": COMMAND}})
        failed = {"CommandId": COMMAND, "InstanceId": "i-web", "Status": "Failed",
                  "StatusDetails": "Failed", "ResponseCode": 1,
                  "StandardOutputContent": "nc: connect to 10.0.11.50 port 80 failed",
                  "StandardErrorContent": "timeout"}
        stub.add_response("get_command_invocation", failed)  # the waiter's poll
        stub.add_response("get_command_invocation", failed)  # read back for the message
        with pytest.raises(AwsSetupError) as info:
            run_command.run_live_traffic(account, "blocked", topology=fake_lab())
        stub.assert_no_pending_responses()
    message = str(info.value)
    assert (f"the blocked script did not succeed on instance i-web (command {COMMAND}, "
            "status Failed, exit code 1)") in message
    assert "nc: connect to 10.0.11.50 port 80 failed" in message and "timeout" in message
    assert len(sleep.waits) == 1  # one wait before sending again


# --- reading CloudWatch Logs -------------------------------------------------------------------


def test_the_log_reader_stops_when_the_token_repeats_not_at_an_empty_page():
    logs = client("logs")
    base = {"logGroupName": "/g", "logStreamName": "eni-1", "startFromHead": True}

    def page(messages, token):
        return {"events": [{"timestamp": 1, "message": m, "ingestionTime": 2}
                           for m in messages], "nextForwardToken": token,
                "nextBackwardToken": "b"}

    with Stubber(logs) as stub:
        stub.add_response("get_log_events", page(["one"], "f/1"), base)
        stub.add_response("get_log_events", page([], "f/2"), {**base, "nextToken": "f/1"})
        stub.add_response("get_log_events", page(["two", "three"], "f/3"),
                          {**base, "nextToken": "f/2"})
        stub.add_response("get_log_events", page([], "f/3"), {**base, "nextToken": "f/3"})
        got = [e["message"] for e in transport._events(logs, "/g", "eni-1")]
        stub.assert_no_pending_responses()
    assert got == ["one", "two", "three"]  # the empty page in the middle was not the end


@pytest.fixture
def delivered(cloud, capsys):
    """The lab with lab 3's custom-format flow log, lab 2's traffic delivered to it."""
    lab = cloud.lab_vpc()
    flow_log = cloud.create_flow_log(lab.vpc_id, log_format=notebook02.LESSON_CUSTOM,
                                     log_group=cloud.log_group_name("custom"))
    records = traffic.generate(topology=lab, **notebook02.LAB2)
    cloud.deliver(records, flow_logs=[flow_log])
    capsys.readouterr()
    return cloud, flow_log, records


def test_a_full_parse_of_a_custom_format_splits_the_message_in_its_own_order(delivered):
    cloud, flow_log, records = delivered
    got = cloud.query('parse @message "* * * * * * * *" as sa, da, sp, dp, proto, act, st, '
                      'en | filter act = "REJECT" | stats count(*) as n by sa, dp '
                      '| sort n desc, dp asc', flow_log)
    rejects = records[records["action"] == "REJECT"]
    want = rejects.groupby(["srcaddr", "dstport"]).size().sort_values(ascending=False)
    assert got["n"].tolist() == want.tolist()
    assert got["sa"].tolist() == [s for s, _ in want.index]
    # @message is the text CloudWatch Logs holds, field for field in the format's order
    held = sorted(m for stream in cloud.log_streams(flow_log)
                  for m in cloud.log_events(flow_log, stream, limit=None)["message"])
    shown = cloud.query("fields @message | limit 10000", flow_log)["@message"]
    assert sorted(shown) == held and {len(m.split()) for m in held} == {8}


def test_log_events_shows_a_stream_as_cloudwatch_logs_holds_it(delivered):
    cloud, flow_log, _ = delivered
    stream = cloud.log_streams(flow_log)[0]
    events = cloud.log_events(flow_log, stream, limit=5)
    assert list(events.columns) == ["timestamp", "ingestionTime", "message"]
    assert len(events) == 5 and str(events["timestamp"].dt.tz) == "UTC"
    assert events["timestamp"].is_monotonic_increasing
    assert len(cloud.log_events(flow_log, stream, limit=None)) > 5


def test_an_unknown_stream_is_refused_with_the_streams_there_are(delivered):
    cloud, flow_log, _ = delivered
    streams = cloud.log_streams(flow_log)
    with pytest.raises(AwsSetupError) as info:
        cloud.log_events(flow_log, streams[0][:-1] + "z")
    message = str(info.value)
    assert f"Did you mean {streams[0]!r}?" in message
    assert "Its streams: " + ", ".join(streams) in message


# --- Logs Insights and Athena polling ----------------------------------------------------------


def insights_cloud(logs):
    return Cloud("aws", REGION, ACCOUNT, None, {"logs": logs})


def rows(n: int) -> list[list[dict]]:
    return [[{"field": "srcAddr", "value": f"10.0.{i // 250}.{i % 250}"},
             {"field": "@ptr", "value": str(i)}] for i in range(n)]


def test_insights_polls_with_backoff_not_every_second():
    logs, sleep = client("logs"), Recorder()
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-1"})
        for _ in range(5):
            stub.add_response("get_query_results", {"status": "Running", "results": []})
        stub.add_response("get_query_results", {"status": "Complete", "results": rows(1)})
        logs_insights.run_on_cloud(insights_cloud(logs), "fields srcAddr", "/g", 0, 60,
                                   sleep=sleep)
    assert sleep.waits == [1.0, 1.5, 2.25, 3.375, 5.062]


def test_a_result_at_the_10000_row_default_warns_that_rows_may_be_missing():
    logs = client("logs")
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-1"})
        stub.add_response("get_query_results", {"status": "Complete",
                                                "results": rows(10_000)})
        with pytest.warns(InsightsResultLimitWarning, match="10,000 rows, the most Logs "
                                                            "Insights returns by default"):
            got = logs_insights.run_on_cloud(insights_cloud(logs), "fields srcAddr", "/g",
                                             0, 60, sleep=Recorder())
    assert len(got) == 10_000


def test_a_result_at_the_queries_own_smaller_limit_does_not_warn():
    logs = client("logs")
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-1"})
        stub.add_response("get_query_results", {"status": "Complete", "results": rows(30)})
        got = logs_insights.run_on_cloud(insights_cloud(logs), "fields srcAddr | limit 30",
                                         "/g", 0, 60, sleep=Recorder())
    assert len(got) == 30  # warnings are errors in these tests: none was raised


def test_an_insights_query_is_stopped_after_an_api_error():
    logs = client("logs")
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-9"})
        stub.add_response("get_query_results", {"status": "Running", "results": []})
        stub.add_client_error("get_query_results", "InvalidParameterException", "bad token")
        stub.add_response("stop_query", {"success": True}, {"queryId": "q-9"})
        with pytest.raises(InsightsError, match="q-9.*bad token.*has been stopped"):
            logs_insights.run_on_cloud(insights_cloud(logs), "fields srcAddr", "/g", 0, 60,
                                       sleep=Recorder())
        stub.assert_no_pending_responses()


def test_an_insights_query_is_stopped_when_the_student_interrupts():
    logs = client("logs")

    def interrupt(seconds):
        raise KeyboardInterrupt

    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-7"})
        stub.add_response("get_query_results", {"status": "Running", "results": []})
        stub.add_response("stop_query", {"success": True}, {"queryId": "q-7"})
        with pytest.raises(KeyboardInterrupt):
            logs_insights.run_on_cloud(insights_cloud(logs), "fields srcAddr", "/g", 0, 60,
                                       sleep=interrupt)
        stub.assert_no_pending_responses()


def test_a_finished_insights_query_is_not_stopped():
    logs = client("logs")
    with Stubber(logs) as stub:
        stub.add_response("start_query", {"queryId": "q-3"})
        stub.add_response("get_query_results", {"status": "Failed", "results": []})
        with pytest.raises(InsightsError, match="q-3 failed"):
            logs_insights.run_on_cloud(insights_cloud(logs), "fields srcAddr", "/g", 0, 60,
                                       sleep=Recorder())
        stub.assert_no_pending_responses()  # no StopQuery was expected, none was sent


def test_an_athena_query_is_stopped_after_an_api_error_and_polled_with_backoff():
    client_ = client("athena")
    sleep = Recorder()
    running = {"QueryExecution": {"QueryExecutionId": "a-1", "Status": {"State": "RUNNING"}}}
    with Stubber(client_) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "a-1"})
        stub.add_response("get_query_execution", running)
        stub.add_response("get_query_execution", running)
        stub.add_client_error("get_query_execution", "InvalidRequestException", "gone")
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "a-1"})
        with pytest.raises(InsightsError, match="a-1: .*gone.*has been stopped"):
            athena.run_athena(Cloud("aws", REGION, ACCOUNT, None, {"athena": client_}),
                              "SELECT 1", "db", "s3://b/r/", sleep=sleep)
        stub.assert_no_pending_responses()
    assert sleep.waits == [1.0, 1.5]


# --- teardown ----------------------------------------------------------------------------------


@pytest.fixture
def built(cloud, capsys):
    lab = cloud.lab_vpc()
    cloud.create_flow_log(lab.vpc_id)
    cloud.create_flow_log(lab.vpc_id, destination="s3")
    capsys.readouterr()
    return cloud, lab


def test_teardown_goes_on_past_a_failure_and_reports_what_is_left(built, monkeypatch, capsys):
    cloud, lab = built
    stuck = teardown._describe(cloud, "security-group", cloud.tag_filters())[0]["GroupId"]
    real = cloud.ec2.delete_security_group

    def delete(**args):
        if args["GroupId"] == stuck:
            raise aws_error("UnauthorizedOperation", "not allowed", "DeleteSecurityGroup")
        return real(**args)

    monkeypatch.setattr(cloud.ec2, "delete_security_group", delete)
    report = cloud.teardown()
    out = capsys.readouterr().out
    left = report[report["status"] == "left"]
    assert left.loc[left["id"] == stuck, "reason"].tolist() == [
        "UnauthorizedOperation: not allowed"]
    assert f"    left  security group {stuck}: UnauthorizedOperation: not allowed" in out
    assert "could not be deleted and are left" in out
    deleted = set(report.loc[report["status"] == "deleted", "resource"])
    # what came after the failure was still deleted
    assert {"subnet", "log group", "S3 bucket", "IAM role", "flow log"} <= deleted
    assert list(report.columns) == ["resource", "id", "status", "reason"]
    monkeypatch.undo()
    again = cloud.teardown()  # a second run finishes the job
    assert set(again["status"]) == {"deleted"} and stuck in set(again["id"])


def test_a_dependency_violation_is_retried_with_backoff(built, monkeypatch, capsys):
    cloud, lab = built
    subnet = teardown._describe(cloud, "subnet", cloud.tag_filters())[0]["SubnetId"]
    busy = aws_error("DependencyViolation", f"The subnet '{subnet}' has dependencies and "
                     "cannot be deleted.", "DeleteSubnet")
    real = cloud.ec2.delete_subnet
    answers = {subnet: [busy, busy]}

    def delete(**args):
        if answers.get(args["SubnetId"]):
            raise answers[args["SubnetId"]].pop(0)
        return real(**args)

    monkeypatch.setattr(cloud.ec2, "delete_subnet", delete)
    sleep = Recorder()
    report = teardown.teardown(cloud, sleep=sleep)
    assert report.loc[report["id"] == subnet, "status"].tolist() == ["deleted"]
    assert sleep.waits == retry.delays("teardown subnet", teardown.ATTEMPTS)[:2]
    assert set(report["status"]) == {"deleted"}


def test_teardown_deletes_every_version_and_delete_marker(cloud, capsys):
    bucket = cloud.ensure_bucket()
    cloud.s3.put_bucket_versioning(Bucket=bucket,
                                   VersioningConfiguration={"Status": "Enabled"})
    key = f"AWSLogs/{cloud.account_id}/vpcflowlogs/x.log.gz"
    cloud.s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    cloud.s3.put_object(Bucket=bucket, Key=key, Body=b"2")
    cloud.s3.delete_object(Bucket=bucket, Key=key)  # leaves a delete marker
    report = cloud.teardown()
    assert report.loc[report["resource"] == "S3 bucket", "status"].tolist() == ["deleted"]
    assert cloud.s3.list_buckets()["Buckets"] == []


def test_teardown_looks_up_by_the_students_prefixes_not_the_whole_account(capsys):
    kim = aws.connect(student="kim")
    kim.ensure_log_group()
    asked = []

    def record(params, event_name, **kwargs):
        asked.append((event_name.rsplit(".", 1)[-1], dict(params)))

    watched = {"logs": "DescribeLogGroups", "cloudwatch": "DescribeAlarms", "s3": "ListBuckets"}
    for service, operation in watched.items():
        kim.clients[service].meta.events.register(
            f"provide-client-params.{kim.clients[service].meta.service_model.service_id.hyphenize()}"
            f".{operation}", record)
    try:
        report = kim.teardown()
    finally:
        for service, operation in watched.items():
            kim.clients[service].meta.events.unregister(
                f"provide-client-params.{kim.clients[service].meta.service_model.service_id.hyphenize()}"
                f".{operation}", record)
    prefixes = {(name, value) for name, params in asked for key, value in params.items()
                if "Prefix" in key}
    assert ("DescribeLogGroups", "/aws/vpc/kim/") in prefixes
    assert ("DescribeAlarms", "kim-") in prefixes
    assert ("ListBuckets", "saa-study-flowlogs-kim-") in prefixes
    assert not [name for name, params in asked if name == "DescribeLogGroups" and not params]
    assert report["id"].tolist() == ["/aws/vpc/kim/flowlogs"]
    capsys.readouterr()


def test_sweep_tears_down_every_student_of_the_class_and_no_one_else(capsys):
    base = aws.connect()
    members = {name: Cloud("local", base.region, base.account_id, name, base.clients,
                           base.generation, class_name=klass)
               for name, klass in (("kim", "cls-a"), ("lee", "cls-a"), ("park", "cls-b"))}
    for member in members.values():
        member.ensure_log_group()
        member.ensure_role()
        member.ensure_bucket()
    capsys.readouterr()
    instructor = Cloud("local", base.region, base.account_id, "instructor", base.clients,
                       base.generation, class_name="cls-a", instructor=True)
    instructor.ensure_log_group()  # something of the class's shared set-up
    capsys.readouterr()
    report = teardown.sweep(instructor, "cls-a")
    out = capsys.readouterr().out
    assert list(dict.fromkeys(report["student"])) == ["kim", "lee", "instructor"]  # shared last
    assert set(report["status"]) == {"deleted"}
    assert out.splitlines() == ["teardown of kim: deleted 3", "teardown of lee: deleted 3",
                                "teardown of instructor: deleted 1"]
    groups = [g["logGroupName"] for g in base.logs.describe_log_groups()["logGroups"]]
    assert groups == ["/aws/vpc/park/flowlogs"]  # the other class's student is untouched
    assert [r["RoleName"] for r in base.iam.list_roles()["Roles"]] == ["park-flowlogsRole"]


# --- read-back and quiet reports ---------------------------------------------------------------


def test_bucket_policy_reads_back_what_s3_holds(cloud):
    bucket = cloud.ensure_bucket()
    assert cloud.bucket_policy(bucket) == policies.bucket_policy(bucket, cloud.account_id,
                                                                 cloud.region)
    cloud.s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(AwsSetupError, match="has no bucket policy"):
        cloud.bucket_policy(bucket)


def test_summary_reports_print_one_line_and_steps_stay_the_default(cloud, capsys):
    vpc = cloud.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    flow_log = cloud.create_flow_log(vpc, report="summary")
    assert capsys.readouterr().out == (
        f"flow log {flow_log.flow_log_id} ({vpc} ALL → /aws/vpc/flowlogs): created 3\n")
    bucket = cloud.ensure_bucket(report="summary")
    assert capsys.readouterr().out == f"S3 bucket {bucket}: created 1\n"
    cloud.ensure_bucket(report="none")
    assert capsys.readouterr().out == ""
    cloud.create_flow_log(vpc)  # the default: every step, as before
    assert capsys.readouterr().out.splitlines() == [
        "  exists  log group /aws/vpc/flowlogs", "  exists  IAM role flowlogsRole",
        f"  exists  flow log {flow_log.flow_log_id} ({vpc} ALL → /aws/vpc/flowlogs)"]
    cloud.teardown(report="summary")
    assert capsys.readouterr().out == "teardown: deleted 4\n"
    with pytest.raises(AwsSetupError, match="report must be one of 'steps', 'summary', "
                                            "'none'"):
        cloud.ensure_bucket(report="quiet")


def test_the_stored_message_is_what_offline_queries_see_for_the_default_format(cloud, capsys):
    lab = cloud.lab_vpc()
    flow_log = cloud.create_flow_log(lab.vpc_id)
    records = traffic.generate(topology=lab, **notebook02.LAB2)
    cloud.deliver(records, flow_logs=[flow_log])
    capsys.readouterr()
    with_text = transport.insights_records(cloud, flow_log)
    rebuilt = insights.run("fields @message", cloud.read_flow_logs(flow_log))
    stored = insights.run("fields @message", with_text)
    pd.testing.assert_frame_equal(stored, rebuilt)  # same text for the default format


def test_teardown_waits_while_interfaces_are_detaching():
    ec2, sleep = client("ec2"), Recorder()
    cloud = Cloud("aws", REGION, ACCOUNT, "kim", {"ec2": ec2})
    run = teardown._Run(cloud, {"course": "c"}, False, sleep)
    wanted = {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]},
                          {"Name": "status", "Values": ["attaching", "detaching"]}]}
    with Stubber(ec2) as stub:
        stub.add_response("describe_network_interfaces", {"NetworkInterfaces": [
            {"NetworkInterfaceId": "eni-1", "Status": "detaching"}]}, wanted)
        stub.add_response("describe_network_interfaces", {"NetworkInterfaces": []}, wanted)
        run.wait_for_interfaces(["vpc-1"])
        stub.assert_no_pending_responses()
    assert len(sleep.waits) == 1


def test_a_nat_gateway_already_deleting_is_waited_for_not_deleted_again(built, monkeypatch):
    cloud, _ = built
    real = cloud.ec2.describe_nat_gateways

    def describe(**args):
        found = real(**args)
        for nat in found["NatGateways"]:
            nat["State"] = "deleting"  # a teardown before this one was interrupted
        return found

    def never(**args):
        raise AssertionError("a NAT gateway that is deleting was deleted again")

    waited = []
    waiter = SimpleNamespace(wait=lambda **args: waited.append(args))
    monkeypatch.setattr(cloud.ec2, "describe_nat_gateways", describe)
    monkeypatch.setattr(cloud.ec2, "delete_nat_gateway", never)
    monkeypatch.setattr(cloud.ec2, "get_waiter", lambda name: waited.append(name) or waiter)
    monkeypatch.setattr(cloud, "backend", "aws")
    run = teardown._Run(cloud, teardown._identity(cloud), False, Recorder())
    run.nat_gateways()
    nats = [n["NatGatewayId"] for n in real()["NatGateways"]]
    assert waited == ["nat_gateway_deleted", {"NatGatewayIds": nats}]
    assert run.rows == [("NAT gateway", nat, "deleted", "") for nat in nats]


def test_instances_shutting_down_are_waited_for_not_terminated_again(built, monkeypatch):
    cloud, lab = built
    real = cloud.ec2.describe_instances

    def describe(**args):
        found = real(**args)
        for reservation in found["Reservations"]:
            for instance in reservation["Instances"]:
                instance["State"] = {"Code": 32, "Name": "shutting-down"}
        return found

    def never(**args):
        raise AssertionError("an instance shutting down was terminated again")

    waited = []
    waiter = SimpleNamespace(wait=lambda **args: waited.append(args))
    monkeypatch.setattr(cloud.ec2, "describe_instances", describe)
    monkeypatch.setattr(cloud.ec2, "terminate_instances", never)
    monkeypatch.setattr(cloud.ec2, "get_waiter", lambda name: waited.append(name) or waiter)
    monkeypatch.setattr(cloud, "backend", "aws")
    run = teardown._Run(cloud, teardown._identity(cloud), False, Recorder())
    run.instances()
    ids = sorted(e.instance_id for e in lab.interfaces if e.instance_id)
    assert waited == ["instance_terminated", {"InstanceIds": ids}]
    assert [row[1] for row in run.rows] == ids and {row[2] for row in run.rows} == {"deleted"}


def test_the_auto_block_function_is_retried_while_lambda_cannot_assume_its_new_role(
        monkeypatch):
    lam, sleep = client("lambda"), Recorder()
    monkeypatch.setattr(retry, "sleeper", lambda cloud: sleep)
    cloud = Cloud("aws", REGION, ACCOUNT, "kim", {"lambda": lam})
    names = responder._names(cloud)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{names.function}"
    with Stubber(lam) as stub:
        stub.add_client_error("create_function", "InvalidParameterValueException",
                              "The role defined for the function cannot be assumed by Lambda.")
        stub.add_response("create_function", {"FunctionArn": arn})
        stub.add_response("get_function", {"Configuration": {"State": "Active"}})
        got = responder._create_function(cloud, lam, names, "arn:aws:iam::1:role/r", b"zip",
                                         {})
        stub.assert_no_pending_responses()
    assert got == arn and len(sleep.waits) == 1



def test_an_s3_flow_logs_records_are_written_back_as_text_in_its_format(cloud, capsys):
    lab = cloud.lab_vpc()
    flow_log = cloud.create_flow_log(lab.vpc_id, destination="s3", file_format="parquet",
                                     log_format=notebook02.LESSON_CUSTOM)
    cloud.deliver(traffic.generate(topology=lab, **notebook02.LAB2), flow_logs=[flow_log])
    capsys.readouterr()
    got = cloud.query('parse @message "* * * * * * * *" as sa, da, sp, dp, proto, act, st, '
                      'en | stats count(*) as n by act | sort act', flow_log)
    records = cloud.read_flow_logs(flow_log)
    want = records["action"].fillna("-").value_counts().sort_index()
    assert dict(zip(got["act"], got["n"])) == want.to_dict()
