"""A class sharing one account: the instructor provisions once, each student does 실습 1-3.

A lab VPC per student does not fit an account's default quotas beyond about five students
(see :mod:`helpers.aws.quotas`). In a class, the instructor connects with
``aws.connect("aws", class_name="cls-2026-12", instructor=True)`` and runs
:func:`setup_class` once: it checks the quotas, creates the class's two IAM policies (the
students' policy and the permissions boundary of the roles they create) and the one shared
lab VPC with its NAT gateway, Elastic IP, internet gateway and instances. Each student
connects with ``aws.connect("aws", student="kim", class_name="cls-2026-12")``; their
``cloud.lab_vpc()`` finds the shared lab (it never creates one), and the student's own steps
stay theirs: the log group, the flow-log role, the flow logs on the shared lab's VPC, subnets
or interfaces, the custom format and the queries, all tagged with their name and the class.

Every IAM role a student's Cloud creates carries the class's permissions boundary: the
student policy allows ``iam:CreateRole`` only with it
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), and
:func:`require_boundary` adds it to each ``CreateRole`` request of that Cloud's IAM client.
"""

from __future__ import annotations

import json

from botocore.exceptions import BotoCoreError, ClientError

from helpers.aws import flow_log_setup, lab, policies, quotas
from helpers.aws.account import Account, describe_error
from helpers.aws.steps import Steps
from helpers.errors import AwsSetupError
from helpers.traffic.topology import Topology

__all__ = ["boundary_arn", "ensure_class_policies", "name_owner", "remove_class_policies",
           "require_boundary", "setup_class"]

_EVENT = "provide-client-params.iam.CreateRole"


def boundary_arn(account_id: str, class_name: str) -> str:
    """The ARN of the class's permissions boundary (a customer managed policy)."""
    return f"arn:aws:iam::{account_id}:policy/{policies.boundary_name(class_name)}"


def require_boundary(iam, account_id: str, class_name: str) -> None:
    """Give every ``CreateRole`` request of this IAM client the class's boundary.

    A request that names its own ``PermissionsBoundary`` keeps it (and the student policy
    refuses it unless it is the class's).
    """
    arn = boundary_arn(account_id, class_name)

    def add_boundary(params, **_):
        params.setdefault("PermissionsBoundary", arn)

    iam.meta.events.register(_EVENT, add_boundary, unique_id="course-class-boundary")


def name_owner(cloud: Account) -> str | None:
    """Who created the student's flow-log role, when it was someone else (their ARN).

    The ``owner`` tag records the caller's identity; a role of this student name tagged with
    another caller's ARN means two people picked the same ``student=`` name. None when the
    role does not exist, carries no owner, is the caller's, or cannot be read.
    """
    if not cloud.student or not cloud.owner:
        return None
    try:
        tags = cloud.iam.list_role_tags(RoleName=cloud.name(flow_log_setup.ROLE))["Tags"]
    except (ClientError, BotoCoreError):
        return None
    tags = {t["Key"]: t["Value"] for t in tags}
    other = tags.get("owner")
    return other if cloud.owns(tags) and other and other != cloud.owner else None


def ensure_class_policies(cloud: Account) -> dict[str, str]:
    """The class's student policy and permissions boundary, created when missing; their ARNs.

    Raises:
        AwsSetupError: not an instructor's Cloud, or a policy of that name the course did
            not create.
    """
    _require_instructor(cloud, "create the class's IAM policies")
    documents = {
        policies.student_policy_name(cloud.class_name): (
            policies.student_policy(cloud.account_id, cloud.region, cloud.class_name),
            "What a student of the class may do (attach to the students' IAM group)"),
        policies.boundary_name(cloud.class_name): (
            policies.student_boundary(cloud.account_id, cloud.region, cloud.class_name),
            "Permissions boundary of every role a student of the class creates"),
    }
    arns = {}
    for name, (document, description) in documents.items():
        arn = f"arn:aws:iam::{cloud.account_id}:policy/{name}"
        try:
            found = cloud.iam.get_policy(PolicyArn=arn)["Policy"]
        except cloud.iam.exceptions.NoSuchEntityException:
            found = None
        if found is not None:
            tags = found.get("Tags") or cloud.iam.list_policy_tags(PolicyArn=arn)["Tags"]
            if not cloud.owns(tags):
                raise AwsSetupError(f"IAM policy {name!r} exists but was not created by the "
                                    "course for this class; the course will not change it. "
                                    "Pick another class_name")
            cloud.say("exists", f"IAM policy {name}")
        else:
            try:
                cloud.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document),
                                        Description=description, Tags=cloud.tag_list())
            except ClientError as err:
                raise AwsSetupError(f"IAM policy {name} was not created: "
                                    f"{describe_error(err)}") from err
            cloud.say("created", f"IAM policy {name}")
        arns[name] = arn
    return arns


def setup_class(cloud: Account, students: int, *, report: str = "summary",
                check_quotas: bool = True) -> Topology:
    """Provision the class: check the quotas, create the IAM policies and the shared lab.

    Args:
        students: the class size (for the quota check).
        report: ``"summary"`` (one line of counts, the default), ``"steps"`` (a line per
            resource) or ``"none"``.
        check_quotas: refuse to create anything when a quota has no room (default).

    Raises:
        AwsSetupError: not an instructor's Cloud, or a quota without room (with the quota,
            its code and what is in use).
    """
    _require_instructor(cloud, "provision a class")
    quotas.needs("shared", students)  # checks the class size before anything is read
    if check_quotas:
        plan = quotas.class_plan(cloud, students, lab.plan(cloud))
        if not plan.fits:
            raise AwsSetupError("nothing was created: the account's quotas do not fit the "
                                "class.\n" + plan.summary() + "\nRequest increases in "
                                "Service Quotas, or free the resources in use")
    with Steps(cloud, report) as steps:
        ensure_class_policies(cloud)
        topology = lab.lab_vpc(cloud, create=True,
                               report="steps" if report == "steps" else "none")
    steps.summary(f"class {cloud.class_name} ({topology.vpc_id})")
    return topology


def remove_class_policies(cloud: Account) -> list[str]:
    """Delete the class's two IAM policies (after the sweep); the names deleted.

    The student policy is detached from the groups, users and roles it is attached to first.
    A policy still used as a permissions boundary (a student role the sweep left) is kept
    and reported: sweep again, then call this again.
    """
    _require_instructor(cloud, "remove the class's IAM policies")
    iam, removed = cloud.iam, []
    for name in (policies.student_policy_name(cloud.class_name),
                 policies.boundary_name(cloud.class_name)):
        arn = f"arn:aws:iam::{cloud.account_id}:policy/{name}"
        try:
            found = iam.get_policy(PolicyArn=arn)["Policy"]
        except iam.exceptions.NoSuchEntityException:
            continue
        if not cloud.owns(found.get("Tags") or iam.list_policy_tags(PolicyArn=arn)["Tags"]):
            cloud.say("kept", f"IAM policy {name}: not the course's")
            continue
        bounded = iam.list_entities_for_policy(PolicyArn=arn,
                                               PolicyUsageFilter="PermissionsBoundary")
        if bounded.get("PolicyRoles") or bounded.get("PolicyUsers"):
            holders = [r["RoleName"] for r in bounded.get("PolicyRoles", [])] + [
                u["UserName"] for u in bounded.get("PolicyUsers", [])]
            cloud.say("kept", f"IAM policy {name}: still the boundary of {', '.join(holders)}")
            continue
        attached = iam.list_entities_for_policy(PolicyArn=arn,
                                                PolicyUsageFilter="PermissionsPolicy")
        for group in attached.get("PolicyGroups", []):
            iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
        for user in attached.get("PolicyUsers", []):
            iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        for role in attached.get("PolicyRoles", []):
            iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.delete_policy(PolicyArn=arn)
        cloud.say("deleted", f"IAM policy {name}")
        removed.append(name)
    return removed


def _require_instructor(cloud: Account, what: str) -> None:
    if not (cloud.instructor and cloud.class_name):
        raise AwsSetupError(f"only the instructor can {what}: aws.connect(..., "
                            "class_name='cls-2026-12', instructor=True)")
