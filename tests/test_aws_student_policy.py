"""The student policy and permissions boundary shipped for a class (helpers/aws/*.json).

IAM policy simulation is not available offline: moto 5.2 answers ``SimulateCustomPolicy``
and ``SimulatePrincipalPolicy`` with NotImplementedError. So the documents are tested in two
ways: their structure (the guards a shared account needs), and against the actions the course's
code really calls, recorded on the emulator while a student of a class goes through 실습 1-3,
the monitoring steps and teardown.
"""

from __future__ import annotations

import fnmatch
import json

import pytest

from helpers import aws, traffic
from helpers.aws import policies
from helpers.monitoring import alarms, dashboard

ACCOUNT, REGION, CLASS = "123456789012", "ap-northeast-2", "cls-2026-12"
POLICY = policies.student_policy(ACCOUNT, REGION, CLASS)
BOUNDARY = policies.student_boundary(ACCOUNT, REGION, CLASS)
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{CLASS}-student-boundary"
IAM_PREFIX = {"monitoring": "cloudwatch", "servicequotas": "servicequotas"}
S3_ACTIONS = {"ListObjectsV2": "ListBucket", "ListBuckets": "ListAllMyBuckets",
              "DeleteObjects": "DeleteObject", "HeadBucket": "ListBucket",
              "HeadObject": "GetObject", "ListObjectVersions": "ListBucketVersions"}
SIMULATED = {"logs:CreateLogStream", "logs:PutLogEvents", "s3:PutObject",
             "cloudwatch:PutMetricData"}
"""What the offline simulation of the flow-log service calls in the student's place; on AWS
the service does it, under the flow-log role or the bucket policy."""


def _statements(document: dict, effect: str) -> list[dict]:
    return [s for s in document["Statement"] if s["Effect"] == effect]


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _matches(action: str, statement: dict) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower())
               for pattern in _listed(statement["Action"]))


def allowed(action: str, document: dict = POLICY) -> bool:
    """Allowed by some statement and denied by none (conditions and resources aside)."""
    return (any(_matches(action, s) for s in _statements(document, "Allow"))
            and not any(_matches(action, s) for s in _statements(document, "Deny")))


# --- structure ------------------------------------------------------------------------------
def test_roles_can_be_created_only_with_the_class_boundary():
    creating = [s for s in _statements(POLICY, "Allow") if _matches("iam:CreateRole", s)]
    assert creating and all(
        s["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == BOUNDARY_ARN
        for s in creating)
    assert all(r.endswith(":role/${aws:username}-*") for s in creating
               for r in _listed(s["Resource"]))
    assert not allowed("iam:DeleteRolePermissionsBoundary")
    assert not allowed("iam:AttachRolePolicy")  # no AdministratorAccess on a student's role
    assert not allowed("iam:CreatePolicyVersion")  # the boundary itself stays as shipped


def test_only_the_students_flow_log_role_can_be_passed_and_only_to_flow_logs():
    (passing,) = [s for s in _statements(POLICY, "Allow") if _matches("iam:PassRole", s)]
    assert passing["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/${{aws:username}}-flowlogsRole"
    assert passing["Condition"] == {"StringEquals": {
        "iam:PassedToService": "vpc-flow-logs.amazonaws.com"}}


def test_no_statement_allows_everything_of_a_service():
    for statement in _statements(POLICY, "Allow"):
        for action in _listed(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), action


def test_s3_delivery_rights_are_there():
    assert allowed("logs:CreateLogDelivery") and allowed("logs:DeleteLogDelivery")


def test_the_boundary_allows_exactly_what_the_flow_log_role_needs():
    (statement,) = BOUNDARY["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == sorted(policies.FLOW_LOG_ACTIONS)
    assert statement["Resource"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vpc/*"
    role = policies.role_policy(ACCOUNT, REGION, "/aws/vpc/kim/flowlogs")
    assert role["Statement"][0]["Resource"].startswith(statement["Resource"][:-1])


def test_the_documents_fit_iams_size_limit():
    # Managed policies: 6,144 characters, white space not counted
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
    for document in (POLICY, BOUNDARY):
        assert len("".join(json.dumps(document).split())) < 6144
        assert "{{" not in json.dumps(document)  # every placeholder filled


# --- against what the code calls -------------------------------------------------------------
def _record(cloud, calls: list[str]):
    def before_call(model, **_):
        service = model.service_model.signing_name
        name = model.name
        if service == "s3":
            name = S3_ACTIONS.get(name, name)
        calls.append(f"{IAM_PREFIX.get(service, service)}:{name}")

    for client in {id(c): c for c in cloud.clients.values()}.values():
        client.meta.events.register("before-call.*.*", before_call, unique_id="course-record")

    def stop():
        for client in {id(c): c for c in cloud.clients.values()}.values():
            client.meta.events.unregister("before-call.*.*", unique_id="course-record")
    return stop


def test_every_action_a_student_calls_is_allowed(capsys):
    teacher = aws.connect("local", class_name=CLASS, instructor=True)
    lab = teacher.setup_class(3, report="none")
    kim = aws.connect("local", student="kim", class_name=CLASS, reset=False)
    calls: list[str] = []
    stop = _record(kim, calls)
    try:
        kim.plan(students=3)
        lab = kim.lab_vpc(report="none")
        cwl = kim.create_flow_log(lab.vpc_id)
        custom = kim.create_flow_log(lab.interface("web").subnet_id,
                                     log_format="${srcaddr} ${dstaddr} ${action}",
                                     log_group=kim.log_group_name("custom"))
        s3 = kim.create_flow_log(lab.vpc_id, destination="s3", file_format="parquet")
        kim.deliver(traffic.generate(["web_baseline"], topology=lab, seed=1, duration="2m"))
        kim.read_flow_logs(cwl), kim.read_flow_logs(s3), kim.log_streams(custom)
        kim.query("fields @timestamp, srcAddr | limit 3", cwl)
        kim.create_metric_filter()
        kim.put_dashboard(dashboard.dashboard_body(lab.nat_gateway_id, cwl.log_group, REGION))
        kim.create_alarms(alarms.lesson_alarms(lab.nat_gateway_id, cwl.log_group,
                                               prefix="kim"))
        kim.teardown(report="none")
    finally:
        stop()
    capsys.readouterr()
    used = sorted(set(calls) - SIMULATED)
    assert "ec2:CreateFlowLogs" in used and "iam:CreateRole" in used
    refused = [action for action in used if not allowed(action)]
    assert refused == [], refused


def test_the_instructor_creates_the_class_policies_as_shipped(capsys):
    teacher = aws.connect("local", class_name=CLASS, instructor=True)
    teacher.setup_class(3, report="none")
    for name, document in ((f"{CLASS}-student", POLICY), (f"{CLASS}-student-boundary",
                                                          BOUNDARY)):
        arn = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
        version = teacher.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        stored = teacher.iam.get_policy_version(PolicyArn=arn, VersionId=version)[
            "PolicyVersion"]["Document"]
        stored = json.loads(stored) if isinstance(stored, str) else stored
        assert stored == document
    assert teacher.student_policies() == {"student": POLICY, "boundary": BOUNDARY}
    capsys.readouterr()
    teacher.setup_class(3, report="steps")
    out = capsys.readouterr().out
    assert "  exists  IAM policy cls-2026-12-student\n" in out and "created" not in out


@pytest.mark.parametrize("action", ["ec2:DeleteVpc", "ec2:TerminateInstances",
                                    "ec2:DeleteNatGateway", "iam:CreateUser",
                                    "ec2:CreateNetworkAclEntry"])
def test_a_student_cannot_touch_the_shared_lab_or_make_users(action):
    assert not allowed(action)


def test_the_class_policies_stay_while_a_student_role_uses_the_boundary(capsys,
                                                                         monkeypatch):
    teacher = aws.connect("local", class_name=CLASS, instructor=True)
    teacher.setup_class(3, report="none")
    kim = aws.connect("local", student="kim", class_name=CLASS, reset=False)
    kim.ensure_role()
    # moto does not track which roles use a policy as their boundary; AWS's
    # ListEntitiesForPolicy(PolicyUsageFilter="PermissionsBoundary") lists them.
    listing = teacher.iam.list_entities_for_policy

    def with_boundaries(**kwargs):
        answer = listing(**kwargs)
        if kwargs.get("PolicyUsageFilter") == "PermissionsBoundary":
            roles = [teacher.iam.get_role(RoleName=r["RoleName"])["Role"]
                     for r in teacher.iam.list_roles()["Roles"]]
            answer["PolicyRoles"] = [
                {"RoleName": r["RoleName"]} for r in roles
                if r.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
                == kwargs["PolicyArn"]]
        return answer

    monkeypatch.setattr(teacher.iam, "list_entities_for_policy", with_boundaries)
    teacher.iam.create_group(GroupName="students")
    teacher.iam.attach_group_policy(GroupName="students",
                                    PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/{CLASS}-student")
    assert teacher.remove_class_policies() == [f"{CLASS}-student"]  # detached, then deleted
    assert "still the boundary of kim-flowlogsRole" in capsys.readouterr().out
    kim.teardown(report="none")
    assert teacher.remove_class_policies() == [f"{CLASS}-student-boundary"]
