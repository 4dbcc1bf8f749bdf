"""CloudWatch and SNS through the Cloud: the emulator (local) and stubbed AWS (aws backend)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber

from helpers import aws, flowlogs, traffic
from helpers.aws import emulator
from helpers.aws.cloud import Cloud
from helpers.errors import AwsSetupError, MonitoringError
from helpers.flowlogs.delivery import FlowLog
from helpers.monitoring import alarms, dashboard, evaluate, metrics


@pytest.fixture
def cloud(capsys):
    cloud = aws.connect("local")
    yield cloud
    capsys.readouterr()


def _out(capsys) -> str:
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def measured():
    lab = traffic.default_topology()
    records = traffic.generate(["lab_download", "data_exfiltration", "web_baseline"],
                               topology=lab, seed=7, duration="3h")
    flow_log = FlowLog("fl-1", lab.vpc_id, "ALL", flowlogs.DEFAULT_FORMAT, "cloud-watch-logs",
                       log_group="/aws/vpc/flowlogs")
    frame = pd.concat([metrics.nat_metrics(records, lab),
                       metrics.log_group_metrics(records, flow_log)], ignore_index=True)
    return lab, records, frame


def test_put_metrics_batches_and_reads_back(cloud, measured, capsys):
    lab, records, frame = measured
    report = cloud.put_metrics(frame)
    nat = report.set_index("namespace").loc["AWS/NATGateway"]
    assert (nat["metrics"], nat["datapoints"], nat["calls"]) == (14, 14 * 180, 3)  # ≤1000 each
    assert "put  2520 datapoints of 14 metrics in AWS/NATGateway" in _out(capsys)
    start = datetime.fromtimestamp(int(records["start"].min()), tz=timezone.utc)
    end = datetime.fromtimestamp(int(records["end"].max()) + 60, tz=timezone.utc)
    back = cloud.read_metrics(start, end, nat_gateway_id=lab.nat_gateway_id,
                                log_group="/aws/vpc/flowlogs")
    # The emulator ignores the namespace when dimensions are given (DESIGN §9), so compare
    # metric by metric, each with its own dimension.
    for name in ("BytesOutToDestination", "ConnectionAttemptCount", "IncomingLogEvents"):
        put = metrics.series(frame, name)
        got = metrics.series(back, name)
        assert got.sum() == put.sum() and put.sum() > 0
        assert got[got > 0].index.equals(put[put > 0].index)


def test_the_dashboard_is_stored_once(cloud, capsys):
    body = dashboard.dashboard_body("nat-1", "/aws/vpc/flowlogs", cloud.region)
    assert cloud.put_dashboard(body) == "VPC-Network-Monitoring"
    assert cloud.put_dashboard(body) == "VPC-Network-Monitoring"
    changed = dashboard.dashboard_body("nat-1", "/aws/vpc/flowlogs", cloud.region, period=60)
    cloud.put_dashboard(changed)
    out = _out(capsys).splitlines()
    assert [line.split()[0] for line in out] == ["created", "exists", "updated"]
    stored = cloud.cloudwatch.get_dashboard(DashboardName="VPC-Network-Monitoring")
    assert json.loads(stored["DashboardBody"]) == changed


def test_alarms_and_topic_are_created_once(cloud, capsys):
    lab = cloud.lab_vpc()
    _out(capsys)
    specs = alarms.lesson_alarms(lab.nat_gateway_id, cloud.log_group_name())
    first = cloud.create_alarms(specs, email="kim@example.com")
    assert first["status"].eq("created").all() and len(first) == 4
    assert set(first["alarm"]) == {"High-NAT-Traffic", "NAT-Connection-Errors",
                                   "FlowLogs-Missing", "High-Reject-Rate"}
    assert "created  SNS topic network-alerts" in _out(capsys)
    again = cloud.create_alarms(specs, email="kim@example.com")
    out = _out(capsys)
    assert again["status"].eq("exists").all() and "created" not in out
    found = cloud.cloudwatch.describe_alarms()["MetricAlarms"]
    assert len(found) == 4
    missing = next(a for a in found if a["AlarmName"] == "FlowLogs-Missing")
    assert (missing["TreatMissingData"], missing["Namespace"]) == ("breaching", "AWS/Logs")
    traffic_alarm = next(a for a in found if a["AlarmName"] == "High-NAT-Traffic")
    assert traffic_alarm["Namespace"] == "AWS/NATGateway"
    assert traffic_alarm["Dimensions"] == [{"Name": "NatGatewayId",
                                            "Value": lab.nat_gateway_id}]
    assert traffic_alarm["AlarmActions"][0].endswith(":network-alerts")
    tags = cloud.cloudwatch.list_tags_for_resource(ResourceARN=traffic_alarm["AlarmArn"])
    assert cloud.owns(tags["Tags"])
    louder = [replace(specs[0], threshold=2 * specs[0].threshold)]
    assert cloud.create_alarms(louder, email="kim@example.com")["status"].tolist() == [
        "updated"]
    subscriptions = cloud.sns.list_subscriptions()["Subscriptions"]
    assert [s["Endpoint"] for s in subscriptions] == ["kim@example.com"]


@pytest.mark.parametrize("bad", [None, "High-NAT-Traffic", [1, 2]])
def test_create_alarms_needs_alarm_specs(cloud, bad):
    with pytest.raises(MonitoringError, match="alarms must be a list of AlarmSpec"):
        cloud.create_alarms(bad)


def test_resources_the_course_did_not_create_are_left_alone(cloud, capsys):
    cloud.sns.create_topic(Name="network-alerts")  # someone else's, untagged
    with pytest.raises(AwsSetupError, match="SNS topic 'network-alerts' exists but was not"):
        cloud.ensure_topic()
    spec = alarms.lesson_alarms("nat-1", "/aws/vpc/flowlogs")[0]
    cloud.cloudwatch.put_metric_alarm(**spec.to_api())  # someone else's, untagged
    with pytest.raises(AwsSetupError, match="alarm 'High-NAT-Traffic' exists but was not"):
        cloud.create_alarms([spec], topic_arn="arn:aws:sns:ap-northeast-2:1:t")


def test_the_metric_filter_is_created_once(cloud, capsys):
    with pytest.raises(AwsSetupError, match="log group '/aws/vpc/flowlogs' does not exist"):
        cloud.create_metric_filter()
    cloud.ensure_log_group()
    spec = cloud.create_metric_filter()
    cloud.create_metric_filter()
    changed = alarms.MetricFilterSpec(spec.name, spec.log_group, "[..., action=REJECT, status]",
                                      spec.namespace, spec.metric)
    cloud.create_metric_filter(changed)
    out = [line.split()[0] for line in _out(capsys).splitlines()]
    assert out == ["created", "created", "exists", "updated"]
    stored = cloud.logs.describe_metric_filters(logGroupName=spec.log_group)["metricFilters"]
    assert [f["filterPattern"] for f in stored] == ["[..., action=REJECT, status]"]
    assert stored[0]["metricTransformations"][0]["metricNamespace"] == "Day5-3/FlowLogs"


def test_custom_metrics_stay_out_of_aws_namespaces():
    with pytest.raises(MonitoringError, match="reserved for AWS's services"):
        alarms.MetricFilterSpec("f", "/g", "REJECT", "AWS/Logs", "Rejects")


def test_publish_sends_cloudwatchs_message_and_mirrors_the_state(cloud, capsys):
    topic = cloud.ensure_topic()
    sqs = boto3.Session(region_name=cloud.region, **emulator.CREDENTIALS).client(
        "sqs", endpoint_url=emulator.endpoint())
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    cloud.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    spec = alarms.AlarmSpec("Rejects", "demo", "Day5-3/FlowLogs", "RejectedFlows", "Sum", 60, 1,
                            100, "GreaterThanThreshold")
    cloud.create_alarms([spec], topic_arn=topic)
    minutes = pd.date_range("2021-12-20", periods=6, freq="min", tz="UTC")
    timeline = evaluate.evaluate_alarm(spec, pd.Series([0, 150, 0, 0, 300, 0], index=minutes))
    _out(capsys)
    sent = cloud.publish_alarm(timeline)
    assert sent["time"].tolist() == ["2021-12-20T00:02:00.000+0000",
                                     "2021-12-20T00:05:00.000+0000"]
    out = _out(capsys)
    assert 'notified  ALARM: "Rejects" in Asia Pacific (Seoul) at 2021-12-20T00:02' in out
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    envelopes = [json.loads(m["Body"]) for m in received]
    assert {e["Subject"] for e in envelopes} == {'ALARM: "Rejects" in Asia Pacific (Seoul)'}
    message = json.loads(envelopes[0]["Message"])
    assert message["AlarmName"] == "Rejects" and message["NewStateValue"] == "ALARM"
    assert message["Trigger"]["Namespace"] == "Day5-3/FlowLogs"
    assert message["AlarmActions"] == [topic]
    state = cloud.cloudwatch.describe_alarms(AlarmNames=["Rejects"])["MetricAlarms"][0]
    assert state["StateValue"] == timeline.state == "OK"
    assert state["StateReason"] == timeline.transitions["reason"].iloc[-1]


def test_publish_needs_the_alarm(cloud):
    spec = alarms.AlarmSpec("Nowhere", "", "N", "M", "Sum", 60, 1, 1, "GreaterThanThreshold")
    timeline = evaluate.evaluate_alarm(spec, pd.Series(
        [2.0], index=pd.DatetimeIndex(["2021-12-20"], tz="UTC")))
    with pytest.raises(MonitoringError, match="does not exist in the emulator"):
        cloud.publish_alarm(timeline)


def _monitoring_setup(cloud):
    cloud.ensure_log_group()
    cloud.create_alarms(alarms.lesson_alarms("nat-1", cloud.log_group_name(),
                                                     prefix=cloud.student))
    cloud.create_metric_filter()
    cloud.put_dashboard(dashboard.dashboard_body("nat-1", "/g", cloud.region))


def test_teardown_removes_the_monitoring_and_nothing_else(cloud, capsys):
    _monitoring_setup(cloud)
    kim = Cloud("local", cloud.region, cloud.account_id, "kim", cloud.clients, cloud.generation)
    _monitoring_setup(kim)
    cw, logs = cloud.cloudwatch, cloud.logs
    cw.put_metric_alarm(AlarmName="someone-elses", MetricName="X", Namespace="Y",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold")
    cw.put_dashboard(DashboardName="Ops", DashboardBody=json.dumps({"widgets": []}))
    cloud.sns.create_topic(Name="ops-alerts")
    logs.create_log_group(logGroupName="/ops")
    logs.put_metric_filter(logGroupName="/ops", filterName="rejected-flows",
                           filterPattern="REJECT", metricTransformations=[
                               {"metricName": "R", "metricNamespace": "Ops", "metricValue": "1"}])
    _out(capsys)
    removed = cloud.teardown()
    kinds = removed.groupby("resource")["id"].apply(sorted).to_dict()
    assert kinds["alarm"] == sorted(["High-NAT-Traffic", "NAT-Connection-Errors",
                                     "FlowLogs-Missing", "High-Reject-Rate"])
    assert kinds["dashboard"] == ["VPC-Network-Monitoring"]
    assert kinds["metric filter"] == ["/aws/vpc/flowlogs:rejected-flows"]
    assert kinds["SNS topic"] == ["network-alerts"]
    assert kinds["SNS subscription"] == ["student@example.com"]
    assert "deleted  alarm High-NAT-Traffic" in _out(capsys)
    left = {a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]}
    assert left == {"someone-elses", "kim-High-NAT-Traffic", "kim-NAT-Connection-Errors",
                    "kim-FlowLogs-Missing", "kim-High-Reject-Rate"}
    assert {d["DashboardName"] for d in cw.list_dashboards()["DashboardEntries"]} == {
        "Ops", "kim-VPC-Network-Monitoring"}
    assert {t["TopicArn"].rsplit(":", 1)[-1] for t in cloud.sns.list_topics()["Topics"]} == {
        "ops-alerts", "kim-network-alerts"}
    assert {(f["logGroupName"], f["filterName"])
            for f in logs.describe_metric_filters()["metricFilters"]} == {
        ("/ops", "rejected-flows"), ("/aws/vpc/kim/flowlogs", "kim-rejected-flows")}
    kim.teardown()
    assert {a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]} == {"someone-elses"}


# --- the aws backend ---------------------------------------------------------------------------


def _aws_cloud(**clients) -> Cloud:
    made = {name: boto3.client(name, region_name="ap-northeast-2", aws_access_key_id="x",
                               aws_secret_access_key="x") for name in clients}
    return Cloud("aws", "ap-northeast-2", "123456789012", None, made)


def test_read_metrics_on_aws_pages_through_get_metric_data():
    cloud = _aws_cloud(cloudwatch=True)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    end = datetime(2026, 11, 2, 9, 3, tzinfo=timezone.utc)
    query = {"Id": "m0", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": "AWS/NATGateway", "MetricName": "ActiveConnectionCount",
                   "Dimensions": [{"Name": "NatGatewayId", "Value": "nat-1"}]},
        "Period": 60, "Stat": "Maximum"}}
    expected = {"MetricDataQueries": [query], "StartTime": start, "EndTime": end,
                "ScanBy": "TimestampAscending"}
    stamps = [datetime(2026, 11, 2, 9, m, tzinfo=timezone.utc) for m in range(3)]
    with Stubber(cloud.cloudwatch) as stub:
        stub.add_response("get_metric_data", {"NextToken": "page-2", "MetricDataResults": [
            {"Id": "m0", "Timestamps": stamps[:2], "Values": [3.0, 5.0],
             "StatusCode": "PartialData"}]}, expected)
        stub.add_response("get_metric_data", {"MetricDataResults": [
            {"Id": "m0", "Timestamps": stamps[2:], "Values": [4.0], "StatusCode": "Complete"}]},
            {**expected, "NextToken": "page-2"})
        frame = cloud.read_metrics(start, end, extra=[
            ("AWS/NATGateway", "ActiveConnectionCount", "NatGatewayId", "nat-1", "Maximum")])
        stub.assert_no_pending_responses()
    assert frame["value"].tolist() == [3.0, 5.0, 4.0]
    assert frame["timestamp"].dt.strftime("%H:%M").tolist() == ["09:00", "09:01", "09:02"]
    assert set(frame["unit"]) == {"Count"}


def test_read_metrics_asks_for_something():
    with pytest.raises(MonitoringError, match="nothing to read"):
        _aws_cloud(cloudwatch=True).read_metrics(0, 60)


def test_on_aws_nothing_is_put_or_published(measured, capsys):
    cloud = _aws_cloud(cloudwatch=True, sns=True)
    _, _, frame = measured
    spec = alarms.AlarmSpec("a", "", "N", "M", "Sum", 60, 1, 1, "GreaterThanThreshold")
    timeline = evaluate.evaluate_alarm(spec, pd.Series(
        [2.0], index=pd.DatetimeIndex(["2021-12-20"], tz="UTC")))
    with Stubber(cloud.cloudwatch) as cw, Stubber(cloud.sns) as sns:
        assert cloud.put_metrics(frame).empty
        assert cloud.publish_alarm(timeline).empty
        cw.assert_no_pending_responses()
        sns.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert "publish these metrics themselves" in out and "notifies its SNS topic" in out


def test_an_invalid_dashboard_is_explained():
    cloud = _aws_cloud(cloudwatch=True)
    body = dashboard.dashboard_body("nat-1", "/g", "ap-northeast-2")
    with Stubber(cloud.cloudwatch) as stub:
        stub.add_client_error("get_dashboard", "ResourceNotFound", http_status_code=404)
        stub.add_response("put_dashboard", {"DashboardValidationMessages": [
            {"DataPath": "/widgets/0/properties/region", "Message": "Should be a region"}]},
            {"DashboardName": "VPC-Network-Monitoring", "DashboardBody": json.dumps(body)})
        with pytest.raises(MonitoringError, match="properties/region: Should be a region"):
            cloud.put_dashboard(body)
        stub.assert_no_pending_responses()


def test_ensure_topic_on_aws_says_a_confirmation_is_coming(capsys):
    cloud = _aws_cloud(sns=True)
    arn = "arn:aws:sns:ap-northeast-2:123456789012:network-alerts"
    with Stubber(cloud.sns) as stub:
        stub.add_response("list_topics", {"Topics": []})
        stub.add_response("create_topic", {"TopicArn": arn},
                          {"Name": "network-alerts", "Tags": cloud.tag_list()})
        stub.add_response("list_subscriptions_by_topic", {"Subscriptions": []},
                          {"TopicArn": arn})
        stub.add_response("subscribe", {"SubscriptionArn": "pending confirmation"},
                          {"TopicArn": arn, "Protocol": "email", "Endpoint": "kim@example.com"})
        assert cloud.ensure_topic(email="kim@example.com") == arn
        stub.assert_no_pending_responses()
    assert "AWS sent a confirmation e-mail to kim@example.com" in capsys.readouterr().out
