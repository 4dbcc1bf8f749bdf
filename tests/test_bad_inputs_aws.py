"""Ordinary mistakes with the Cloud get course errors that name what was wrong.

One table feeds a bad input to every public method of the Cloud (and to ``connect``); each
must raise an :class:`AwsSetupError` (or another ``CourseError``) whose message names the
offending argument or value, never a raw botocore, KeyError or TypeError. The tests after the
table pin the behaviours the hardening asked for one by one.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import aws, flowlogs, times, traffic
from helpers.aws import emulator
from helpers.errors import AwsSetupError, CourseError, TimeValueError

_WORLD: list = []


@pytest.fixture
def world(capsys):
    """A lab, a flow log to CloudWatch Logs and one to S3; made again only after another
    test's ``aws.connect()`` reset the emulator."""
    if not _WORLD or _WORLD[0].generation != emulator.generation():
        cloud = aws.connect("local")
        lab = cloud.lab_vpc()
        cwl = cloud.create_flow_log(lab.vpc_id)
        s3 = cloud.create_flow_log(lab.vpc_id, destination="s3")
        _WORLD[:] = [cloud, lab, cwl, s3]
        capsys.readouterr()
    return tuple(_WORLD)


BAD_CALLS = [
    # (description, call(cloud, lab, cwl, s3), words the message must contain)
    ("backend of the wrong type", lambda c, *_: aws.connect(3), "backend"),
    ("student with a space", lambda c, *_: aws.connect(student="Kim Lee"), "'Kim Lee'"),
    ("student not text", lambda c, *_: aws.connect(student=7), "7"),
    ("negative seed", lambda c, *_: aws.connect(seed=-1), "seed"),
    ("lab_vpc create not a flag", lambda c, *_: c.lab_vpc(create="yes"), "create"),
    ("log group name with a space", lambda c, *_: c.ensure_log_group("/aws/vpc flowlogs"),
     "'/aws/vpc flowlogs'"),
    ("retention AWS does not offer", lambda c, *_: c.ensure_log_group(retention_days=10),
     "retention_days"),
    ("log_group_name variant with a slash space", lambda c, *_: c.log_group_name("a b"),
     "variant"),
    ("bucket suffix with capitals and _", lambda c, *_: c.ensure_bucket("My_Bucket"),
     "suffix"),
    ("flow log on a resource that is no VPC/subnet/ENI",
     lambda c, *_: c.create_flow_log("i-0123456789abcdef0"), "vpc-, subnet- or eni-"),
    ("flow log resource not text", lambda c, *_: c.create_flow_log(None), "resource_id"),
    ("flow log with a malformed log group",
     lambda c, lab, *_: c.create_flow_log(lab.vpc_id, log_group="/aws/vpc/flowlogs-a b"),
     "'/aws/vpc/flowlogs-a b'"),
    ("flow log traffic type in lowercase",
     lambda c, lab, *_: c.create_flow_log(lab.vpc_id, traffic_type="all"), "'all'"),
    ("flow log with the lesson's field names",
     lambda c, lab, *_: c.create_flow_log(lab.vpc_id, log_format="${windowstart}"),
     "windowstart"),
    ("flow log to a malformed bucket",
     lambda c, lab, *_: c.create_flow_log(lab.vpc_id, destination="s3", bucket="Bad_Bucket"),
     "'Bad_Bucket'"),
    ("deliver a list", lambda c, *_: c.deliver([1, 2]), "list"),
    ("deliver records without interfaces",
     lambda c, *_: c.deliver(pd.DataFrame({"start": [1], "end": [2], "action": ["ACCEPT"]})),
     "interface_id"),
    ("deliver records of interfaces the account lacks",
     lambda c, *_: c.deliver(traffic.generate(seed=0, duration="10m")),
     "eni-"),
    ("read a flow log given as text", lambda c, *_: c.read_flow_logs("fl-1"), "str"),
    ("log streams of an S3 flow log", lambda c, lab, cwl, s3: c.log_streams(s3),
     "cloud-watch-logs"),
    ("bucket keys of a CloudWatch Logs flow log", lambda c, lab, cwl, s3: c.bucket_keys(cwl),
     "s3"),
    ("describe a flow log given as text", lambda c, *_: c.describe_flow_log("fl-1"), "str"),
    ("a log group that does not exist", lambda c, *_: c.log_group("/aws/vpc/nothing"),
     "'/aws/vpc/nothing'"),
    ("metrics that are not a frame", lambda c, *_: c.put_metrics({"a": 1}), "dict"),
    ("metrics frame without its columns", lambda c, *_: c.put_metrics(pd.DataFrame({"x": [1]})),
     "timestamp"),
    ("read metrics from a non-time", lambda c, *_: c.read_metrics("yesterday", 60,
                                                                   log_group="/g"),
     "'yesterday'"),
    ("alarms given as a name", lambda c, *_: c.create_alarms("High-NAT-Traffic"),
     "AlarmSpec"),
    ("Athena offline", lambda c, *_: c.athena_query("SELECT 1", "db", "s3://r/"), "Athena"),
    ("live traffic offline", lambda c, *_: c.run_live_traffic("normal"), "aws backend"),
]


@pytest.mark.parametrize("call, words", [pytest.param(call, words, id=description)
                                         for description, call, words in BAD_CALLS])
def test_every_bad_input_gets_a_course_error_naming_it(world, capsys, call, words):
    with pytest.raises(CourseError) as caught:
        call(*world)
    assert words in str(caught.value)
    capsys.readouterr()


# --- one test per behaviour ---------------------------------------------------------------------


def test_a_second_connect_makes_the_first_cloud_fail_clearly(capsys):
    first = aws.connect()
    first.lab_vpc()
    second = aws.connect()
    with pytest.raises(AwsSetupError, match="stale: a later aws.connect"):
        first.plan()
    assert second.plan()["status"].eq("will be created").all()
    capsys.readouterr()


def test_deliver_needs_no_earlier_lab_vpc_call(capsys):
    cloud = aws.connect()
    lab = cloud.lab_vpc()
    records = traffic.generate(["web_baseline"], topology=lab, seed=2, duration="10m")
    flow_log = cloud.create_flow_log(lab.vpc_id)
    fresh = aws.Cloud(cloud.backend, cloud.region, cloud.account_id, None, cloud.clients,
                      cloud.generation)  # a Cloud that never called lab_vpc()
    report = fresh.deliver(records, flow_logs=[flow_log])
    assert report.loc[0, "accepted"] == len(records) > 0
    capsys.readouterr()


def test_deliver_of_no_records_delivers_nothing_and_says_so(world, capsys):
    cloud, lab, cwl, _ = world
    empty = traffic.generate(["web_baseline"], topology=lab, seed=2, duration="10m").head(0)
    assert cloud.deliver(empty, flow_logs=[cwl]).empty
    assert "No records to deliver" in capsys.readouterr().out


def test_deliver_names_interfaces_the_account_does_not_have(world):
    cloud = world[0]
    records = traffic.generate(["web_baseline"], seed=2, duration="10m")  # default topology
    with pytest.raises(AwsSetupError, match="network interfaces this account does not have"):
        cloud.deliver(records)


def test_reading_a_deleted_flow_logs_group_is_a_course_error(capsys):
    cloud = aws.connect()
    lab = cloud.lab_vpc()
    flow_log = cloud.create_flow_log(lab.vpc_id)
    cloud.logs.delete_log_group(logGroupName=flow_log.log_group)
    with pytest.raises(AwsSetupError, match="Was it deleted"):
        cloud.read_flow_logs(flow_log)
    capsys.readouterr()


def test_create_flow_log_checks_log_group_names_as_aws_does(world):
    cloud, lab, *_ = world
    with pytest.raises(AwsSetupError, match="not a valid log-group name"):
        cloud.create_flow_log(lab.vpc_id, log_group="/aws/vpc/flowlogs-" + "x" * 600)


def test_an_untagged_log_group_of_the_same_name_is_left_alone(capsys):
    cloud = aws.connect()
    cloud.logs.create_log_group(logGroupName="/aws/vpc/flowlogs")  # someone else's
    with pytest.raises(AwsSetupError, match="was not created by the course"):
        cloud.ensure_log_group()
    assert "retentionInDays" not in cloud.log_group("/aws/vpc/flowlogs")
    capsys.readouterr()


def test_teardown_keeps_a_bucket_holding_objects_the_course_did_not_write(capsys):
    cloud = aws.connect()
    lab = cloud.lab_vpc()
    records = traffic.generate(["web_baseline"], topology=lab, seed=2, duration="10m")
    flow_log = cloud.create_flow_log(lab.vpc_id, destination="s3")
    cloud.deliver(records)
    cloud.s3.put_object(Bucket=flow_log.bucket, Key="notes/todo.txt", Body=b"mine")
    capsys.readouterr()
    removed = cloud.teardown()
    out = capsys.readouterr().out
    kept = removed[removed["resource"] == "S3 bucket"]
    assert kept["status"].tolist() == ["left"]  # reported as left, with the reason
    assert "it holds 1 object(s) the course did not write (notes/todo.txt)" in out
    assert "notes/todo.txt" in kept["reason"].iloc[0]
    assert cloud.bucket_keys(flow_log)  # the flow-log files are still there too
    removed = cloud.teardown(delete_other_objects=True)
    assert list(removed["resource"]) == ["S3 bucket"]
    capsys.readouterr()


def test_what_aws_stored_reads_back_through_the_cloud(world, capsys):
    cloud, lab, cwl, _ = world
    stored = cloud.describe_flow_log(cwl)
    assert (stored["FlowLogId"], stored["LogGroupName"], stored["MaxAggregationInterval"]) == (
        cwl.flow_log_id, "/aws/vpc/flowlogs", 600)
    assert stored["DeliverLogsPermissionArn"].endswith(":role/flowlogsRole")
    assert cloud.log_group(cwl.log_group)["retentionInDays"] == 7
    policies = cloud.role_policies()
    assert policies["trust"]["Statement"][0]["Principal"] == {
        "Service": "vpc-flow-logs.amazonaws.com"}
    assert list(policies["permissions"]) == ["flow-logs-publish"]


def test_times_are_checked_where_they_enter():
    with pytest.raises(TimeValueError, match="start: nan is not a finite time"):
        times.to_epoch(float("nan"), "start")
    assert times.to_epoch("2021-12-20T09:00:00+09:00") == 1639958400
    assert times.iso_z(1639958400) == "2021-12-20T00:00:00.000Z"


def test_a_tree_at_aws_cadence_has_a_file_per_five_minutes(tmp_path):
    records = traffic.generate(["web_baseline"], seed=1, duration="30m")
    paths = flowlogs.write_tree(records, tmp_path, file_interval=300, per_hour=True)
    assert len(paths) == 6
    stamps = sorted(p.name.split("_")[4] for p in paths)
    assert len(set(stamps)) == 6
    back = flowlogs.read(tmp_path)
    assert len(back) == len(records)


@pytest.mark.parametrize("flow_log_id", ["../../etc", "fl-12/../x", "fl-XYZ", "", 5])
def test_flow_log_ids_cannot_escape_the_tree(tmp_path, flow_log_id):
    records = traffic.generate(["web_baseline"], seed=1, duration="10m")
    with pytest.raises(CourseError, match="is not a flow-log ID"):
        flowlogs.write_tree(records, tmp_path, flow_log_id=flow_log_id)
    assert not any(tmp_path.parent.glob("etc*"))


def test_file_interval_must_divide_the_folder(tmp_path):
    records = traffic.generate(["web_baseline"], seed=1, duration="10m")
    with pytest.raises(CourseError, match="file_interval must be a whole number of seconds"):
        flowlogs.write_tree(records, tmp_path, file_interval=7)


@pytest.mark.parametrize("column, value", [("account_id", "../../x"), ("region", "ap/../..")])
def test_account_and_region_cannot_escape_the_tree(tmp_path, column, value):
    records = traffic.generate(["web_baseline"], seed=1, duration="10m").assign(**{column: value})
    with pytest.raises(CourseError, match="cannot name an S3 folder"):
        flowlogs.write_tree(records, tmp_path)
