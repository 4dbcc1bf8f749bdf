"""Shared fixtures: AWS's example records and the course's seeded sample."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from moto import mock_aws

from helpers import flowlogs, sample
from helpers.netlab.system import missing

ROOT = Path(__file__).resolve().parents[1]

# AWS's first documented example record (default format): accepted SSH.
SSH_ACCEPT = ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 "
              "4249 1418530010 1418530070 ACCEPT OK")


@pytest.fixture(scope="session")
def examples():
    return flowlogs.load_examples()


@pytest.fixture(scope="session")
def sample_records():
    return sample.build()


@pytest.fixture
def fake_account(monkeypatch):
    """A real-AWS-shaped account in moto's in-process mock, for the aws backend's code paths."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # AmazonSSMManagedInstanceCore
    monkeypatch.delenv("COURSE_ACCOUNT_ID", raising=False)
    with mock_aws():
        yield


# The live-packet lab (helpers.netlab) needs Linux, root and nftables: where it cannot run, its
# tests and its notebook are skipped with the reason instead of failing. CI sets
# NETLAB_REQUIRED=1 once it has installed nftables: there they run, and fail if they cannot.
LIVE_LAB = {"test_netlab_live.py", "02b-live-packets.ipynb"}


def pytest_collection_modifyitems(config, items):
    live = [item for item in items if Path(str(item.fspath)).name in LIVE_LAB]
    problems = missing() if live else []
    if problems and os.environ.get("NETLAB_REQUIRED") != "1":
        skip = pytest.mark.skip(reason="live lab cannot run here: " + "; ".join(problems))
        for item in live:
            item.add_marker(skip)
