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

import boto3
import pandas as pd
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from helpers import insights
from helpers.aws import (
    athena,
    cloudwatch,
    emulator,
    flow_log_setup,
    lab,
    logs_insights,
    responder,
    run_command,
    teardown,
    transport,
)
from helpers.aws.account import COURSE, Account
from helpers.errors import AwsSetupError
from helpers.flowlogs.delivery import FlowLog
from helpers.monitoring.alarms import AlarmSpec, MetricFilterSpec
from helpers.monitoring.evaluate import AlarmTimeline
from helpers.traffic.topology import Topology

__all__ = ["BACKEND_ENV", "COURSE", "Cloud", "connect"]

BACKEND_ENV = "COURSE_BACKEND"
ACCOUNT_ENV = "COURSE_ACCOUNT_ID"
SERVICES = ("ec2", "logs", "s3", "iam", "cloudwatch", "sns", "sts", "ssm", "athena", "lambda",
            "events")
_STUDENT = re.compile(r"[a-z0-9][a-z0-9-]{0,19}")


def connect(backend: str | None = None, *, student: str | None = None,
            region: str = "ap-northeast-2", seed: int = 0,
            account_id: str | None = None) -> Cloud:
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
            are refused before anything is read or changed.

    Locally each call starts the emulator afresh: a Cloud from an earlier ``connect()``
    stops working (its resources are gone) and says so when used.

    Raises:
        AwsSetupError: an unknown backend, a malformed student name, or (aws) no student
            name, no usable credentials or the wrong account, with what to do about it.
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
    if choice == "local":
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise AwsSetupError(f"seed must be a whole number ≥ 0, not {seed!r}")
        generation = emulator.reset(seed)
        return Cloud("local", region, emulator.ACCOUNT_ID, student, _local_clients(region),
                     generation)
    if student is None:
        raise AwsSetupError(
            "on a real AWS account, connect with your own short name: aws.connect('aws', "
            "student='kim'). It prefixes and tags everything you create, so a class can share "
            "one account without touching each other's resources")
    session = boto3.Session(region_name=region)
    clients = {s: session.client(s, config=_CONFIG) for s in SERVICES}
    try:
        account = clients["sts"].get_caller_identity()["Account"]
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
    cloud = Cloud("aws", region, account, student, clients)
    print(f"Real AWS account {account} in {region}. Nothing is created until you call a "
          "set-up method; cloud.plan() lists what the course would create.")
    return cloud


_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"})


@functools.cache
def _local_clients(region: str) -> dict:
    """Clients for the emulator, made once per region (they are reusable across resets)."""
    url = emulator.endpoint()
    session = boto3.Session(region_name=region, **emulator.CREDENTIALS)
    return {s: session.client(s, endpoint_url=url, config=_CONFIG) for s in SERVICES}


class Cloud(Account):
    """One backend's account, with a method for every AWS action of the course.

    Set-up: :meth:`plan`, :meth:`lab_vpc`, :meth:`ensure_log_group`, :meth:`ensure_role`,
    :meth:`ensure_bucket`, :meth:`create_flow_log`. Data: :meth:`deliver`,
    :meth:`read_flow_logs`, :meth:`query`, :meth:`athena_query`. Monitoring:
    :meth:`put_metrics`, :meth:`read_metrics`, :meth:`put_dashboard`, :meth:`ensure_topic`,
    :meth:`create_alarms`, :meth:`create_metric_filter`, :meth:`publish_alarm`. Reading back
    what AWS holds: :meth:`flow_logs`, :meth:`describe_flow_log`, :meth:`log_streams`,
    :meth:`bucket_keys`, :meth:`log_group`, :meth:`role_policies`. Response:
    :meth:`deploy_responder`, :meth:`respond`, :meth:`respond_to_alarm`,
    :meth:`refresh_topology`, :meth:`remove_responder`. Live traffic and clean-up:
    :meth:`run_live_traffic`, :meth:`teardown`.
    """

    # --- the lab ----------------------------------------------------------------------------
    def plan(self) -> pd.DataFrame:
        """What the course's set-up would create, and what already exists."""
        return lab.plan(self)

    def lab_vpc(self, create: bool | None = None) -> Topology:
        """The lab VPC (SAA-Study-VPC) as a Topology: found by name, or created on request.

        Local: created when missing. AWS: found; created only with ``create=True``.
        """
        if create is not None and not isinstance(create, bool):
            raise AwsSetupError(f"create must be True, False or None, not {create!r}")
        return lab.lab_vpc(self, create=self.backend == "local" if create is None else create)

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

    def ensure_bucket(self, suffix: str | None = None) -> str:
        """The flow-log S3 bucket with its log-delivery bucket policy; its name."""
        return flow_log_setup.ensure_bucket(self, suffix)

    def create_flow_log(self, resource_id: str, **options) -> FlowLog:
        """Create (or find) a flow log; see :func:`helpers.aws.flow_log_setup.create_flow_log`."""
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
        return insights.run(text, self.read_flow_logs(flow_log), log_group=flow_log.log_group)

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

    def teardown(self, *, delete_other_objects: bool = False) -> pd.DataFrame:
        """Delete everything the course created (by its tags), in dependency order."""
        return teardown.teardown(self, delete_other_objects=delete_other_objects)
