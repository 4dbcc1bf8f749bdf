"""The lab's guards and repairs: tags that say whose, a half-made lab completed, retries.

Local tests use the emulator; the aws-backend ones moto's in-process mock (as
``test_aws_backend.py`` does), with AWS's transient answers injected where moto never gives
them.
"""

from __future__ import annotations

import json
import re
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from helpers import aws
from helpers.aws import retry
from helpers.aws.account import IDENTITY_TAGS
from helpers.errors import AwsSetupError, SharedNameWarning


def _tags(item) -> dict:
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


# --- tags: identity, owner, expiry --------------------------------------------------------------
def test_everything_created_records_who_and_until_when(capsys):
    teacher = aws.connect("local", class_name="cls-1", instructor=True, expires_in_hours=2)
    lab = teacher.lab_vpc(report="none")
    vpc = teacher.ec2.describe_vpcs(VpcIds=[lab.vpc_id])["Vpcs"][0]
    tags = _tags(vpc)
    assert {k: tags[k] for k in ("Name", "student", "class", "owner")} == {
        "Name": "cls-1-SAA-Study-VPC", "student": "instructor", "class": "cls-1",
        "owner": "arn:aws:sts::123456789012:user/moto"}
    expires = datetime.strptime(tags["expires-at"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc)
    assert abs(expires - datetime.now(timezone.utc) - timedelta(hours=2)) < timedelta(minutes=5)
    capsys.readouterr()


def test_ownership_matches_the_identity_tags_only(capsys):
    cloud = aws.connect("local", student="kim", class_name="cls-1")
    assert [f["Name"] for f in cloud.tag_filters()] == [f"tag:{k}" for k in IDENTITY_TAGS]
    mine = {**cloud.identity_tags, "owner": "arn:aws:iam::123456789012:user/someone-else",
            "expires-at": "2020-01-01T00:00:00Z"}
    assert cloud.owns(mine)  # whoever created it, whenever it expires
    assert not cloud.owns({**mine, "class": "cls-2"})
    assert not cloud.owns({**mine, "student": "lee"})
    assert not aws.connect("local", student="kim", reset=False).tag_filters()[-1][
        "Name"] == "tag:class"  # without a class, no class tag is asked for


def test_on_aws_the_owner_is_the_callers_arn(fake_account, capsys):
    cloud = aws.connect("aws", student="kim")
    assert cloud.owner == "arn:aws:sts::123456789012:user/moto"
    assert cloud.tags["owner"] == cloud.owner and "owner" not in cloud.identity_tags
    cloud.ensure_log_group()
    tags = cloud.logs.list_tags_log_group(logGroupName="/aws/vpc/kim/flowlogs")["tags"]
    assert tags["owner"] == cloud.owner and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                                                          tags["expires-at"])


@pytest.mark.parametrize("options, words", [
    ({"instructor": True}, "instructor mode is for a class"),
    ({"class_name": "c1", "instructor": True, "student": "kim"},
     "an instructor connects without a student name"),
    ({"student": "instructor"}, "'instructor' is reserved"),
    ({"class_name": "Class 1"}, "class name 'Class 1' must be"),
    ({"expires_in_hours": 0}, "expires_in_hours must be a number of hours above 0"),
    ({"reset": "no"}, "reset must be True or False"),
])
def test_class_arguments_are_checked(options, words):
    with pytest.raises(AwsSetupError, match=re.escape(words)):
        aws.connect("local", **options)


def test_an_instructor_on_aws_must_name_the_account(fake_account):
    with pytest.raises(AwsSetupError, match="instructor mode changes a shared account"):
        aws.connect("aws", class_name="c1", instructor=True)
    teacher = aws.connect("aws", class_name="c1", instructor=True, account_id="123456789012")
    assert (teacher.student, teacher.name("x")) == ("instructor", "c1-x")


def test_the_account_check_comes_before_any_change(fake_account, monkeypatch):
    monkeypatch.setenv("COURSE_ACCOUNT_ID", "210987654321")
    with pytest.raises(AwsSetupError, match="nothing was changed"):
        aws.connect("aws", class_name="c1", instructor=True)
    import boto3
    ec2 = boto3.client("ec2", region_name="ap-northeast-2")
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:course", "Values": [aws.COURSE]}])[
        "Vpcs"] == []


def test_a_students_look_up_never_finds_an_untagged_or_foreign_nat_gateway(capsys):
    """The emulator ignores tag filters on DescribeNatGateways; the course does not."""
    kim = aws.connect("local", student="kim")
    lee = aws.connect("local", student="lee", reset=False)
    lee_lab = lee.lab_vpc(report="none")
    found = kim.ec2.describe_nat_gateways(Filter=kim.tag_filters())["NatGateways"]
    assert found == []
    kim.teardown(report="none")
    assert lee.ec2.describe_nat_gateways(NatGatewayIds=[lee_lab.nat_gateway_id])[
        "NatGateways"][0]["State"] == "available"
    capsys.readouterr()


# --- report option ------------------------------------------------------------------------
def test_lab_vpc_reports_steps_by_default_a_summary_or_nothing(capsys):
    cloud = aws.connect("local")
    lab = cloud.lab_vpc()
    steps = capsys.readouterr().out.splitlines()
    assert len(steps) == 15 and all(line.startswith(" created  ") for line in steps)
    assert cloud.lab_vpc(report="summary") == lab
    assert capsys.readouterr().out == f"lab SAA-Study-VPC ({lab.vpc_id}): exists 15\n"
    cloud.lab_vpc(report="none")
    assert capsys.readouterr().out == ""
    with pytest.raises(AwsSetupError, match="report must be one of 'steps', 'summary'"):
        cloud.lab_vpc(report="quiet")


# --- repairs -------------------------------------------------------------------------------------
def test_a_half_made_lab_is_completed_on_the_next_run(capsys):
    cloud = aws.connect("local")
    lab = cloud.lab_vpc(report="none")
    ec2 = cloud.ec2
    public_a = lab.interface("web").subnet_id
    (public_rt,) = ec2.describe_route_tables(Filters=[
        {"Name": "tag:Name", "Values": ["public-rt"]}])["RouteTables"]
    ec2.delete_route(RouteTableId=public_rt["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    association = next(a for a in public_rt["Associations"] if a.get("SubnetId") == public_a)
    ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
    ec2.modify_subnet_attribute(SubnetId=public_a, MapPublicIpOnLaunch={"Value": False})
    web_sg = next(g for g in lab.security_groups if g.name == "web-sg").group_id
    ec2.revoke_security_group_ingress(GroupId=web_sg, IpPermissions=[{
        "IpProtocol": "6", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    public_nacl = next(a for a in lab.network_acls if a.name == "public-nacl").nacl_id
    ec2.delete_network_acl_entry(NetworkAclId=public_nacl, RuleNumber=110, Egress=False)
    ec2.detach_internet_gateway(InternetGatewayId=lab.internet_gateway_id, VpcId=lab.vpc_id)
    capsys.readouterr()

    assert cloud.lab_vpc() == lab
    repaired = [line for line in capsys.readouterr().out.splitlines() if "repaired" in line]
    assert len(repaired) == 6, repaired  # subnet, gateway, route, association, rule, entry
    table = ec2.describe_route_tables(RouteTableIds=[public_rt["RouteTableId"]])["RouteTables"][0]
    assert {r.get("GatewayId") for r in table["Routes"]
            if r.get("DestinationCidrBlock") == "0.0.0.0/0"} == {lab.internet_gateway_id}
    assert public_a in {a.get("SubnetId") for a in table["Associations"]}
    assert ec2.describe_subnets(SubnetIds=[public_a])["Subnets"][0]["MapPublicIpOnLaunch"]
    rules = ec2.describe_security_groups(GroupIds=[web_sg])["SecurityGroups"][0]
    assert 443 in {p.get("FromPort") for p in rules["IpPermissions"]}
    entries = ec2.describe_network_acls(NetworkAclIds=[public_nacl])["NetworkAcls"][0]["Entries"]
    assert (110, False) in {(e["RuleNumber"], e["Egress"]) for e in entries}
    igw = ec2.describe_internet_gateways(InternetGatewayIds=[lab.internet_gateway_id])
    assert igw["InternetGateways"][0]["Attachments"][0]["VpcId"] == lab.vpc_id

    cloud.lab_vpc()  # whole again: nothing more to repair
    assert "repaired" not in capsys.readouterr().out


def test_a_nat_gateway_made_again_reuses_the_courses_elastic_ip(capsys, monkeypatch):
    cloud = aws.connect("local")
    create = cloud.ec2.create_nat_gateway
    failed = []

    def fails_once(**kwargs):
        if not failed:
            failed.append(kwargs)
            raise ClientError({"Error": {"Code": "InternalError", "Message": "try again"}},
                              "CreateNatGateway")
        return create(**kwargs)

    monkeypatch.setattr(cloud.ec2, "create_nat_gateway", fails_once)
    with pytest.raises(ClientError, match="InternalError"):
        cloud.lab_vpc(report="none")
    lab = cloud.lab_vpc()
    out = capsys.readouterr().out
    addresses = cloud.ec2.describe_addresses()["Addresses"]
    assert len(addresses) == 1 and addresses[0]["AllocationId"] == failed[0]["AllocationId"]
    assert f"  reused  elastic-ip nat-eip ({failed[0]['AllocationId']})" in out
    nat = cloud.ec2.describe_nat_gateways(NatGatewayIds=[lab.nat_gateway_id])["NatGateways"][0]
    assert nat["NatGatewayAddresses"][0]["AllocationId"] == failed[0]["AllocationId"]


# --- retries (aws backend) ---------------------------------------------------------------------
def _flaky(fn, code: str, message: str, times: int, when=lambda kwargs: True):
    calls = []

    def call(**kwargs):
        if not when(kwargs):
            return fn(**kwargs)
        calls.append(kwargs)
        if len(calls) <= times:
            raise ClientError({"Error": {"Code": code, "Message": message}}, "Op")
        return fn(**kwargs)
    return call, calls


def test_run_instances_waits_for_a_new_instance_profile(fake_account, monkeypatch, capsys):
    cloud = aws.connect("aws", student="kim")
    waits = []
    monkeypatch.setattr(retry, "sleeper", lambda _: waits.append)
    run, calls = _flaky(cloud.ec2.run_instances, "InvalidParameterValue",
                        "Value (kim-course-ssm) for parameter iamInstanceProfile.name is "
                        "invalid. Invalid IAM Instance Profile name", times=2)
    monkeypatch.setattr(cloud.ec2, "run_instances", run)
    lab = cloud.lab_vpc(create=True, report="none")
    assert len(calls) == 4  # web: two refusals and a launch; private: at once
    assert waits == retry.delays("launch the web instance")[:2]
    assert lab.interface("web").instance_id


def test_an_instance_unknown_right_after_launch_is_looked_up_again(fake_account, monkeypatch,
                                                                    capsys):
    cloud = aws.connect("aws", student="kim")
    monkeypatch.setattr(retry, "sleeper", lambda _: (lambda seconds: None))
    describe, calls = _flaky(cloud.ec2.describe_instances, "InvalidInstanceID.NotFound",
                             "The instance ID does not exist", times=1,
                             when=lambda kwargs: "InstanceIds" in kwargs)
    monkeypatch.setattr(cloud.ec2, "describe_instances", describe)
    lab = cloud.lab_vpc(create=True, report="none")
    assert lab.interface("web").private_ip == "10.0.1.100"
    assert len(calls) == 3  # web: unknown, then found; private: found


def test_an_instance_profile_role_without_its_policy_is_completed(fake_account, capsys):
    cloud = aws.connect("aws", student="kim")
    cloud.iam.create_role(RoleName="kim-course-ssm", AssumeRolePolicyDocument="{}",
                          Tags=[{"Key": k, "Value": v} for k, v in cloud.tags.items()])
    cloud.lab_vpc(create=True, report="none")  # no EntityAlreadyExists: the role is reused
    attached = cloud.iam.list_attached_role_policies(RoleName="kim-course-ssm")[
        "AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonSSMManagedInstanceCore"]
    profile = cloud.iam.get_instance_profile(InstanceProfileName="kim-course-ssm")
    assert [r["RoleName"] for r in profile["InstanceProfile"]["Roles"]] == ["kim-course-ssm"]


def test_a_role_of_that_name_the_course_did_not_make_is_left_alone(fake_account, capsys):
    cloud = aws.connect("aws", student="kim")
    cloud.iam.create_role(RoleName="kim-course-ssm", AssumeRolePolicyDocument="{}")
    with pytest.raises(AwsSetupError, match="'kim-course-ssm' exists but was not created by "
                                            "the course"):
        cloud.lab_vpc(create=True, report="none")
    assert cloud.iam.list_attached_role_policies(RoleName="kim-course-ssm")[
        "AttachedPolicies"] == []


def test_a_name_someone_else_already_uses_is_flagged(fake_account, capsys):
    kim = aws.connect("aws", student="kim")
    kim.iam.create_role(RoleName="kim-flowlogsRole", AssumeRolePolicyDocument="{}", Tags=[
        {"Key": k, "Value": v} for k, v in {
            **kim.identity_tags, "owner": "arn:aws:iam::123456789012:user/other-kim"}.items()])
    with pytest.warns(SharedNameWarning, match="created by arn:aws:iam::123456789012:user/"
                                               "other-kim, not by you"):
        aws.connect("aws", student="kim")
    kim.iam.tag_role(RoleName="kim-flowlogsRole", Tags=[{"Key": "owner", "Value": kim.owner}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aws.connect("aws", student="kim")  # the caller's own: no warning


# --- dashboards: tagged on AWS, so a look-alike is neither overwritten nor deleted -------------


@pytest.fixture
def dashboard_tags(monkeypatch):
    """CloudWatch's dashboard tags, which moto does not keep: a dict by ARN behind the client."""
    store: dict[str, list] = {}

    def patch(cloud):
        cw = cloud.cloudwatch
        real = cw.list_tags_for_resource
        monkeypatch.setattr(cw, "tag_resource", lambda ResourceARN, Tags: store.update(
            {ResourceARN: Tags}))
        monkeypatch.setattr(cw, "list_tags_for_resource", lambda ResourceARN: (
            {"Tags": store.get(ResourceARN, [])} if ":dashboard/" in ResourceARN
            else real(ResourceARN=ResourceARN)))
        return store

    return patch


def test_a_new_dashboard_is_tagged_like_the_rest_of_the_course(fake_account, dashboard_tags,
                                                               capsys):
    cloud = aws.connect("aws", student="kim")
    store = dashboard_tags(cloud)
    cloud.put_dashboard({"widgets": []})
    arn = "arn:aws:cloudwatch::123456789012:dashboard/kim-VPC-Network-Monitoring"
    assert cloud.owns(store[arn])


def test_a_dashboard_the_course_did_not_make_is_not_overwritten(fake_account, dashboard_tags,
                                                                capsys):
    cloud = aws.connect("aws", student="kim")
    dashboard_tags(cloud)
    theirs = json.dumps({"widgets": [{"type": "text", "properties": {"markdown": "ops"}}]})
    cloud.cloudwatch.put_dashboard(DashboardName="kim-VPC-Network-Monitoring",
                                   DashboardBody=theirs)
    with pytest.raises(AwsSetupError, match="exists but was not created by the course"):
        cloud.put_dashboard({"widgets": []})
    stored = cloud.cloudwatch.get_dashboard(DashboardName="kim-VPC-Network-Monitoring")
    assert stored["DashboardBody"] == theirs


def test_teardown_leaves_an_untagged_dashboard_of_the_courses_name(fake_account, dashboard_tags,
                                                                   capsys):
    cloud = aws.connect("aws", student="kim")
    dashboard_tags(cloud)
    cloud.cloudwatch.put_dashboard(DashboardName="kim-VPC-Network-Monitoring",
                                   DashboardBody=json.dumps({"widgets": []}))
    done = cloud.teardown(report="none")
    row = done[done["resource"] == "dashboard"].iloc[0]
    assert row["status"] == "left" and "course's tags" in row["reason"]
    assert cloud.cloudwatch.list_dashboards()["DashboardEntries"]


def test_teardown_deletes_the_courses_tagged_dashboard(fake_account, dashboard_tags, capsys):
    cloud = aws.connect("aws", student="kim")
    dashboard_tags(cloud)
    cloud.put_dashboard({"widgets": []})
    done = cloud.teardown(report="none")
    assert ("dashboard", "deleted") in set(zip(done["resource"], done["status"]))
    assert cloud.cloudwatch.list_dashboards()["DashboardEntries"] == []
