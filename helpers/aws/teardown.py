"""Delete what the course created, found by its tags, in dependency order; nothing else.

A resource is the course's when it carries the identity tags of the
:class:`~helpers.aws.cloud.Cloud` (``course``, ``lesson``, ``student`` and, in a class,
``class``), so one student's teardown leaves another's alone. Resources are looked up by the
student's names and name prefixes (log groups by ``logGroupNamePrefix``, alarms by
``AlarmNamePrefix``, buckets by ``Prefix``, roles, instance profiles and topics by the
student's name prefix) and EC2 resources by tag filters, so a teardown reads only its own
student's resources, not every resource of the account; the tags are then checked on each.
Metric filters cannot carry tags: the course's are found by their names; the dashboard is
found by its name and deleted only with the course's tags (on AWS; the emulator cannot tag it).

Teardown is robust, as 40 students tearing down at once in one account need it to be:

- it waits on every in-between state: instances ``shutting-down``, NAT gateways ``deleting``,
  network interfaces still attached in the lab's subnets (aws backend; the emulator has none);
- a delete that AWS answers ``DependencyViolation`` (or an Elastic IP still in use) is tried
  again with backoff, after the other resources of its kind, since one may hold another;
- a failure does not stop it: the resource is reported as left, with AWS's reason, and the
  rest is deleted. The returned table has one row per resource with its ``status``
  (``deleted`` or ``left``) and ``reason``; running teardown again retries what was left.

An S3 bucket of the course is emptied (every object version and delete marker) and deleted
only when it holds nothing but flow-log files (``AWSLogs/``); objects someone else put there
are listed and kept, with the bucket, unless ``delete_other_objects=True``.

:func:`sweep` is the instructor's end-of-class clean-up: every student's resources in a class.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from helpers.aws import flow_log_setup, responder, retry
from helpers.aws.account import COURSE, LESSON, Account, describe_error
from helpers.aws.cloudwatch import is_course_dashboard
from helpers.aws.ec2_resources import KINDS
from helpers.aws.steps import Steps
from helpers.errors import AwsSetupError
from helpers.monitoring import names

__all__ = ["COLUMNS", "COURSE_PREFIXES", "class_students", "sweep", "teardown"]

COURSE_PREFIXES = ("AWSLogs/",)
"""Key prefixes of the objects the course (or the flow-log service for it) writes."""
COLUMNS = ["resource", "id", "status", "reason"]
"""The columns of the table :func:`teardown` returns."""
IDENTITY = ("course", "lesson", "student", "class")
BUSY = ("DependencyViolation", "InvalidIPAddress.InUse", "IncorrectState",
        "ResourceInUse", "ResourceInUseException", "DeleteConflict")
"""Answers that mean "something still uses it": tried again after the others."""
ATTEMPTS = 8  # tries of a busy delete (about 1.5 minutes of backoff in all)
_FAILURES = (ClientError, BotoCoreError, WaiterError, AwsSetupError)
_DONE_STATES = {"instance": ("terminated",), "natgateway": ("deleted", "failed")}


def teardown(cloud: Account, *, delete_other_objects: bool = False, report: str = "steps",
             wanted: dict[str, str] | None = None, sleep=None) -> pd.DataFrame:
    """Delete the course's resources (for this student) and return what was done.

    Args:
        delete_other_objects: also delete objects in the course's buckets that are not
            flow-log files (by default such a bucket is kept and its objects listed).
        report: ``"steps"`` (a line per resource, the default), ``"summary"`` (one line) or
            ``"none"``.
        wanted: the identity tags to match (default the cloud's own); :func:`sweep` passes
            each student's.
        sleep: the waiting function between retries (default: real waits on AWS, none on
            the emulator).

    Returns:
        One row per resource: ``resource`` (its kind), ``id``, ``status`` (``deleted`` or
        ``left``) and ``reason`` (why it was left; empty when deleted).
    """
    with Steps(cloud, report) as steps:
        run = _Run(cloud, wanted or _identity(cloud), delete_other_objects,
                   sleep or retry.sleeper(cloud))
        run.all()
        table = pd.DataFrame(run.rows, columns=COLUMNS)
    if table.empty and report == "steps":
        print("Nothing to delete: no resource carries the course's tags.")
    left = table[table["status"] == "left"]
    who = f" of {run.wanted['student']}" if cloud.student or "class" in run.wanted else ""
    steps.summary(f"teardown{who}", "" if left.empty else f"; {len(left)} left")
    if not left.empty and report != "none":
        print(f"{len(left)} resource(s) could not be deleted and are left (see the 'reason' "
              "column): run teardown again in a few minutes; if they stay, delete them in "
              "the console or ask your instructor.")
    return table


def sweep(cloud: Account, class_name: str, *, delete_other_objects: bool = False,
          report: str = "summary", sleep=None) -> pd.DataFrame:
    """The instructor's end-of-class clean-up: tear down every student of a class.

    Finds the students from the course's resources tagged ``course``, ``lesson`` and
    ``class=<class_name>`` (any ``student``, the instructor's shared lab included) and runs
    :func:`teardown` for each, with that student's names and tags. Students are done one
    after another and the instructor's shared lab last, since students' flow logs sit on it.

    Returns:
        The teardown tables of all students, with a ``student`` column first.
    """
    if not isinstance(class_name, str) or not class_name:
        raise AwsSetupError(f"class_name must be the class's name (the 'class' tag), not "
                            f"{class_name!r}")
    students = class_students(cloud, class_name)
    if not students:
        print(f"Nothing to sweep: no resource carries the tags course={COURSE}, "
              f"class={class_name}.")
        return pd.DataFrame(columns=["student", *COLUMNS])
    tables = []
    for student in students:
        member = _member(cloud, student, class_name)
        wanted = {"course": COURSE, "lesson": LESSON, "student": student,
                  "class": class_name}
        table = teardown(member, delete_other_objects=delete_other_objects, report=report,
                         wanted=wanted, sleep=sleep)
        tables.append(table.assign(student=student)[["student", *COLUMNS]])
    return pd.concat(tables, ignore_index=True)


def class_students(cloud: Account, class_name: str) -> list[str]:
    """The ``student`` tags found on the course's resources of a class, sorted, with the
    instructor's (the shared lab) last.

    Looks at the EC2 resources (by tag filters), the log groups under ``/aws/vpc/``, the
    buckets named ``saa-study-flowlogs-…`` and the flow-log roles.
    """
    found: set[str] = set()
    filters = [{"Name": "tag:course", "Values": [COURSE]},
               {"Name": "tag:lesson", "Values": [LESSON]},
               {"Name": "tag:class", "Values": [class_name]}]
    wanted = {"course": COURSE, "lesson": LESSON, "class": class_name}

    def note(tags) -> None:
        tags = _tags(tags)
        if all(tags.get(k) == v for k, v in wanted.items()):
            found.add(tags.get("student"))

    for kind in ("flow-log", "vpc", "subnet", "instance", "natgateway", "security-group"):
        for item in _describe(cloud, kind, filters):
            note(item.get("Tags", []))  # checked again: some answers ignore a tag filter

    for page in cloud.logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix="/aws/vpc/"):
        for group in page["logGroups"]:
            note(cloud.logs.list_tags_log_group(logGroupName=group["logGroupName"]).get(
                "tags", {}))
    for bucket in cloud.s3.list_buckets(Prefix=flow_log_setup.BUCKET).get("Buckets", []):
        try:
            note(cloud.s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"])
        except ClientError:
            continue
    for page in cloud.iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role["RoleName"].endswith(flow_log_setup.ROLE):
                note(cloud.iam.list_role_tags(RoleName=role["RoleName"])["Tags"])
    found.discard(None)
    instructor = getattr(cloud, "instructor", False) and cloud.student
    return sorted(found, key=lambda s: (s == "instructor" or s == instructor, s))


# --- the run ----------------------------------------------------------------------------------


def _identity(cloud: Account) -> dict[str, str]:
    tags = getattr(cloud, "identity_tags", None) or cloud.tags
    return {k: v for k, v in tags.items() if k in IDENTITY}


def _member(cloud: Account, student: str, class_name: str) -> Account:
    """The instructor's account seen as one student of the class (their names and tags)."""
    changes = {"student": None if student == "none" else student}
    fields = getattr(cloud, "__dataclass_fields__", {})
    if "class_name" in fields:
        changes["class_name"] = class_name
    if "instructor" in fields:
        changes["instructor"] = student == "instructor"
    return replace(cloud, **changes)


def _tags(tags) -> dict[str, str]:
    if isinstance(tags, list):
        return {t["Key"]: t["Value"] for t in tags}
    return dict(tags or {})


def _describe(cloud: Account, kind: str, filters: list[dict]) -> list[dict]:
    spec = KINDS[kind]
    method = getattr(cloud.ec2, spec.describe)
    items = method(**{spec.filter_arg: filters})[spec.items]
    if kind == "instance":
        items = [i for reservation in items for i in reservation["Instances"]]
    return sorted(items, key=lambda item: item[spec.id_key])


def _state(item: dict) -> str | None:
    state = item.get("State")
    return state.get("Name") if isinstance(state, dict) else state


class _Run:
    """One teardown: what it matches, what it did, and how it waits."""

    def __init__(self, cloud: Account, wanted: dict[str, str], delete_other_objects: bool,
                 sleep):
        self.cloud, self.wanted = cloud, dict(wanted)
        self.delete_other_objects, self.sleep = delete_other_objects, sleep
        self.rows: list[tuple[str, str, str, str]] = []
        self.prefix = cloud.name("")  # "kim-" (a student), "" (no student)

    # --- reporting -------------------------------------------------------------------------
    def deleted(self, kind: str, name: str) -> None:
        self.cloud.say("deleted", f"{kind} {name}")
        self.rows.append((kind, name, "deleted", ""))

    def left(self, kind: str, name: str, reason: str) -> None:
        self.cloud.say("left", f"{kind} {name}: {reason}")
        self.rows.append((kind, name, "left", reason))

    def owns(self, tags) -> bool:
        tags = _tags(tags)
        return all(tags.get(k) == v for k, v in self.wanted.items())

    def filters(self) -> list[dict]:
        return [{"Name": f"tag:{k}", "Values": [v]} for k, v in self.wanted.items()]

    def find(self, kind: str, *, waiting: bool = False) -> list[dict]:
        """The matching EC2 resources of a kind; with ``waiting``, those already on their
        way out too (``shutting-down``, ``deleting``), but never the ones gone."""
        items = _describe(self.cloud, kind, self.filters())
        gone = _DONE_STATES.get(kind, ()) if waiting else KINDS[kind].gone
        # The tags are checked again: an answer that ignores a tag filter (the emulator's
        # DescribeNatGateways does) must not hand over someone else's resource.
        return [item for item in items if _state(item) not in gone
                and self.owns(item.get("Tags", []))]

    def guarded(self, kind: str, name: str, action) -> bool:
        """Run ``action``; on failure report the resource as left and go on."""
        try:
            action()
            return True
        except _FAILURES as err:
            self.left(kind, name, _reason(err))
            return False

    def in_passes(self, kind: str, items: list[tuple[str, object]]) -> None:
        """Delete ``(name, action)`` items; those AWS calls busy are tried again after the
        others, with backoff, up to :data:`ATTEMPTS` rounds; the rest are reported left."""
        waits = retry.delays(f"teardown {kind}", ATTEMPTS)
        pending, last = list(items), {}
        for attempt in range(ATTEMPTS):
            busy = []
            for name, action in pending:
                try:
                    action()
                    self.deleted(kind, name)
                except ClientError as err:
                    if retry.error_code(err) in BUSY:
                        busy.append((name, action))
                        last[name] = err
                    else:
                        self.left(kind, name, _reason(err))
                except (BotoCoreError, WaiterError, AwsSetupError) as err:
                    self.left(kind, name, _reason(err))
            if not busy:
                return
            pending = busy
            if attempt < ATTEMPTS - 1:
                self.sleep(waits[attempt])
        for name, _ in pending:
            self.left(kind, name, f"{_reason(last[name])} (still after {ATTEMPTS} tries over "
                                  f"{sum(waits):.0f} s)")

    def wait(self, waiter: str, what: str, **args) -> str | None:
        """Wait with a boto3 waiter on AWS (the emulator's changes are immediate); the
        reason it failed, or None."""
        if self.cloud.backend != "aws":
            return None
        try:
            self.cloud.ec2.get_waiter(waiter).wait(**args)
            return None
        except WaiterError as err:
            return f"still not gone after waiting for {what}: {err}"

    # --- the order ---------------------------------------------------------------------------
    def all(self) -> None:
        steps = (self.flow_logs, self.responder, self.instances, self.nat_gateways,
                 self.addresses, self.network, self.monitoring, self.log_groups,
                 self.buckets, self.instance_profiles, self.roles)
        for step in steps:
            try:
                step()
            except _FAILURES as err:  # a lookup failed: say so, go on with the next kind
                self.left(step.__name__.replace("_", " "), "(lookup)", _reason(err))

    def flow_logs(self) -> None:
        ids = [f["FlowLogId"] for f in self.find("flow-log")]
        for start in range(0, len(ids), 1000):  # DeleteFlowLogs takes up to 1,000 IDs
            chunk = ids[start:start + 1000]
            try:
                failed = {u["ResourceId"]: u.get("Error", {}) for u in
                          self.cloud.ec2.delete_flow_logs(FlowLogIds=chunk).get(
                              "Unsuccessful", [])}
            except ClientError as err:
                failed = {i: err.response.get("Error", {}) for i in chunk}
            for flow_log in chunk:
                if flow_log in failed:
                    problem = failed[flow_log]
                    self.left("flow log", flow_log,
                              f"{problem.get('Code')}: {problem.get('Message')}")
                else:
                    self.deleted("flow log", flow_log)

    def responder(self) -> None:
        # The auto-block function, before its role and log group; it finds its own by name.
        responder.remove(self.cloud, self.deleted)

    def instances(self) -> None:
        found = self.find("instance", waiting=True)
        active = [i["InstanceId"] for i in found if _state(i) != "shutting-down"]
        if active and not self.guarded("instance", ", ".join(active), lambda: (
                self.cloud.ec2.terminate_instances(InstanceIds=active))):
            return
        every = [i["InstanceId"] for i in found]
        problem = every and self.wait("instance_terminated", "the instances to terminate",
                                      InstanceIds=every)
        for instance in every:
            if problem:
                self.left("instance", instance, problem)
            else:
                self.deleted("instance", instance)

    def nat_gateways(self) -> None:
        found = self.find("natgateway", waiting=True)
        ready = []
        for nat in found:
            name = nat["NatGatewayId"]
            if _state(nat) == "deleting" or self.guarded(
                    "NAT gateway", name,
                    lambda n=name: self.cloud.ec2.delete_nat_gateway(NatGatewayId=n)):
                ready.append(name)
        problem = ready and self.wait("nat_gateway_deleted", "the NAT gateways to be deleted",
                                      NatGatewayIds=ready)
        for nat in ready:
            if problem:
                self.left("NAT gateway", nat, problem)
            else:
                self.deleted("NAT gateway", nat)

    def addresses(self) -> None:
        self.in_passes("Elastic IP", [
            (a["AllocationId"], lambda a=a: self.cloud.ec2.release_address(
                AllocationId=a["AllocationId"])) for a in self.find("elastic-ip")])

    def network(self) -> None:
        ec2 = self.cloud.ec2
        vpcs = [v["VpcId"] for v in self.find("vpc")]
        self.wait_for_interfaces(vpcs)

        def detach_and_delete(igw):
            for attachment in igw.get("Attachments", []):
                try:
                    ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"],
                                                VpcId=attachment["VpcId"])
                except ClientError as err:
                    if retry.error_code(err) != "Gateway.NotAttached":  # a retry after all
                        raise
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])

        self.in_passes("internet gateway", [
            (igw["InternetGatewayId"], lambda igw=igw: detach_and_delete(igw))
            for igw in self.find("internet-gateway")])

        def delete_table(table):
            for association in table.get("Associations", []):
                if not association.get("Main"):
                    _ignore_missing(ec2.disassociate_route_table,
                                    AssociationId=association["RouteTableAssociationId"])
            ec2.delete_route_table(RouteTableId=table["RouteTableId"])

        self.in_passes("route table", [(t["RouteTableId"], lambda t=t: delete_table(t))
                                       for t in self.find("route-table")])

        def delete_acl(acl):
            default = ec2.describe_network_acls(Filters=[
                {"Name": "vpc-id", "Values": [acl["VpcId"]]},
                {"Name": "default", "Values": ["true"]}])["NetworkAcls"][0]["NetworkAclId"]
            for association in acl.get("Associations", []):
                ec2.replace_network_acl_association(
                    AssociationId=association["NetworkAclAssociationId"], NetworkAclId=default)
            ec2.delete_network_acl(NetworkAclId=acl["NetworkAclId"])

        self.in_passes("network ACL", [(a["NetworkAclId"], lambda a=a: delete_acl(a))
                                       for a in self.find("network-acl")])
        self.in_passes("security group", [
            (g["GroupId"], lambda g=g: ec2.delete_security_group(GroupId=g["GroupId"]))
            for g in self.find("security-group")])
        self.in_passes("subnet", [
            (s["SubnetId"], lambda s=s: ec2.delete_subnet(SubnetId=s["SubnetId"]))
            for s in self.find("subnet")])
        self.in_passes("VPC", [(v, lambda v=v: ec2.delete_vpc(VpcId=v)) for v in vpcs])

    def wait_for_interfaces(self, vpcs: list[str]) -> None:
        """AWS: wait until no network interface in the lab's VPCs is ``detaching`` (or
        ``attaching``): a terminated instance's or deleted NAT gateway's interface passes
        through that state before it goes. One that stays ``in-use`` holds its subnet and
        security group; their deletes answer DependencyViolation and are retried."""
        if self.cloud.backend != "aws" or not vpcs:
            return

        def settled():
            found = self.cloud.ec2.describe_network_interfaces(Filters=[
                {"Name": "vpc-id", "Values": vpcs},
                {"Name": "status", "Values": ["attaching", "detaching"]}])
            return not found["NetworkInterfaces"]

        try:
            retry.wait_for(settled, what="the lab's network interfaces are detached",
                           attempts=ATTEMPTS, sleep=self.sleep)
        except AwsSetupError:
            pass  # the deletes below retry and report what is still held

    def monitoring(self) -> None:
        """Alarms, SNS topics (with their subscriptions) and the dashboard by name and tags;
        metric filters, which carry no tags, by the course's names."""
        cloud, cw = self.cloud, self.cloud.cloudwatch
        alarms = []
        args = {"AlarmNamePrefix": self.prefix} if self.prefix else {}
        for page in cw.get_paginator("describe_alarms").paginate(
                AlarmTypes=["MetricAlarm", "CompositeAlarm"], **args):
            for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
                if self.owns(tags):
                    alarms.append(alarm["AlarmName"])
        for start in range(0, len(alarms), 100):  # DeleteAlarms takes up to 100 names
            chunk = alarms[start:start + 100]
            if self.guarded("alarm", ", ".join(chunk),
                            lambda c=chunk: cw.delete_alarms(AlarmNames=c)):
                for name in chunk:
                    self.deleted("alarm", name)

        dashboard = cloud.name(names.DASHBOARD)
        entries = cw.list_dashboards(DashboardNamePrefix=dashboard).get("DashboardEntries", [])
        for entry in (e for e in entries if e["DashboardName"] == dashboard):
            if not is_course_dashboard(cloud, entry["DashboardArn"], self.owns):
                self.left("dashboard", dashboard, "it does not carry the course's tags, so the "
                          "course leaves it alone")
            elif self.guarded("dashboard", dashboard,
                              lambda: cw.delete_dashboards(DashboardNames=[dashboard])):
                self.deleted("dashboard", dashboard)

        metric_filter = cloud.name(names.REJECTS_FILTER)
        for group in self.course_log_groups():
            for item in cloud.logs.describe_metric_filters(
                    logGroupName=group, filterNamePrefix=metric_filter)["metricFilters"]:
                spaces = {t.get("metricNamespace") for t in item.get("metricTransformations",
                                                                       [])}
                if item["filterName"] != metric_filter or names.REJECTS_NAMESPACE not in spaces:
                    continue
                label = f"{item['logGroupName']}:{item['filterName']}"
                if self.guarded("metric filter", label, lambda i=item: (
                        cloud.logs.delete_metric_filter(logGroupName=i["logGroupName"],
                                                        filterName=i["filterName"]))):
                    self.deleted("metric filter", label)

        sns = cloud.sns
        for page in sns.get_paginator("list_topics").paginate():
            for topic in page["Topics"]:
                arn = topic["TopicArn"]
                if not arn.rsplit(":", 1)[-1].startswith(self.prefix):
                    continue
                if not self.owns(sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])):
                    continue
                for subs in sns.get_paginator("list_subscriptions_by_topic").paginate(
                        TopicArn=arn):
                    for sub in subs["Subscriptions"]:
                        if sub["SubscriptionArn"].startswith("arn:") and self.guarded(
                                "SNS subscription", sub["Endpoint"], lambda s=sub: (
                                    sns.unsubscribe(SubscriptionArn=s["SubscriptionArn"]))):
                            self.deleted("SNS subscription", sub["Endpoint"])
                name = arn.rsplit(":", 1)[-1]
                if self.guarded("SNS topic", name, lambda a=arn: sns.delete_topic(TopicArn=a)):
                    self.deleted("SNS topic", name)

    def course_log_groups(self) -> list[str]:
        """The student's log groups (under their ``/aws/vpc/…`` prefix) that carry the tags."""
        prefix = flow_log_setup.log_group_name(self.cloud).rsplit("/", 1)[0] + "/"
        found = []
        for page in self.cloud.logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix=prefix):
            for group in page["logGroups"]:
                name = group["logGroupName"]
                if self.owns(self.cloud.logs.list_tags_log_group(logGroupName=name).get(
                        "tags", {})):
                    found.append(name)
        return found

    def log_groups(self) -> None:
        for name in self.course_log_groups():
            if self.guarded("log group", name, lambda n=name: (
                    self.cloud.logs.delete_log_group(logGroupName=n))):
                self.deleted("log group", name)

    def buckets(self) -> None:
        s3 = self.cloud.s3
        for bucket in s3.list_buckets(Prefix=flow_log_setup.bucket_prefix(self.cloud)).get(
                "Buckets", []):
            name = bucket["Name"]
            try:
                tags = s3.get_bucket_tagging(Bucket=name)["TagSet"]
            except ClientError:
                continue  # no tags: not the course's
            if not self.owns(tags):
                continue
            try:
                kept = _empty_bucket(self.cloud, name, self.delete_other_objects)
            except _FAILURES as err:
                self.left("S3 bucket", name, _reason(err))
                continue
            if kept:
                self.left("S3 bucket", name, kept)
            elif self.guarded("S3 bucket", name, lambda n=name: s3.delete_bucket(Bucket=n)):
                self.deleted("S3 bucket", name)

    def _iam_names(self, pages, key: str) -> list[dict]:
        return [item for page in pages for item in page[key]
                if item[key[:-1] + "Name"].startswith(self.prefix)]

    def instance_profiles(self) -> None:
        iam = self.cloud.iam
        profiles = self._iam_names(iam.get_paginator("list_instance_profiles").paginate(),
                                   "InstanceProfiles")
        for profile in profiles:
            name = profile["InstanceProfileName"]
            tags = iam.get_instance_profile(InstanceProfileName=name)[
                "InstanceProfile"].get("Tags", [])
            if not self.owns(tags):
                continue

            def delete(profile=profile, name=name):
                for role in profile["Roles"]:
                    iam.remove_role_from_instance_profile(InstanceProfileName=name,
                                                          RoleName=role["RoleName"])
                iam.delete_instance_profile(InstanceProfileName=name)

            if self.guarded("instance profile", name, delete):
                self.deleted("instance profile", name)

    def roles(self) -> None:
        iam = self.cloud.iam
        for role in self._iam_names(iam.get_paginator("list_roles").paginate(), "Roles"):
            name = role["RoleName"]
            if not self.owns(iam.list_role_tags(RoleName=name)["Tags"]):
                continue

            def delete(name=name):
                for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                    iam.delete_role_policy(RoleName=name, PolicyName=policy)
                for policy in iam.list_attached_role_policies(RoleName=name)[
                        "AttachedPolicies"]:
                    iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
                iam.delete_role(RoleName=name)

            self.in_passes("IAM role", [(name, delete)])


def _reason(err: BaseException) -> str:
    if isinstance(err, ClientError):
        return describe_error(err)
    return str(err) or type(err).__name__


def _ignore_missing(call, **args) -> None:
    """A disassociation that a previous, interrupted teardown already did is fine."""
    try:
        call(**args)
    except ClientError as err:
        if not retry.error_code(err).endswith(("NotFound", "NotFound.Association")):
            raise


def _empty_bucket(cloud: Account, bucket: str, delete_other_objects: bool) -> str:
    """Delete every version and delete marker in the bucket; '' when it is empty now, or why
    it was kept (objects the course did not write), with nothing deleted.

    A versioned bucket keeps deleted objects as versions behind delete markers, and S3
    deletes a bucket only when no version is left
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-bucket.html).
    """
    s3, entries = cloud.s3, []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            entries.append({"Key": item["Key"], "VersionId": item.get("VersionId", "null")})
    others = sorted({e["Key"] for e in entries if not e["Key"].startswith(COURSE_PREFIXES)})
    if others and not delete_other_objects:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3
                                         else "")
        reason = (f"it holds {len(others)} object(s) the course did not write ({shown}); "
                  "teardown(delete_other_objects=True) deletes them with the bucket")
        return reason
    for start in range(0, len(entries), 1000):  # DeleteObjects takes up to 1,000 keys
        response = s3.delete_objects(Bucket=bucket, Delete={
            "Objects": entries[start:start + 1000], "Quiet": True})
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise AwsSetupError(f"{len(errors)} object(s) could not be deleted, e.g. "
                                f"{first.get('Key')}: {first.get('Code')}: "
                                f"{first.get('Message')}")
    return ""

