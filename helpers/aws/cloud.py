"""The ``Cloud`` facade: one object, two backends (the embedded emulator or a real account).

``connect()`` picks the backend from its argument or the ``COURSE_BACKEND`` environment
variable (``local``, the default, or ``aws``) and returns a :class:`Cloud` holding boto3
clients. Everything the course creates is tagged ``course``/``lesson``/``student`` and, with a
``student`` name, prefixed, so a class can share one account; ``teardown()`` deletes exactly
what carries the tags.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field

import boto3
import pandas as pd
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from helpers.aws import emulator
from helpers.errors import AwsSetupError

__all__ = ["BACKEND_ENV", "COURSE", "Cloud", "connect"]

BACKEND_ENV = "COURSE_BACKEND"
COURSE = "day5-3-network-monitoring"
LESSON = "day5-3"
SERVICES = ("ec2", "logs", "s3", "iam", "cloudwatch", "sns", "lambda", "sts", "ssm")
_STUDENT = re.compile(r"[a-z0-9][a-z0-9-]{0,19}")


def connect(backend: str | None = None, *, student: str | None = None,
            region: str = "ap-northeast-2", seed: int = 0) -> Cloud:
    """A :class:`Cloud` on the chosen backend.

    Args:
        backend: ``"local"`` (embedded emulator; the default) or ``"aws"`` (your default
            credential chain). None reads the ``COURSE_BACKEND`` environment variable.
        student: a short name (lowercase letters, digits, hyphens) that prefixes every name
            and goes into the ``student`` tag, so students can share an account.
        region: the AWS region (the lesson uses ap-northeast-2, Seoul).
        seed: local backend only: the emulator starts empty and seeded, so resource IDs are
            the same on every run.

    Raises:
        AwsSetupError: an unknown backend, a malformed student name, or (aws) no usable
            credentials, with what to do about it.
    """
    choice = (backend or os.environ.get(BACKEND_ENV) or "local").strip().lower()
    if choice not in ("local", "aws"):
        raise AwsSetupError(f"unknown backend {choice!r}: use 'local' (offline emulator) or "
                            f"'aws' (a real account), as an argument or in ${BACKEND_ENV}")
    if student is not None and not _STUDENT.fullmatch(student):
        raise AwsSetupError(f"student name {student!r} must be 1-20 lowercase letters, digits "
                            "or hyphens, starting with a letter or digit (it goes into names "
                            "and S3 bucket names)")
    if choice == "local":
        emulator.reset(seed)
        return Cloud("local", region, emulator.ACCOUNT_ID, student, _local_clients(region))
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


@dataclass
class Cloud:
    """boto3 clients for one backend, plus the course's set-up, delivery and clean-up."""

    backend: str
    region: str
    account_id: str
    student: str | None
    clients: dict = field(repr=False)
    topology: object = field(default=None, repr=False)  # the lab VPC, once set up or found

    # --- clients ----------------------------------------------------------------------------
    def client(self, service: str):
        """The boto3 client for ``service`` (ec2, logs, s3, iam, cloudwatch, sns, lambda, ...)."""
        try:
            return self.clients[service]
        except KeyError:
            raise AwsSetupError(f"no client for {service!r}; available: "
                                f"{', '.join(self.clients)}") from None

    ec2 = property(lambda self: self.clients["ec2"])
    logs = property(lambda self: self.clients["logs"])
    s3 = property(lambda self: self.clients["s3"])
    iam = property(lambda self: self.clients["iam"])
    cloudwatch = property(lambda self: self.clients["cloudwatch"])
    sns = property(lambda self: self.clients["sns"])
    lambda_ = property(lambda self: self.clients["lambda"])
    sts = property(lambda self: self.clients["sts"])
    ssm = property(lambda self: self.clients["ssm"])

    # --- names and tags ---------------------------------------------------------------------
    @property
    def tags(self) -> dict[str, str]:
        """The tags on everything the course creates."""
        return {"course": COURSE, "lesson": LESSON, "student": self.student or "none"}

    def name(self, base: str) -> str:
        """A resource name with the student's prefix, if any."""
        return f"{self.student}-{base}" if self.student else base

    def tag_list(self, name: str | None = None) -> list[dict[str, str]]:
        tags = {**self.tags, **({"Name": name} if name else {})}
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def tag_filters(self) -> list[dict]:
        """EC2 ``Filters`` that match the course's resources (for this student)."""
        return [{"Name": f"tag:{k}", "Values": [v]} for k, v in self.tags.items()]

    def owns(self, tags) -> bool:
        """Whether tags (a dict or a list of Key/Value pairs) mark a resource as the course's."""
        if isinstance(tags, list):
            tags = {t["Key"]: t["Value"] for t in tags}
        return all(tags.get(k) == v for k, v in self.tags.items())

    def say(self, verb: str, what: str) -> None:
        """Report one step in one stable line (no times, no random values)."""
        print(f"{verb:>8}  {what}")

    # --- the lab, flow logs, delivery, clean-up (see the modules beside this one) ------------
    def lab_vpc(self, create: bool | None = None):
        """The lab VPC (SAA-Study-VPC) as a Topology: found by name, or created on request.

        Local: created when missing. AWS: found; created only with ``create=True``.
        """
        from helpers.aws import lab

        self.topology = lab.lab_vpc(self, create=self.backend == "local" if create is None
                                    else create)
        return self.topology

    def create_flow_log(self, resource_id: str, **options):
        """Create (or find) a flow log; see :func:`helpers.aws.flowlog.create_flow_log`."""
        from helpers.aws import flowlog

        return flowlog.create_flow_log(self, resource_id, **options)

    def flow_logs(self) -> list:
        """The course's flow logs in this account, as :class:`~helpers.aws.delivery.FlowLog`."""
        from helpers.aws import flowlog

        return flowlog.course_flow_logs(self)

    def deliver(self, records: pd.DataFrame, flow_logs: list | None = None) -> pd.DataFrame:
        """Local: deliver records as the flow-log service would (to all the course's flow
        logs, or to ``flow_logs``). AWS: nothing to do; the service delivers."""
        from helpers.aws import transport

        return transport.deliver(self, records, flow_logs)

    def read_flow_logs(self, flow_log) -> pd.DataFrame:
        """Read back what a flow log delivered, from CloudWatch Logs or S3."""
        from helpers.aws import transport

        return transport.read_flow_logs(self, flow_log)

    def query(self, text: str, flow_log, *, start=None, end=None) -> pd.DataFrame:
        """Run a Logs Insights query on a flow log's log group.

        AWS: the real service (``StartQuery``), over ``start``–``end`` (default: the last three
        hours). Local: the course's compiler over the records the log group holds, so the
        same cell gives the same kind of table on both backends.
        """
        from helpers import insights

        if self.backend == "aws":
            end = end or pd.Timestamp.now(tz="UTC")
            start = start or end - pd.Timedelta(hours=3)
            return insights.run_on_cloud(self, text, flow_log.log_group, start, end)
        return insights.run(text, self.read_flow_logs(flow_log), log_group=flow_log.log_group)

    def run_live_traffic(self, name: str, **options) -> str:
        """AWS: run a lab-2 script on its instance (:func:`helpers.aws.live.run_live_traffic`)."""
        from helpers.aws import live

        return live.run_live_traffic(self, name, **options)

    def plan(self) -> pd.DataFrame:
        """What the course's set-up would create, and what already exists."""
        from helpers.aws import lab

        return lab.plan(self)

    def teardown(self) -> pd.DataFrame:
        """Delete everything the course created (by its tags), in dependency order."""
        from helpers.aws import cleanup

        return cleanup.teardown(self)


def describe_error(err: ClientError) -> str:
    """'Code: message' of a botocore ClientError."""
    error = err.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', err)}"
