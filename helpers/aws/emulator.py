"""The embedded AWS emulator (moto's server) the local backend talks to.

One server per process, bound to 127.0.0.1 on a free port, started on first use. Its state is
global to the process, so :func:`reset` clears it and seeds moto's ID generator: after a reset
with the same seed, VPC, subnet, ENI and instance IDs come out the same run after run, which
keeps saved notebook outputs stable.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timezone

import boto3
import time_machine
from moto.server import ThreadedMotoServer

__all__ = ["ACCOUNT_ID", "CREDENTIALS", "endpoint", "generation", "honour_tag_filters",
           "lesson_clock", "reset"]

ACCOUNT_ID = "123456789012"  # moto's default account
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

_lock = threading.Lock()
_server = None
_url: str | None = None
_generation = 0  # how many resets so far: a Cloud made before the latest one is stale


def endpoint() -> str:
    """The emulator's URL, starting the server on first use."""
    global _server, _url
    with _lock:
        if _url is None:
            # Silence the per-request log lines the development server prints.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            _server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            _server.start()
            host, port = _server.get_host_and_port()
            _url = f"http://{host}:{port}"
            _warm_up(_url)
    return _url


def _warm_up(url: str) -> None:
    """Make the server's first EC2 request now.

    moto loads some EC2 data once per process, on the first request, and that draws from the
    random generator its IDs come from; a seed set before that point would not give the same
    IDs as a seed set after it. Warming up at start makes every seeded reset alike.
    """
    session = boto3.Session(region_name="us-east-1", **CREDENTIALS)
    session.client("ec2", endpoint_url=url).describe_vpcs()


def reset(seed: int = 0) -> int:
    """Forget every resource and seed the ID generator, so the next IDs are reproducible.

    Returns the new generation number (see :func:`generation`).
    """
    global _generation
    for path in ("/moto-api/reset", f"/moto-api/seed?a={seed}"):
        request = urllib.request.Request(endpoint() + path, method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass
    _generation += 1
    return _generation


def honour_tag_filters(ec2) -> None:
    """Make an EC2 client of the emulator apply ``tag:<key>`` filters to NAT gateways.

    AWS's ``DescribeNatGateways`` takes ``tag:<key>`` filters
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNatGateways.html);
    the emulator ignores them and answers every NAT gateway of the Region, so a student's
    look-up by tags would find the class's or another student's. The client keeps the
    filters of each request and drops, from the answer, the gateways whose tags do not match.
    """
    def keep_filters(params, context, **_):
        filters = params.get("Filters", params.get("Filter", []))  # botocore aliases them
        context["course_tag_filters"] = {
            f["Name"][4:]: set(f.get("Values", [])) for f in filters
            if f.get("Name", "").startswith("tag:")}

    def apply_filters(parsed, context, **_):
        wanted = context.get("course_tag_filters")
        if not wanted or "NatGateways" not in parsed:
            return
        parsed["NatGateways"] = [
            n for n in parsed["NatGateways"]
            if all({t["Key"]: t["Value"] for t in n.get("Tags", [])}.get(k) in values
                   for k, values in wanted.items())]

    ec2.meta.events.register("provide-client-params.ec2.DescribeNatGateways", keep_filters,
                             unique_id="course-nat-tag-filters-in")
    ec2.meta.events.register("after-call.ec2.DescribeNatGateways", apply_filters,
                             unique_id="course-nat-tag-filters-out")


def generation() -> int:
    """How many times the emulator has been reset in this process."""
    return _generation


@contextmanager
def lesson_clock(at: int | float | datetime):
    """Run the block with the process clock set to ``at`` (Unix seconds or datetime), ticking.

    CloudWatch Logs rejects events older than 14 days or more than 2 hours in the future
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html),
    and so does the emulator. The course's records carry a fixed lesson date, so delivery runs
    with the clock at that date: the emulator then accepts them exactly as CloudWatch Logs
    would have on the day.
    """
    when = at if isinstance(at, datetime) else datetime.fromtimestamp(at, tz=timezone.utc)
    with time_machine.travel(when, tick=True):
        yield
