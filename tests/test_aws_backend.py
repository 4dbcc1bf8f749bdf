"""The aws backend's code paths, tested without an account (moto's in-process mock)."""

from __future__ import annotations

import pytest

from helpers import aws
from helpers.errors import AwsSetupError


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookups



def test_no_credentials_says_how_to_configure_or_go_offline(no_credentials):
    with pytest.raises(AwsSetupError) as info:
        aws.connect("aws", student="kim")
    message = str(info.value)
    assert "no AWS credentials found" in message
    assert "aws configure" in message and "aws.connect('local')" in message


def test_the_environment_variable_selects_aws(no_credentials, monkeypatch):
    monkeypatch.setenv(aws.BACKEND_ENV, "aws")
    with pytest.raises(AwsSetupError, match="no AWS credentials found"):
        aws.connect(student="kim")


def test_a_real_account_needs_a_student_name(fake_account):
    with pytest.raises(AwsSetupError, match=r"connect with your own short name: "
                                            r"aws.connect\('aws', student='kim'\)"):
        aws.connect("aws")


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_credentials_for_another_account_are_refused(fake_account, monkeypatch, how):
    if how == "environment":
        monkeypatch.setenv("COURSE_ACCOUNT_ID", "210987654321")
        options = {}
    else:
        options = {"account_id": "210987654321"}
    with pytest.raises(AwsSetupError, match="belong to account 123456789012, not the class's "
                                            "account 210987654321"):
        aws.connect("aws", student="kim", **options)


def test_the_class_account_is_accepted(fake_account, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_ACCOUNT_ID", "123456789012")
    assert aws.connect("aws", student="kim").account_id == "123456789012"


def test_connect_to_aws_says_what_it_will_do_and_creates_nothing(fake_account, capsys):
    cloud = aws.connect("aws", student="kim")
    out = capsys.readouterr().out
    assert out.startswith("Real AWS account 123456789012 in ap-northeast-2.")
    assert "Nothing is created until you call a set-up method" in out
    assert cloud.backend == "aws"
    assert cloud.ec2.describe_vpcs(Filters=cloud.tag_filters())["Vpcs"] == []


def test_plan_lists_what_would_be_created(fake_account, capsys):
    plan = aws.connect("aws", student="kim").plan()
    assert plan["status"].eq("will be created").all()
    assert "kim-SAA-Study-VPC" in set(plan["name"])


def test_lab_vpc_on_aws_needs_an_explicit_request(fake_account, capsys):
    cloud = aws.connect("aws", student="kim")
    with pytest.raises(AwsSetupError, match=r"cloud.lab_vpc\(create=True\)"):
        cloud.lab_vpc()
    lab = cloud.lab_vpc(create=True)
    nat = lab.interface("nat")
    assert lab.subnet(nat.subnet_id).cidr == "10.0.1.0/24"
    assert cloud.lab_vpc() == lab  # found, not created again


def test_deliver_on_aws_leaves_it_to_the_service(fake_account, capsys):
    import pandas as pd

    cloud = aws.connect("aws", student="kim")
    report = cloud.deliver(pd.DataFrame({"interface_id": [], "start": [], "end": []}))
    assert report.empty
    assert "the flow-log service delivers by itself" in capsys.readouterr().out


def test_teardown_on_aws_deletes_only_tagged_resources(fake_account, capsys):
    cloud = aws.connect("aws", student="kim")
    other = cloud.ec2.create_vpc(CidrBlock="172.31.0.0/16")["Vpc"]["VpcId"]
    lab = cloud.lab_vpc(create=True)
    cloud.create_flow_log(lab.vpc_id)
    report = cloud.teardown()
    remaining = {v["VpcId"] for v in cloud.ec2.describe_vpcs()["Vpcs"]}
    assert other in remaining and lab.vpc_id not in remaining
    assert {"instance profile", "IAM role"} <= set(report["resource"])
    assert cloud.iam.list_instance_profiles()["InstanceProfiles"] == []


def test_real_instances_get_the_ssm_instance_profile(fake_account, capsys):
    cloud = aws.connect("aws", student="kim")
    lab = cloud.lab_vpc(create=True)
    described = cloud.ec2.describe_instances(InstanceIds=[lab.interface("web").instance_id])
    instance = described["Reservations"][0]["Instances"][0]
    assert instance["IamInstanceProfile"]["Arn"].endswith("instance-profile/kim-course-ssm")
    attached = cloud.iam.list_attached_role_policies(RoleName="kim-course-ssm")[
        "AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonSSMManagedInstanceCore"]


def test_live_traffic_sends_the_script_with_ssm(fake_account, capsys, monkeypatch):
    cloud = aws.connect("aws", student="kim")
    lab = cloud.lab_vpc(create=True)
    sent = {}
    # The agent has registered (run_command waits for Online before it sends anything).
    monkeypatch.setattr(cloud.ssm, "describe_instance_information", lambda **kw: {
        "InstanceInformationList": [{"InstanceId": lab.interface("web").instance_id,
                                     "PingStatus": "Online"}]})
    monkeypatch.setattr(cloud.ssm, "send_command", lambda **kw: sent.update(kw) or {
        "Command": {"CommandId": "c-1"}})
    monkeypatch.setattr(cloud.ssm, "get_waiter", lambda name: type(
        "Waiter", (), {"wait": lambda self, **kw: None})())
    monkeypatch.setattr(cloud.ssm, "get_command_invocation",
                        lambda **kw: {"StandardOutputContent": "nc: port 80 not reachable"})
    output = cloud.run_live_traffic("blocked")
    assert output == "nc: port 80 not reachable"
    assert sent["InstanceIds"] == [lab.interface("web").instance_id]
    assert sent["DocumentName"] == "AWS-RunShellScript"
    commands = sent["Parameters"]["commands"]
    assert commands[0] == "export PRIVATE_IP=10.0.11.50"
    assert "nc -zv" in commands[-1]


def test_live_traffic_offline_points_to_the_generator(capsys):
    with pytest.raises(AwsSetupError, match=r"traffic.generate\(topology=lab"):
        aws.connect("local").run_live_traffic("normal")
