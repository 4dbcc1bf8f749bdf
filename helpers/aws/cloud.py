"""The ``Cloud`` facade: one object, two backends (the embedded emulator or a real account).

``connect()`` picks the backend from its argument or the ``COURSE_BACKEND`` environment
variable (``local``, the default, or ``aws``) and returns a :class:`Cloud`. Every AWS action of
the course is a method of it, so a notebook reaches AWS one way only; each method hands the
work to the adapter module of its service family beside this one. Everything the course
creates is tagged ``course``/``lesson``/``student`` and, with a ``student`` name, prefixed, so
a class can share one account; ``teardown()`` deletes exactly what carries the tags.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from datetime import datetime, timedelta, timezone

import boto3
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from helpers import insights
from helpers.aws import (
    athena,
    classroom,
    cloudwatch,
    emulator,
    flow_log_setup,
    lab,
    logs_insights,
    policies,
    quotas,
    responder,
    retry,
    run_command,
    teardown,
    transport,
)
from helpers.aws.account import COURSE, INSTRUCTOR, Account
from helpers.errors import AwsSetupError, SharedNameWarning
from helpers.flowlogs.delivery import FlowLog
from helpers.monitoring.alarms import AlarmSpec, MetricFilterSpec
from helpers.monitoring.evaluate import AlarmTimeline
from helpers.traffic.topology import Topology

__all__ = ["BACKEND_ENV", "COURSE", "Cloud", "connect"]

BACKEND_ENV = "COURSE_BACKEND"
ACCOUNT_ENV = "COURSE_ACCOUNT_ID"
SERVICES = ("ec2", "logs", "s3", "iam", "cloudwatch", "sns", "sts", "ssm", "athena", "lambda",
            "events", "service-quotas")
_STUDENT = re.compile(r"[a-z0-9][a-z0-9-]{0,19}")
_CLASS = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")
# What the emulator's GetCallerIdentity answers (moto's fixed identity): the local ``owner``.
LOCAL_CALLER = f"arn:aws:sts::{emulator.ACCOUNT_ID}:user/moto"


def connect(backend: str | None = None, *, student: str | None = None,
            region: str = "ap-northeast-2", seed: int = 0,
            account_id: str | None = None, class_name: str | None = None,
            instructor: bool = False, expires_in_hours: float = 24,
            reset: bool = True) -> Cloud:
    """A :class:`Cloud` on the chosen backend.

    Args:
        backend: ``"local"`` (embedded emulator; the default) or ``"aws"`` (your default
            credential chain). None reads the ``COURSE_BACKEND`` environment variable.
        student: a short name (lowercase letters, digits, hyphens) that prefixes every name
            and goes into the ``student`` tag, so students can share an account.
        region: the AWS region (the lesson uses ap-northeast-2, Seoul).
        seed: local backend only: the emulator starts empty and seeded, so resource IDs are
            the same on every run.
        account_id: aws backend only: the account the class uses (default the
            ``COURSE_ACCOUNT_ID`` environment variable); credentials for any other account
            are refused before anything is read or changed. Required for ``instructor``.
        class_name: the class sharing the account (e.g. ``"cls-2026-12"``; 1-24 lowercase
            letters, digits, hyphens). It goes into a ``class`` tag on everything; a student
            of a class uses the lab the instructor provisioned (:meth:`Cloud.lab_vpc` finds
            it, never creates one), and every IAM role the course creates for the student
            gets the class's permissions boundary (:mod:`helpers.aws.classroom`).
        instructor: provision the class's shared lab (needs ``class_name``; no ``student``):
            names are prefixed with the class name, the ``student`` tag is ``instructor``.
        expires_in_hours: the ``expires-at`` tag on what is created: now plus this many
            hours (ISO 8601 UTC), the time after which an instructor's sweep may delete it.
        reset: local backend only: False joins the emulator as it is instead of starting it
            afresh, so several Clouds (an instructor and students) share one account.

    Locally each call starts the emulator afresh (unless ``reset=False``): a Cloud from an
    earlier ``connect()`` stops working (its resources are gone) and says so when used.
    Everything created is tagged ``course``, ``lesson``, ``student`` (and ``class``), which
    say whose it is, plus ``owner`` (the caller's ARN) and ``expires-at``.

    Raises:
        AwsSetupError: an unknown backend, a malformed student or class name, or (aws) no
            student name, no usable credentials or the wrong account, with what to do.
    """
    if backend is not None and not isinstance(backend, str):
        raise AwsSetupError(f"backend must be 'local' or 'aws', not {backend!r}")
    choice = (backend or os.environ.get(BACKEND_ENV) or "local").strip().lower()
    if choice not in ("local", "aws"):
        raise AwsSetupError(f"unknown backend {choice!r}: use 'local' (offline emulator) or "
                            f"'aws' (a real account), as an argument or in ${BACKEND_ENV}")
    if student is not None and not (isinstance(student, str) and _STUDENT.fullmatch(student)):
        raise AwsSetupError(f"student name {student!r} must be 1-20 lowercase letters, digits "
                            "or hyphens, starting with a letter or digit (it goes into names "
                            "and S3 bucket names)")
    student = _check_class(student, class_name, instructor)
    expires_at = _expires_at(expires_in_hours)
    if choice == "local":
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise AwsSetupError(f"seed must be a whole number ≥ 0, not {seed!r}")
        if not isinstance(reset, bool):
            raise AwsSetupError(f"reset must be True or False, not {reset!r}")
        generation = emulator.reset(seed) if reset else emulator.generation()
        clients = _local_clients(region)
        if class_name and not instructor:  # each student's own IAM client (the boundary)
            clients = {**clients, "iam": _local_iam(region)}
            classroom.require_boundary(clients["iam"], emulator.ACCOUNT_ID, class_name)
        return Cloud("local", region, emulator.ACCOUNT_ID, student, clients, generation,
                     class_name=class_name, owner=LOCAL_CALLER, expires_at=expires_at,
                     instructor=instructor)
    if student is None:
        raise AwsSetupError(
            "on a real AWS account, connect with your own short name: aws.connect('aws', "
            "student='kim'). It prefixes and tags everything you create, so a class can share "
            "one account without touching each other's resources")
    session = boto3.Session(region_name=region)
    clients = {s: session.client(s, config=_CONFIG) for s in SERVICES}
    try:
        caller = clients["sts"].get_caller_identity()
        account = caller["Account"]
    except NoCredentialsError as err:
        raise AwsSetupError(
            "no AWS credentials found. Configure them (`aws configure`, or AWS_PROFILE / "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or work offline: "
            f"aws.connect() or aws.connect('local'), and unset {BACKEND_ENV}") from err
    except (ClientError, BotoCoreError) as err:
        raise AwsSetupError(f"AWS rejected the credentials ({err}); check them with "
                            "`aws sts get-caller-identity`, or work offline with "
                            "aws.connect('local')") from err
    expected = account_id or os.environ.get(ACCOUNT_ENV)
    if expected and account != expected:
        raise AwsSetupError(
            f"these credentials belong to account {account}, not the class's account "
            f"{expected} ({ACCOUNT_ENV}); nothing was changed. Switch profile (AWS_PROFILE) or "
            "ask your instructor")
    if instructor and not expected:
        raise AwsSetupError(
            "instructor mode changes a shared account: say which one, with account_id='...' "
            f"or ${ACCOUNT_ENV}, so other credentials are refused before anything is changed")
    if class_name and not instructor:
        classroom.require_boundary(clients["iam"], account, class_name)
    cloud = Cloud("aws", region, account, student, clients, class_name=class_name,
                  owner=caller["Arn"], expires_at=expires_at, instructor=instructor)
    other = classroom.name_owner(cloud)
    if other:
        warnings.warn(SharedNameWarning(
            f"the resources of student {student!r} were created by {other}, not by you "
            f"({caller['Arn']}): someone else uses this name. Connect with another "
            "student= name, or your set-up and teardown will change theirs"), stacklevel=2)
    print(f"Real AWS account {account} in {region}. Nothing is created until you call a "
          "set-up method; cloud.plan() lists what the course would create.")
    return cloud


_CONFIG = retry.CONFIG  # one botocore Config (retries, timeouts) for every client, Athena too


@functools.cache
def _local_clients(region: str) -> dict:
    """Clients for the emulator, made once per region (they are reusable across resets)."""
    url = emulator.endpoint()
    clients = {s: _local_session(region).client(s, endpoint_url=url, config=_CONFIG)
               for s in SERVICES}
    emulator.honour_tag_filters(clients["ec2"])
    return clients


@functools.cache
def _local_session(region: str) -> boto3.Session:
    return boto3.Session(region_name=region, **emulator.CREDENTIALS)


def _local_iam(region: str):
    """A new IAM client for the emulator (one per class student: it carries their boundary)."""
    return _local_session(region).client("iam", endpoint_url=emulator.endpoint(),
                                         config=_CONFIG)


def _check_class(student, class_name, instructor) -> str | None:
    """The student name to use, after the class arguments are checked."""
    if not isinstance(instructor, bool):
        raise AwsSetupError(f"instructor must be True or False, not {instructor!r}")
    if class_name is not None and not (isinstance(class_name, str)
                                       and _CLASS.fullmatch(class_name)):
        raise AwsSetupError(f"class name {class_name!r} must be 1-24 lowercase letters, digits "
                            "or hyphens, starting with a letter or digit (e.g. 'cls-2026-12')")
    if instructor:
        if not class_name:
            raise AwsSetupError("instructor mode is for a class: aws.connect(..., "
                                "class_name='cls-2026-12', instructor=True)")
        if student not in (None, INSTRUCTOR):
            raise AwsSetupError(f"an instructor connects without a student name (got "
                                f"{student!r}): aws.connect(..., class_name={class_name!r}, "
                                "instructor=True)")
        return INSTRUCTOR
    if student == INSTRUCTOR:
        raise AwsSetupError(f"the student name {INSTRUCTOR!r} is reserved for what the "
                            "instructor provisions; pick your own short name")
    return student


def _expires_at(hours) -> str:
    """Now plus ``hours``, as the ``expires-at`` tag (ISO 8601 UTC, to the second)."""
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 90:
        raise AwsSetupError(f"expires_in_hours must be a number of hours above 0 and at most "
                            f"{24 * 90} (90 days), not {hours!r}")
    when = datetime.now(timezone.utc) + timedelta(hours=hours)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Cloud(Account):
    """One backend's account, with a method for every AWS action of the course.

    Set-up: :meth:`plan`, :meth:`lab_vpc`, :meth:`ensure_log_group`, :meth:`ensure_role`,
    :meth:`ensure_bucket`, :meth:`create_flow_log`. Data: :meth:`deliver`,
    :meth:`read_flow_logs`, :meth:`query`, :meth:`athena_query`. Monitoring:
    :meth:`put_metrics`, :meth:`read_metrics`, :meth:`put_dashboard`, :meth:`ensure_topic`,
    :meth:`create_alarms`, :meth:`create_metric_filter`, :meth:`publish_alarm`. Reading back
    what AWS holds: :meth:`flow_logs`, :meth:`describe_flow_log`, :meth:`log_streams`,
    :meth:`bucket_keys`, :meth:`log_group`, :meth:`role_policies`, :meth:`bucket_policy`,
    :meth:`log_events`. Response:
    :meth:`deploy_responder`, :meth:`respond`, :meth:`respond_to_alarm`,
    :meth:`refresh_topology`, :meth:`remove_responder`. Live traffic and clean-up:
    :meth:`run_live_traffic`, :meth:`teardown`, :meth:`sweep` (instructor). A class sharing
    the account (instructor): :meth:`plan` with ``students=``, :meth:`setup_class`,
    :meth:`student_policies`, :meth:`remove_class_policies`.
    """

    # --- the lab ----------------------------------------------------------------------------
    def plan(self, students: int | None = None, *, layout: str | None = None
             ) -> pd.DataFrame | quotas.ClassPlan:
        """What the course's set-up would create, and what already exists.

        With ``students``, a :class:`~helpers.aws.quotas.ClassPlan` instead: every quota a
        class of that size needs against the account's current values and what is in use,
        and the running cost per class hour (region, source and date of each price), read
        before anything is created. ``layout`` is ``"shared"`` (one lab for the class; the
        default with a ``class_name``) or ``"per-student"`` (the default without one).
        """
        if self.class_name and not self.instructor:
            resources = lab.plan(self.class_lab())
        else:
            resources = lab.plan(self)
        if students is None:
            return resources
        layout = layout or ("shared" if self.class_name else "per-student")
        return quotas.class_plan(self, students, resources, layout)

    def lab_vpc(self, create: bool | None = None, *, report: str = "steps") -> Topology:
        """The lab VPC (SAA-Study-VPC) as a Topology: found by name, or created on request.

        Local: created when missing. AWS: found; created only with ``create=True``. Running
        it again completes what an interrupted run left half-made. In a class, a student's
        call finds the lab the instructor provisioned and never creates one.

        Args:
            report: ``"steps"`` (a line per resource, as always), ``"summary"`` (one line
                of counts) or ``"none"``.
        """
        if create is not None and not isinstance(create, bool):
            raise AwsSetupError(f"create must be True, False or None, not {create!r}")
        if self.class_name and not self.instructor:
            if create:
                raise AwsSetupError("in a class the instructor provisions the lab; a student "
                                    "uses it: call cloud.lab_vpc() without create=True")
            return lab.lab_vpc(self.class_lab(), create=False, report=report, missing=(
                f"class {self.class_name!r} has no lab in {self.region} yet: ask your "
                "instructor to provision it (cloud.setup_class(...) in instructor mode)"))
        return lab.lab_vpc(self, create=self.backend == "local" if create is None else create,
                           report=report)

    # --- a class sharing the account (instructor) -------------------------------------------
    def setup_class(self, students: int, *, report: str = "summary",
                    check_quotas: bool = True) -> Topology:
        """Instructor: check the quotas, create the class's IAM policies and the shared lab.

        See :func:`helpers.aws.classroom.setup_class`; the lab's Topology is returned.
        """
        return classroom.setup_class(self, students, report=report, check_quotas=check_quotas)

    def remove_class_policies(self) -> list[str]:
        """Instructor, after :meth:`sweep`: delete the class's student policy and boundary."""
        return classroom.remove_class_policies(self)

    def student_policies(self) -> dict:
        """The class's student policy and permissions boundary documents (for this account)."""
        if not self.class_name:
            raise AwsSetupError("the student policies belong to a class: connect with "
                                "class_name=...")
        return {"student": policies.student_policy(self.account_id, self.region,
                                                   self.class_name),
                "boundary": policies.student_boundary(self.account_id, self.region,
                                                      self.class_name)}

    # --- flow logs (실습 1, 3) ----------------------------------------------------------------
    def log_group_name(self, variant: str | None = None) -> str:
        """``/aws/vpc/flowlogs`` (student-prefixed), with ``-<variant>`` when given."""
        return flow_log_setup.log_group_name(self, variant)

    def ensure_log_group(self, name: str | None = None, retention_days: int = 7) -> str:
        """The flow-log group with its retention (7 days), created when missing."""
        return flow_log_setup.ensure_log_group(self, name, retention_days)

    def ensure_role(self) -> str:
        """The flow-log IAM role (trust for vpc-flow-logs, five logs: actions); its ARN."""
        return flow_log_setup.ensure_role(self)

    def ensure_bucket(self, suffix: str | None = None, *, report: str = "steps") -> str:
        """The flow-log S3 bucket with its log-delivery bucket policy; its name.

        ``report="summary"`` prints one line instead of every step (``"none"``: nothing)."""
        return flow_log_setup.ensure_bucket(self, suffix, report=report)

    def create_flow_log(self, resource_id: str, **options) -> FlowLog:
        """Create (or find) a flow log; see :func:`helpers.aws.flow_log_setup.create_flow_log`
        (``report="summary"`` prints one line instead of every step)."""
        return flow_log_setup.create_flow_log(self, resource_id, **options)

    def flow_logs(self) -> list[FlowLog]:
        """The course's flow logs in this account."""
        return flow_log_setup.course_flow_logs(self)

    def describe_flow_log(self, flow_log: FlowLog) -> dict:
        """The flow log as ``DescribeFlowLogs`` returns it (what AWS stored)."""
        return flow_log_setup.describe_flow_log(self, flow_log)

    def log_group(self, name: str) -> dict:
        """The log group as ``DescribeLogGroups`` returns it (retention included)."""
        return flow_log_setup.describe_log_group(self, name)

    def role_policies(self) -> dict:
        """The flow-log role's trust policy and permissions, read back from IAM."""
        return flow_log_setup.role_policies(self)

    # --- delivery and reading back (실습 2) -----------------------------------------------------
    def deliver(self, records: pd.DataFrame, flow_logs: list[FlowLog] | None = None
                ) -> pd.DataFrame:
        """Local: deliver records as the flow-log service would (to all the course's flow
        logs, or to ``flow_logs``). AWS: nothing to do; the service delivers."""
        return transport.deliver(self, records, flow_logs)

    def read_flow_logs(self, flow_log: FlowLog) -> pd.DataFrame:
        """Read back what a flow log delivered, from CloudWatch Logs or S3."""
        return transport.read_flow_logs(self, flow_log)

    def log_streams(self, flow_log: FlowLog) -> list[str]:
        """The names of the log streams of a flow log's log group (one per interface)."""
        return transport.log_streams(self, flow_log)

    def bucket_keys(self, flow_log: FlowLog) -> list[str]:
        """The keys of the files a flow log delivered to its bucket."""
        return transport.bucket_keys(self, flow_log)

    def query(self, text: str, flow_log: FlowLog, *, start=None, end=None) -> pd.DataFrame:
        """Run a Logs Insights query on a flow log's log group.

        AWS: the real service (``StartQuery``), over ``start``–``end`` (default: the last three
        hours). Local: the course's compiler over the records the log group holds, so the
        same cell gives the same kind of table on both backends.
        """
        if self.backend == "aws":
            end = end or pd.Timestamp.now(tz="UTC")
            start = start or end - pd.Timedelta(hours=3)
            return logs_insights.run_on_cloud(self, text, flow_log.log_group, start, end)
        # The records with their text as delivered: @message in the flow log's own format.
        return insights.run(text, transport.insights_records(self, flow_log),
                            log_group=flow_log.log_group)

    def athena_query(self, sql: str, database: str, output_location: str, **options
                     ) -> pd.DataFrame:
        """Run SQL on Athena (aws backend); see :func:`helpers.aws.athena.run_athena`."""
        return athena.run_athena(self, sql, database, output_location, **options)

    # --- CloudWatch and SNS -----------------------------------------------------------------
    def put_metrics(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Local: store derived metrics with ``PutMetricData``. AWS: the services publish."""
        return cloudwatch.put_metrics(self, frame)

    def read_metrics(self, start, end, **options) -> pd.DataFrame:
        """Read metrics with ``GetMetricData``; see :func:`helpers.aws.cloudwatch.read_metrics`."""
        return cloudwatch.read_metrics(self, start, end, **options)

    def put_dashboard(self, body: dict, name: str | None = None) -> str:
        """Create or update the dashboard (default ``VPC-Network-Monitoring``); its name."""
        return cloudwatch.put_dashboard(self, body, name)

    def ensure_topic(self, email: str = "student@example.com") -> str:
        """The course's SNS topic with an e-mail subscription; its ARN."""
        return cloudwatch.ensure_topic(self, email=email)

    def create_alarms(self, alarms: list[AlarmSpec], *, topic_arn: str | None = None,
                      email: str = "student@example.com") -> pd.DataFrame:
        """Create (or find) alarms notifying the course's SNS topic; one row per alarm."""
        return cloudwatch.create_alarms(self, alarms, topic_arn=topic_arn, email=email)

    def create_metric_filter(self, spec: MetricFilterSpec | None = None) -> MetricFilterSpec:
        """Create (or find) a metric filter; without ``spec``, the course's reject counter."""
        return cloudwatch.create_metric_filter(self, spec)

    def publish_alarm(self, timeline: AlarmTimeline, topic_arn: str | None = None
                      ) -> pd.DataFrame:
        """Local: send an evaluated alarm's notifications to SNS and set its final state."""
        return cloudwatch.publish_alarm(self, timeline, topic_arn)

    # --- security response (auto-block) ----------------------------------------------------
    def deploy_responder(self, topology: Topology, *, topic_arn: str | None = None,
                         report: bool = True, **settings) -> dict:
        """Deploy the auto-block Lambda (zip, least-privilege role, function; AWS: SNS wiring)."""
        return responder.deploy(self, topology, topic_arn=topic_arn, report=report, **settings)

    def respond(self, event: dict, *, at=None) -> dict:
        """Run the auto-block function on an event (AWS: Invoke; local: in-process)."""
        return responder.invoke(self, event, at=at)

    def respond_to_alarm(self, timeline: AlarmTimeline, *, ip=None,
                         topic_arn: str | None = None) -> list[dict]:
        """Local: hand the alarm's SNS notifications to the handler (``ip`` as attribute)."""
        return responder.deliver_alarm(self, timeline, ip=ip, topic_arn=topic_arn)

    def refresh_topology(self, topology: Topology) -> Topology:
        """The topology with its network ACL entries read back from AWS (or the emulator)."""
        return responder.current_topology(self, topology)

    def remove_responder(self) -> list[str]:
        """Delete the auto-block function, its schedule, subscription, role and log group."""
        return responder.remove(self)

    # --- live traffic and clean-up ----------------------------------------------------------
    def run_live_traffic(self, name: str, **options) -> str:
        """AWS: run a lab-2 script on its instance (see :mod:`helpers.aws.run_command`)."""
        return run_command.run_live_traffic(self, name, **options)

    def teardown(self, *, delete_other_objects: bool = False, report: str = "steps"
                 ) -> pd.DataFrame:
        """Delete everything the course created (by its tags), in dependency order.

        Goes on past failures; the table's ``status`` says ``deleted`` or ``left`` (with a
        ``reason``). ``report="summary"`` prints one line instead of one per resource. See
        :func:`helpers.aws.teardown.teardown`."""
        return teardown.teardown(self, delete_other_objects=delete_other_objects,
                                 report=report)

    # --- reliability and read-back (helpers.aws.teardown, transport, flow_log_setup) --------
    def sweep(self, class_name: str, *, delete_other_objects: bool = False,
              report: str = "summary") -> pd.DataFrame:
        """Instructor: tear down every student of a class (resources tagged ``course``,
        ``lesson`` and ``class=<class_name>``); see :func:`helpers.aws.teardown.sweep`."""
        return teardown.sweep(self, class_name, delete_other_objects=delete_other_objects,
                              report=report)

    def bucket_policy(self, bucket: str) -> dict:
        """The bucket policy S3 holds (``GetBucketPolicy``), as a dict: what S3 enforces,
        read back, rather than what the course wrote."""
        return flow_log_setup.bucket_policy(self, bucket)

    def log_events(self, flow_log: FlowLog, stream: str, *, limit: int | None = 20
                   ) -> pd.DataFrame:
        """One log stream's raw events (``timestamp``, ``ingestionTime``, ``message``) as
        CloudWatch Logs holds them, oldest first; see :func:`helpers.aws.transport.log_events`."""
        return transport.log_events(self, flow_log, stream, limit=limit)
