"""A class of 40 on one account: the instructor provisions one lab, every student does 실습 1-3.

Runs on the emulator: one ``aws.connect()`` for the instructor, then 40 students join the same
emulator (``reset=False``). Each student sets up their own log group, role and flow log on the
shared lab, gets traffic delivered, queries it and tears down; the emulator's state is checked
after every teardown, so a student who touched another's resources fails the test.
"""

from __future__ import annotations

import pytest

from helpers import aws, traffic
from helpers.aws import quotas
from helpers.aws.account import INSTRUCTOR
from helpers.errors import AwsSetupError

CLASS = "cls-2026-12"
STUDENTS = [f"s{i:02d}" for i in range(40)]


def _inventory(cloud, *, lab: bool = True) -> dict[str, dict[str, str]]:
    """Everything of the course in the account, by kind: id → whose (its student tag, or
    for log groups and roles, whose prefixed name it carries). Six requests (three without
    the ``lab``'s VPC, NAT gateway and instances), whatever the class size."""
    def student(tags):
        return {t["Key"]: t["Value"] for t in tags}.get("student", "?")

    ec2, found = cloud.ec2, {}
    found["flow logs"] = {f["FlowLogId"]: student(f.get("Tags", []))
                          for f in ec2.describe_flow_logs()["FlowLogs"]}
    found["log groups"] = {g["logGroupName"]: g["logGroupName"].split("/")[3]
                           for g in cloud.logs.describe_log_groups(
                               logGroupNamePrefix="/aws/vpc/")["logGroups"]}
    found["roles"] = {r["RoleName"]: r["RoleName"].split("-")[0]
                      for r in cloud.iam.list_roles()["Roles"]}
    if not lab:
        return found
    found["vpcs"] = {v["VpcId"]: student(v.get("Tags", [])) for v in ec2.describe_vpcs(
        Filters=[{"Name": "tag:course", "Values": [aws.COURSE]}])["Vpcs"]}
    found["nat gateways"] = {n["NatGatewayId"]: student(n.get("Tags", []))
                             for n in ec2.describe_nat_gateways()["NatGateways"]
                             if n["State"] not in ("deleted", "deleting")}
    found["instances"] = {i["InstanceId"]: student(i.get("Tags", []))
                          for r in ec2.describe_instances(Filters=[
                              {"Name": "instance-state-name", "Values": ["running"]}])[
                              "Reservations"] for i in r["Instances"]}
    return found


def _whose(inventory: dict, name: str) -> dict[str, set[str]]:
    return {kind: {i for i, who in items.items() if who == name}
            for kind, items in inventory.items()}


def test_a_class_of_40_fits_the_account_and_no_student_touches_another(capsys):
    teacher = aws.connect("local", class_name=CLASS, instructor=True)

    # The plan, before anything exists: every quota fits one shared lab; a lab each would not.
    plan = teacher.plan(students=40)
    assert plan.layout == "shared" and plan.fits
    rows = plan.quotas.set_index("code")
    assert set(rows.index) >= {"L-F678F1CE", "L-A4707A72", "L-0263D0A3", "L-FE5A380F",
                               "L-1216C47A", "L-FE177D64"}
    assert rows.loc["L-FE5A380F", "needed"] == 1 and rows.loc["L-FE5A380F", "limit"] == 5
    assert rows.loc["L-1216C47A", "needed"] == 4  # two t3.micro, 2 vCPUs each
    assert rows.loc["L-FE177D64", "needed"] == 40  # one flow-log role per student
    assert rows.loc["L-F678F1CE", "source"] == "Service Quotas"
    cost = plan.cost.set_index("item")
    assert cost.loc["nat_gateway_hour", "quantity"] == 1
    assert set(plan.cost["region"]) == {"ap-northeast-2"} and plan.cost["as_of"].all()
    assert plan.cost["source"].str.startswith("https://aws.amazon.com/").all()
    assert plan.usd_per_hour == pytest.approx(float(plan.cost["usd_per_hour"].sum()))
    alone = teacher.plan(students=40, layout="per-student")
    assert not alone.fits
    assert "NAT gateways per Availability Zone: needs 40" in alone.summary()
    assert alone.usd_per_hour == pytest.approx(40 * plan.usd_per_hour)

    lab = teacher.setup_class(40)
    assert capsys.readouterr().out == f"class {CLASS} ({lab.vpc_id}): created 17\n"
    records = traffic.generate(["web_baseline"], topology=lab, seed=3, duration="2m")

    # 실습 1-3 for every student: their own log group, role and flow log on the shared lab
    # (the VPC, a subnet or an interface, in turn), delivery, a query.
    targets = [lab.vpc_id, lab.interface("web").subnet_id, lab.interface("web").eni_id]
    clouds = {}
    for i, name in enumerate(STUDENTS):
        cloud = aws.connect("local", student=name, class_name=CLASS, reset=False)
        assert cloud.lab_vpc(report="none") == lab  # found, never created again
        flow_log = cloud.create_flow_log(targets[i % 3])
        assert flow_log.log_group == f"/aws/vpc/{name}/flowlogs"
        report = cloud.deliver(records)
        assert report["flow_log"].tolist() == [flow_log.flow_log_id]  # only their own
        assert report["accepted"].iloc[0] > 0
        answer = cloud.query("fields @timestamp, srcAddr, dstAddr | limit 5", flow_log)
        assert len(answer) == 5
        clouds[name] = (cloud, flow_log)
    capsys.readouterr()

    before = _inventory(teacher)
    for name in STUDENTS:
        mine = _whose(before, name)
        assert [len(mine[k]) for k in ("flow logs", "log groups", "roles")] == [1, 1, 1]
        role = teacher.iam.get_role(RoleName=f"{name}-flowlogsRole")["Role"]
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(
            f":policy/{CLASS}-student-boundary")
        tags = teacher.logs.list_tags_log_group(logGroupName=f"/aws/vpc/{name}/flowlogs")[
            "tags"]
        assert (tags["student"], tags["class"]) == (name, CLASS)
        assert tags["owner"] == "arn:aws:sts::123456789012:user/moto" and tags["expires-at"]
    shared = _whose(before, INSTRUCTOR)
    assert [len(shared[k]) for k in ("vpcs", "nat gateways", "instances")] == [1, 1, 2]

    # Teardown, one student after another: each removes exactly their own resources.
    everything = before
    before = _inventory(teacher, lab=False)
    for name in STUDENTS:
        cloud, _ = clouds[name]
        done = cloud.teardown(report="none")
        assert set(done["status"]) == {"deleted"}
        after = _inventory(teacher, lab=False)
        for kind, items in before.items():
            gone = set(items) - set(after[kind])
            assert gone == _whose(before, name)[kind], (name, kind)
        before = after
    after = _inventory(teacher)
    assert _whose(after, INSTRUCTOR) == shared  # the shared lab is whole
    assert {who for items in after.values() for who in items.values()} <= {INSTRUCTOR}
    assert set(everything["vpcs"]) == set(after["vpcs"])

    # The end-of-class sweep takes the shared lab, then the class's policies go.
    teacher.sweep(CLASS, report="none")
    assert _whose(_inventory(teacher), INSTRUCTOR)["vpcs"] == set()
    assert teacher.remove_class_policies() == [f"{CLASS}-student",
                                               f"{CLASS}-student-boundary"]
    assert teacher.iam.list_policies(Scope="Local")["Policies"] == []
    capsys.readouterr()


def test_a_student_uses_the_class_lab_and_never_creates_one(capsys):
    aws.connect("local")
    kim = aws.connect("local", student="kim", class_name="cls-a", reset=False)
    with pytest.raises(AwsSetupError, match="class 'cls-a' has no lab in ap-northeast-2 yet: "
                                            "ask your instructor"):
        kim.lab_vpc()
    with pytest.raises(AwsSetupError, match="in a class the instructor provisions the lab"):
        kim.lab_vpc(create=True)
    with pytest.raises(AwsSetupError, match="only the instructor can provision a class"):
        kim.setup_class(3)
    assert kim.ec2.describe_vpcs(Filters=[{"Name": "tag:course",
                                           "Values": [aws.COURSE]}])["Vpcs"] == []


def test_two_classes_in_one_account_keep_apart(capsys):
    first = aws.connect("local", class_name="cls-a", instructor=True)
    lab_a = first.setup_class(2, report="none")
    second = aws.connect("local", class_name="cls-b", instructor=True, reset=False)
    with pytest.raises(AwsSetupError, match=r"vCPUs\): needs 4, 4 in use of 5"):
        second.setup_class(2)  # one lab's two instances already take 4 of the 5 vCPUs
    lab_b = second.setup_class(2, report="none", check_quotas=False)
    assert lab_a.vpc_id != lab_b.vpc_id
    kim = aws.connect("local", student="kim", class_name="cls-b", reset=False)
    assert kim.lab_vpc(report="none") == lab_b
    capsys.readouterr()


def test_the_plan_refuses_a_class_the_quotas_do_not_fit(capsys, monkeypatch):
    teacher = aws.connect("local", class_name=CLASS, instructor=True)
    monkeypatch.setattr(quotas, "LAB_INSTANCES", 3)  # 6 vCPUs against the quota of 5
    with pytest.raises(AwsSetupError, match=r"(?s)nothing was created: the account's quotas do "
                                            r"not fit the class\.\n.*Running On-Demand"):
        teacher.setup_class(40)
    assert teacher.ec2.describe_vpcs(Filters=teacher.tag_filters())["Vpcs"] == []
    assert teacher.iam.list_policies(Scope="Local")["Policies"] == []



def test_on_aws_the_instructor_provisions_and_a_student_uses_the_lab(fake_account, capsys):
    teacher = aws.connect("aws", class_name=CLASS, instructor=True,
                          account_id="123456789012")
    plan = teacher.plan(students=40)
    rows = plan.quotas.set_index("code")
    assert rows.loc["L-6E65F664", "needed"] == 1  # the lab's SSM instance profile (aws only)
    assert rows.loc["L-FE5A380F", "source"] == "Service Quotas"
    assert rows.loc["L-1216C47A", "source"] == "AWS default (quota not readable)"
    lab = teacher.setup_class(40)
    kim = aws.connect("aws", student="kim", class_name=CLASS)
    assert kim.plan()["status"].eq("exists").all()  # the class's lab, seen by a student
    assert kim.lab_vpc(report="none") == lab
    flow_log = kim.create_flow_log(lab.vpc_id)
    role = kim.iam.get_role(RoleName="kim-flowlogsRole")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        f"arn:aws:iam::123456789012:policy/{CLASS}-student-boundary")
    assert kim.owner == "arn:aws:sts::123456789012:user/moto"
    kim.teardown(report="none")
    assert kim.ec2.describe_flow_logs(FlowLogIds=[flow_log.flow_log_id])["FlowLogs"] == []
    assert teacher.lab_vpc(report="none") == lab  # the shared lab is untouched
    capsys.readouterr()


@pytest.mark.parametrize("call, words", [
    (lambda t: t.plan(students=0), "students must be a whole number from 1, not 0"),
    (lambda t: t.plan(students=40, layout="one-each"), "layout must be one of"),
    (lambda t: t.setup_class("forty"), "students must be a whole number from 1"),
    (lambda t: t.setup_class(3, report="loud"), "report must be one of"),
])
def test_bad_class_arguments_are_explained(call, words, capsys):
    teacher = aws.connect("local", class_name=CLASS, instructor=True)
    with pytest.raises(AwsSetupError, match=words):
        call(teacher)
    assert teacher.ec2.describe_vpcs(Filters=teacher.tag_filters())["Vpcs"] == []


def test_a_student_finding_a_half_made_class_lab_is_sent_to_the_instructor(capsys):
    teacher = aws.connect("local", class_name=CLASS, instructor=True)
    lab = teacher.setup_class(3, report="none")
    private_sg = next(g for g in lab.security_groups if g.name == "private-sg").group_id
    teacher.ec2.delete_security_group(GroupId=private_sg)
    kim = aws.connect("local", student="kim", class_name=CLASS, reset=False)
    with pytest.raises(AwsSetupError, match=f"the lab's security-group '{CLASS}-private-sg' is "
                                            "missing; ask your instructor to run the class "
                                            "set-up again"):
        kim.lab_vpc()
    assert teacher.setup_class(3, report="summary").vpc_id == lab.vpc_id
    assert "created 1" in capsys.readouterr().out
