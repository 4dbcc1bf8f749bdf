"""The Cloud facade on the local backend: lab set-up, flow logs, idempotency and teardown."""

from __future__ import annotations

import json

import pytest

from helpers import aws
from helpers.aws import policies
from helpers.aws.cloud import Cloud
from helpers.errors import AwsSetupError


@pytest.fixture
def cloud(capsys):
    cloud = aws.connect("local")
    yield cloud
    capsys.readouterr()


def _quiet(capsys):
    return capsys.readouterr().out


def test_local_is_the_default_backend(monkeypatch):
    monkeypatch.delenv(aws.BACKEND_ENV, raising=False)
    cloud = aws.connect()
    assert (cloud.backend, cloud.account_id, cloud.region) == (
        "local", "123456789012", "ap-northeast-2")


def test_unknown_backend_is_explained(monkeypatch):
    monkeypatch.setenv(aws.BACKEND_ENV, "azure")
    with pytest.raises(AwsSetupError, match="unknown backend 'azure': use 'local'"):
        aws.connect()


def test_student_names_are_checked():
    with pytest.raises(AwsSetupError, match="student name 'Kim Minsu' must be"):
        aws.connect(student="Kim Minsu")


def test_resource_ids_are_the_same_on_every_run(cloud, capsys):
    first = cloud.lab_vpc()
    again = aws.connect("local").lab_vpc()
    assert first == again  # seeded emulator: identical IDs and addresses


def test_lab_vpc_matches_the_lesson(cloud):
    lab = cloud.lab_vpc()
    assert {s.cidr for s in lab.subnets} == {"10.0.1.0/24", "10.0.2.0/24", "10.0.11.0/24",
                                             "10.0.12.0/24"}
    web, private, nat = (lab.interface(r) for r in ("web", "private", "nat"))
    assert (web.private_ip, private.private_ip) == ("10.0.1.100", "10.0.11.50")
    assert lab.subnet(nat.subnet_id).cidr == "10.0.1.0/24" and nat.private_ip == "10.0.1.200"
    vpcs = cloud.ec2.describe_vpcs(VpcIds=[lab.vpc_id])["Vpcs"]
    tags = {t["Key"]: t["Value"] for t in vpcs[0]["Tags"]}
    assert tags["Name"] == "SAA-Study-VPC" and tags["course"] == aws.COURSE


def test_setup_twice_creates_nothing_new(cloud, capsys):
    lab = cloud.lab_vpc()
    cloud.create_flow_log(lab.vpc_id)
    cloud.create_flow_log(lab.vpc_id, destination="s3", file_format="parquet",
                          hive_compatible=True, per_hour=True)
    before = _inventory(cloud)
    _quiet(capsys)
    assert cloud.lab_vpc() == lab
    cloud.create_flow_log(lab.vpc_id)
    cloud.create_flow_log(lab.vpc_id, destination="s3", file_format="parquet",
                          hive_compatible=True, per_hour=True)
    out = _quiet(capsys)
    assert "created" not in out and out.count("exists") > 10
    assert _inventory(cloud) == before


def _inventory(cloud) -> dict:
    ec2 = cloud.ec2
    return {
        "vpcs": len(ec2.describe_vpcs()["Vpcs"]),
        "subnets": len(ec2.describe_subnets()["Subnets"]),
        "instances": sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"]),
        "flow_logs": len(ec2.describe_flow_logs()["FlowLogs"]),
        "log_groups": len(cloud.logs.describe_log_groups()["logGroups"]),
        "buckets": len(cloud.s3.list_buckets()["Buckets"]),
        "roles": len(cloud.iam.list_roles()["Roles"]),
    }


def test_role_trusts_only_flow_logs_and_allows_five_logs_actions(cloud):
    lab = cloud.lab_vpc()
    cloud.create_flow_log(lab.vpc_id)
    role = cloud.iam.get_role(RoleName="flowlogsRole")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert cloud.iam.list_attached_role_policies(RoleName="flowlogsRole")[
        "AttachedPolicies"] == []  # no CloudWatchLogsFullAccess
    names = cloud.iam.list_role_policies(RoleName="flowlogsRole")["PolicyNames"]
    document = cloud.iam.get_role_policy(RoleName="flowlogsRole", PolicyName=names[0])[
        "PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    actions = [a for s in document["Statement"] for a in s["Action"]]
    assert sorted(actions) == sorted(policies.FLOW_LOG_ACTIONS) and len(actions) == 5


def test_log_group_has_seven_day_retention(cloud):
    cloud.create_flow_log(cloud.lab_vpc().vpc_id)
    group = cloud.logs.describe_log_groups(logGroupNamePrefix="/aws/vpc/flowlogs")["logGroups"][0]
    assert (group["logGroupName"], group["retentionInDays"]) == ("/aws/vpc/flowlogs", 7)


def test_s3_options_survive_although_the_emulator_drops_them(cloud):
    lab = cloud.lab_vpc()
    created = cloud.create_flow_log(lab.vpc_id, destination="s3", file_format="parquet",
                                    hive_compatible=True, per_hour=True)
    raw = cloud.ec2.describe_flow_logs(FlowLogIds=[created.flow_log_id])["FlowLogs"][0]
    assert "DestinationOptions" not in raw  # the emulator's gap the helpers fill
    (found,) = [f for f in cloud.flow_logs() if f.flow_log_id == created.flow_log_id]
    assert (found.file_format, found.hive_compatible, found.per_hour) == ("parquet", True, True)
    policy = json.loads(cloud.s3.get_bucket_policy(Bucket=created.bucket)["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "delivery.logs.amazonaws.com"}


@pytest.mark.parametrize("resource, expected", [("vpc", "VPC"), ("subnet", "Subnet"),
                                                ("eni", "NetworkInterface")])
def test_flow_logs_at_each_collection_level(cloud, resource, expected):
    lab = cloud.lab_vpc()
    resource_id = {"vpc": lab.vpc_id, "subnet": lab.interface("web").subnet_id,
                   "eni": lab.interface("web").eni_id}[resource]
    flow_log = cloud.create_flow_log(resource_id, traffic_type="REJECT")
    assert flow_log.resource_type == expected and flow_log.traffic_type == "REJECT"
    raw = cloud.ec2.describe_flow_logs(FlowLogIds=[flow_log.flow_log_id])["FlowLogs"][0]
    assert raw["ResourceId"] == resource_id


def test_custom_format_is_kept(cloud):
    fmt = "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${start} ${end}"
    flow_log = cloud.create_flow_log(cloud.lab_vpc().vpc_id, log_format=fmt)
    assert flow_log.log_format == fmt
    assert cloud.ec2.describe_flow_logs()["FlowLogs"][0]["LogFormat"] == fmt


@pytest.mark.parametrize("options, message", [
    (dict(traffic_type="DENY"), "traffic_type must be ALL, ACCEPT or REJECT"),
    (dict(max_aggregation_interval=300), "max_aggregation_interval must be 60 or 600"),
    (dict(file_format="parquet"), "apply to the s3 destination only"),
    (dict(destination="kinesis"), "destination must be 'cloud-watch-logs' or 's3'"),
    (dict(log_format="${srcaddr} ${dstadr}"), "did you mean 'dstaddr'"),
])
def test_bad_flow_log_options_are_explained(cloud, options, message):
    with pytest.raises(AwsSetupError, match=message):
        cloud.create_flow_log(cloud.lab_vpc().vpc_id, **options)


def test_teardown_deletes_the_course_and_keeps_everything_else(cloud, capsys):
    foreign_vpc = cloud.ec2.create_vpc(CidrBlock="172.16.0.0/16")["Vpc"]["VpcId"]
    cloud.logs.create_log_group(logGroupName="/team/app")
    cloud.s3.create_bucket(Bucket="team-data", CreateBucketConfiguration={
        "LocationConstraint": "ap-northeast-2"})
    cloud.iam.create_role(RoleName="team-role", AssumeRolePolicyDocument="{}")
    lab = cloud.lab_vpc()
    cloud.create_flow_log(lab.vpc_id)
    cloud.create_flow_log(lab.vpc_id, destination="s3")
    report = cloud.teardown()
    assert {"VPC", "subnet", "instance", "flow log", "log group", "S3 bucket",
            "IAM role"} <= set(report["resource"])
    assert cloud.ec2.describe_flow_logs()["FlowLogs"] == []
    assert [v["VpcId"] for v in cloud.ec2.describe_vpcs(Filters=[
        {"Name": "cidr", "Values": ["172.16.0.0/16"]}])["Vpcs"]] == [foreign_vpc]
    assert lab.vpc_id not in [v["VpcId"] for v in cloud.ec2.describe_vpcs()["Vpcs"]]
    assert [g["logGroupName"] for g in cloud.logs.describe_log_groups()["logGroups"]] == [
        "/team/app"]
    assert [b["Name"] for b in cloud.s3.list_buckets()["Buckets"]] == ["team-data"]
    assert [r["RoleName"] for r in cloud.iam.list_roles()["Roles"]] == ["team-role"]
    assert cloud.plan()["status"].eq("will be created").all()


def test_one_students_teardown_leaves_another_students_lab(capsys):
    kim = aws.connect("local", student="kim")
    kim_lab = kim.lab_vpc()
    kim.create_flow_log(kim_lab.vpc_id)
    lee = Cloud("local", kim.region, kim.account_id, "lee", kim.clients, kim.generation)
    lee_lab = lee.lab_vpc()
    lee.create_flow_log(lee_lab.vpc_id)
    assert lee_lab.vpc_id != kim_lab.vpc_id
    lee.teardown()
    assert kim.plan()["status"].eq("exists").all()
    assert len(kim.flow_logs()) == 1 and lee.flow_logs() == []
    names = [g["logGroupName"] for g in kim.logs.describe_log_groups()["logGroups"]]
    assert names == ["/aws/vpc/kim/flowlogs"]


def test_lab_vpc_on_aws_is_not_created_unless_asked(cloud):
    real = Cloud("aws", cloud.region, cloud.account_id, None, cloud.clients)
    with pytest.raises(AwsSetupError, match=r"call cloud.lab_vpc\(create=True\)"):
        real.lab_vpc()
    assert cloud.ec2.describe_vpcs(Filters=cloud.tag_filters())["Vpcs"] == []


def test_the_role_covers_every_course_log_group_and_nothing_else(cloud):
    lab = cloud.lab_vpc()
    cloud.create_flow_log(lab.vpc_id)
    cloud.create_flow_log(lab.vpc_id, traffic_type="REJECT", log_group="/aws/vpc/flowlogs-reject")
    document = cloud.iam.get_role_policy(RoleName="flowlogsRole",
                                         PolicyName="flow-logs-publish")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document["Statement"][0]["Resource"] == \
        "arn:aws:logs:ap-northeast-2:123456789012:log-group:/aws/vpc/flowlogs*"
    with pytest.raises(AwsSetupError, match="outside the course's names"):
        cloud.create_flow_log(lab.vpc_id, log_group="/team/app")
