"""Shared fixtures: AWS's example records and the course's seeded sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import flowlogs, sample

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
