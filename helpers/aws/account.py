"""One backend's clients, names and tags: what every AWS adapter of the course works with.

:class:`Account` holds the boto3 clients of one backend (the embedded emulator or a real
account) and the course's naming and tagging rules. The adapter modules beside this one
(``lab``, ``flow_log_setup``, ``transport``, ``cloudwatch``, ``logs_insights``, ``athena``,
``run_command``, ``teardown``) take an Account; :class:`helpers.aws.cloud.Cloud` is the Account
a notebook holds, with one method per course action.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from botocore.exceptions import ClientError

from helpers.aws import emulator
from helpers.errors import AwsSetupError

__all__ = ["COURSE", "IDENTITY_TAGS", "INSTRUCTOR", "LESSON", "Account", "describe_error"]

COURSE = "day5-3-network-monitoring"
LESSON = "day5-3"
INSTRUCTOR = "instructor"
"""The ``student`` tag of what an instructor provisions once for a whole class (the shared lab);
no student may take this name."""
IDENTITY_TAGS = ("course", "lesson", "student", "class")
"""The tags that say whose a resource is. ``owner`` (the caller's ARN) and ``expires-at`` are
recorded too but vary from call to call, so ownership never depends on them."""


@dataclass
class Account:
    """boto3 clients for one backend, and the names and tags of what the course creates."""

    backend: str  # "local" or "aws"
    region: str
    account_id: str
    student: str | None
    clients: dict = field(repr=False)
    # Local backend: the emulator reset this object was made after (see emulator.reset).
    generation: int | None = field(default=None, repr=False)
    class_name: str | None = None  # the class sharing the account (the ``class`` tag)
    owner: str | None = field(default=None, repr=False)  # the caller's ARN (``owner`` tag)
    expires_at: str | None = field(default=None, repr=False)  # ISO 8601 UTC (``expires-at``)
    instructor: bool = False  # provisions the class's shared lab (student tag "instructor")

    # --- clients ----------------------------------------------------------------------------
    def client(self, service: str):
        """The boto3 client for ``service`` (ec2, logs, s3, iam, cloudwatch, sns, ...).

        Raises:
            AwsSetupError: no such client, or (local) a later ``aws.connect()`` has reset the
                emulator, so this object's resources are gone.
        """
        if self.generation is not None and self.generation != emulator.generation():
            raise AwsSetupError(
                "this cloud object is stale: a later aws.connect() reset the offline emulator "
                "and everything this one had created is gone. Use the cloud returned by the "
                "latest aws.connect() (and run the notebook's set-up cells again)")
        try:
            return self.clients[service]
        except KeyError:
            raise AwsSetupError(f"no client for {service!r}; available: "
                                f"{', '.join(self.clients)}") from None

    ec2 = property(lambda self: self.client("ec2"))
    logs = property(lambda self: self.client("logs"))
    s3 = property(lambda self: self.client("s3"))
    iam = property(lambda self: self.client("iam"))
    cloudwatch = property(lambda self: self.client("cloudwatch"))
    sns = property(lambda self: self.client("sns"))
    sts = property(lambda self: self.client("sts"))
    ssm = property(lambda self: self.client("ssm"))
    athena = property(lambda self: self.client("athena"))
    lambda_ = property(lambda self: self.client("lambda"))
    events = property(lambda self: self.client("events"))

    # --- names and tags ---------------------------------------------------------------------
    @property
    def identity_tags(self) -> dict[str, str]:
        """The tags that say a resource is this student's (and this class's, in a class).

        :meth:`owns` and :meth:`tag_filters` match exactly these: ``course``, ``lesson``,
        ``student`` and, when the account is shared by a class, ``class``.
        """
        tags = {"course": COURSE, "lesson": LESSON, "student": self.student or "none"}
        if self.class_name:
            tags["class"] = self.class_name
        return tags

    @property
    def tags(self) -> dict[str, str]:
        """The tags on everything the course creates: :attr:`identity_tags`, plus ``owner``
        (who created it: the caller's ARN) and ``expires-at`` (when a sweep may delete it,
        ISO 8601 UTC) when known."""
        extra = {"owner": self.owner, "expires-at": self.expires_at}
        return {**self.identity_tags, **{k: v for k, v in extra.items() if v}}

    def name(self, base: str) -> str:
        """A resource name with the student's prefix (the class's for the instructor)."""
        prefix = self.class_name if self.instructor else self.student
        return f"{prefix}-{base}" if prefix else base

    def tag_list(self, name: str | None = None) -> list[dict[str, str]]:
        """The course's tags (and a Name tag) as ``[{"Key": …, "Value": …}]``."""
        tags = {**self.tags, **({"Name": name} if name else {})}
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def tag_filters(self) -> list[dict]:
        """EC2 ``Filters`` that match the course's resources (for this student and class)."""
        return [{"Name": f"tag:{k}", "Values": [v]} for k, v in self.identity_tags.items()]

    def owns(self, tags) -> bool:
        """Whether tags (a dict or a list of Key/Value pairs) mark a resource as the course's
        (this student's, in this class): its :attr:`identity_tags` match, whoever the owner."""
        if isinstance(tags, list):
            tags = {t["Key"]: t["Value"] for t in tags}
        return all(tags.get(k) == v for k, v in self.identity_tags.items())

    def class_lab(self) -> Account:
        """This account as the class's instructor (same clients): what finds the shared lab.

        Raises:
            AwsSetupError: not connected as part of a class (no ``class_name``).
        """
        if not self.class_name:
            raise AwsSetupError("only a class shares a lab: connect with class_name=..., e.g. "
                                "aws.connect('aws', student='kim', class_name='cls-2026-12')")
        return replace(self, student=INSTRUCTOR, instructor=True)

    def say(self, verb: str, what: str) -> None:
        """Report one step in one stable line (no times, no random values)."""
        print(f"{verb:>8}  {what}")


def describe_error(err: ClientError) -> str:
    """'Code: message' of a botocore ClientError."""
    error = err.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', err)}"
