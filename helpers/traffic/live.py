"""The shell scripts that make lab 2's traffic on real EC2 instances.

Each script reproduces one step of the lesson's lab 2 with timeouts and no loops, takes its
parameters from environment variables (documented at its top), and is meant to be sent with
SSM Run Command by the AWS backend. This module only returns their text; it never calls AWS.
"""

from __future__ import annotations

import difflib
from importlib import resources

from helpers.errors import TrafficError

__all__ = ["SCRIPTS", "live_script"]

SCRIPTS: dict[str, str] = {
    "normal": "on the public instance: curl httpbin.org/ip, ping -c 5 8.8.8.8, ssh to the "
              "private instance (env PRIVATE_IP)",
    "blocked": "on the public instance: telnet PRIVATE_IP 3306 and nc -zv PRIVATE_IP 80, with "
               "timeouts (rejected by the private security group)",
    "bulk": "on the private instance: a size- and time-capped large download through the NAT "
            "gateway (env BULK_URL, BULK_MAX_BYTES, BULK_TIMEOUT)",
}
"""Every live script by name, with where it runs and what it does."""


def live_script(name: str) -> str:
    """The text of a live script (``"normal"``, ``"blocked"`` or ``"bulk"``).

    >>> live_script("blocked").splitlines()[0]
    '#!/usr/bin/env bash'
    """
    if name not in SCRIPTS:
        close = difflib.get_close_matches(name, list(SCRIPTS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TrafficError(f"unknown live script {name!r}{hint} Valid scripts: "
                           f"{', '.join(SCRIPTS)}")
    script = resources.files("helpers.traffic").joinpath("scripts").joinpath(f"{name}.sh")
    return script.read_text(encoding="utf-8")
