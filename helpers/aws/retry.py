"""One retry layer for the course's AWS calls: documented transient errors, bounded backoff.

botocore already retries throttling and 5xx answers on every client (:data:`CONFIG`,
``retries`` mode ``standard``). What it cannot know is that some *4xx* answers are transient
for a while after a change, because AWS is eventually consistent:

- IAM: "changes that I make are not always immediately visible" — a role or instance profile
  just created is not yet usable everywhere
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
  ``CreateFlowLogs`` answers ``InvalidParameter`` "Unable to assume given IAM role" with a new
  role (:data:`FLOW_LOG_ROLE`), and ``RunInstances`` answers ``InvalidParameterValue`` "Invalid
  IAM Instance Profile name" with a new instance profile (:data:`INSTANCE_PROFILE`); the
  Terraform AWS provider retries exactly these two.
- EC2: a resource just created can be ``…NotFound`` for a moment
  (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html), and a resource
  still used by one being deleted answers ``DependencyViolation`` (:data:`DEPENDENCY`).
- SSM: ``SendCommand`` answers ``InvalidInstanceId`` while "SSM Agent isn't registered with the
  SSM endpoint" (or not running) on the instance
  (https://docs.aws.amazon.com/botocore/latest/reference/services/ssm/client/exceptions/InvalidInstanceId.html).

:func:`call` retries one call on such an answer with exponential backoff and jitter, bounded in
attempts and in delay, and raises :class:`~helpers.errors.AwsRetryError` (a course error saying
what was retried and what to do) when the answer does not change. :func:`wait_for` polls until
a condition holds, with the same backoff. Both take ``sleep``: tests pass a recorder, and the
local backend passes :func:`no_wait` (see :func:`sleeper`), so the emulator never waits.
The jitter comes from a generator seeded by ``what``, so the delays are the same every run.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable

from botocore.config import Config
from botocore.exceptions import ClientError

from helpers.errors import AwsRetryError

__all__ = [
    "CONFIG",
    "DEPENDENCY",
    "FLOW_LOG_ROLE",
    "INSTANCE_PROFILE",
    "NOT_FOUND_YET",
    "SSM_NOT_REGISTERED",
    "call",
    "delays",
    "error_code",
    "no_wait",
    "sleeper",
    "wait_for",
]

CONFIG = Config(retries={"total_max_attempts": 8, "mode": "standard"}, connect_timeout=10,
                read_timeout=60)
"""The botocore configuration of every client of the course (emulator and AWS, Athena too).

``standard`` mode retries throttling, transient and 5xx errors with exponential backoff and
a retry quota (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html);
8 attempts in all (the first and 7 retries) ride out the throttling that 40 students hitting
one account at once cause."""

FLOW_LOG_ROLE = {"retry_on": ("InvalidParameter",), "message": "Unable to assume given IAM role"}
"""CreateFlowLogs with a role IAM has not propagated yet."""
INSTANCE_PROFILE = {"retry_on": ("InvalidParameterValue",),
                    "message": "Invalid IAM Instance Profile name"}
"""RunInstances (or AssociateIamInstanceProfile) with an instance profile not propagated yet."""
DEPENDENCY = {"retry_on": ("DependencyViolation",)}
"""A delete that waits for a dependent resource (ENI, NAT gateway, instance) to go away."""
NOT_FOUND_YET = ("InvalidVpcID.NotFound", "InvalidSubnetID.NotFound",
                 "InvalidInstanceID.NotFound", "InvalidNetworkInterfaceID.NotFound",
                 "InvalidRouteTableID.NotFound", "InvalidGroup.NotFound",
                 "InvalidAllocationID.NotFound", "InvalidInternetGatewayID.NotFound",
                 "NatGatewayNotFound")
"""EC2 IDs that can be unknown for a moment right after they were created."""
SSM_NOT_REGISTERED = {"retry_on": ("InvalidInstanceId",)}
"""SendCommand to an instance whose SSM agent has not registered (is not Online) yet."""

ATTEMPTS = 8
BASE_DELAY = 1.0  # seconds before the second attempt
MAX_DELAY = 20.0  # no single wait is longer (8 attempts: at most about 1.5 minutes)


def no_wait(seconds: float) -> None:
    """A sleep that returns at once (the emulator has nothing to wait for)."""


def sleeper(cloud) -> Callable[[float], None]:
    """``time.sleep`` on the aws backend, :func:`no_wait` on the local one."""
    return time.sleep if getattr(cloud, "backend", "aws") == "aws" else no_wait


def error_code(err: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code", ""))
    return ""


def _message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", err))


def delays(what: str, attempts: int = ATTEMPTS, base_delay: float = BASE_DELAY,
           max_delay: float = MAX_DELAY) -> list[float]:
    """The waits between ``attempts`` tries: doubling from ``base_delay``, capped at
    ``max_delay``, each drawn between half and all of that ("equal jitter", so two students
    retrying together drift apart). Seeded by ``what``: the same every run.

    >>> delays("demo", attempts=4, base_delay=1, max_delay=3) == delays("demo", 4, 1, 3)
    True
    >>> all(0.5 <= d <= 1 for d in delays("demo", attempts=2, base_delay=1))
    True
    """
    rng = random.Random(zlib.crc32(what.encode()))
    waits = []
    for i in range(max(0, attempts - 1)):
        cap = min(max_delay, base_delay * 2 ** i)
        waits.append(round(cap / 2 + rng.uniform(0, cap / 2), 3))
    return waits


def call(fn: Callable, *args, retry_on: tuple[str, ...], what: str, message: str | None = None,
         attempts: int = ATTEMPTS, base_delay: float = BASE_DELAY, max_delay: float = MAX_DELAY,
         sleep: Callable[[float], None] = time.sleep, hint: str | None = None, **kwargs):
    """``fn(*args, **kwargs)``, tried again while AWS answers a transient error.

    Args:
        fn: the call (usually a boto3 client method).
        retry_on: the error codes that mean "not yet" (e.g. ``("DependencyViolation",)``).
        what: what the call does, for the messages ("create the flow log on vpc-1").
        message: also required in the error message for a retry (a substring), when the
            code alone is too broad (``InvalidParameter`` is also a plain mistake).
        attempts, base_delay, max_delay: at most ``attempts`` tries; see :func:`delays`.
        sleep: the waiting function (tests record; the local backend passes :func:`no_wait`).
        hint: what the student should do if the retries run out.
        **kwargs: passed to ``fn`` (boto3's parameters are CamelCase, so they never clash).

    Returns:
        What ``fn`` returned.

    Raises:
        AwsRetryError: the transient error outlasted every attempt.
        ClientError: any other AWS error, at once (the caller wraps it in its own words).
    """
    waits = delays(what, attempts, base_delay, max_delay)
    for attempt in range(attempts):
        try:
            return fn(*args, **kwargs)
        except ClientError as err:
            code = error_code(err)
            if code not in retry_on or (message and message not in _message(err)):
                raise
            if attempt == attempts - 1:
                raise AwsRetryError(
                    f"cannot {what}: AWS still answered {code} ({_message(err)}) after "
                    f"{attempts} attempts over {sum(waits):.0f} s. "
                    + (hint or "This error is usually temporary (AWS is still applying a "
                       "recent change): wait a minute and run the cell again; if it persists, "
                       "ask your instructor")) from err
            sleep(waits[attempt])
    raise AssertionError("unreachable")  # pragma: no cover


def wait_for(check: Callable[[], object], *, what: str, attempts: int = ATTEMPTS,
             base_delay: float = BASE_DELAY, max_delay: float = MAX_DELAY,
             sleep: Callable[[float], None] = time.sleep, hint: str | None = None):
    """Call ``check()`` until it returns something truthy; return that.

    The same backoff as :func:`call`. ``check`` may raise (that ends the wait at once).

    Raises:
        AwsRetryError: ``check()`` never held within ``attempts`` calls.
    """
    waits = delays(what, attempts, base_delay, max_delay)
    for attempt in range(attempts):
        result = check()
        if result:
            return result
        if attempt < attempts - 1:
            sleep(waits[attempt])
    raise AwsRetryError(f"gave up waiting until {what}: not so after {attempts} checks over "
                        f"{sum(waits):.0f} s. " + (hint or "Wait a minute and run the cell "
                                                   "again; if it persists, ask your instructor"))
