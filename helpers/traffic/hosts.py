"""The internet hosts the scenarios talk to: documentation addresses, never real networks.

Every internet peer comes from the three IPv4 blocks reserved for documentation (RFC 5737:
192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), except Google's public DNS resolver 8.8.8.8,
which the lesson pings by name, and AWS's own service endpoints and health checkers. Each role
has its own slice, so a source address tells the story on its own; 198.51.100.0/24 is the
admin's office (the lab's security groups and network ACL trust it for SSH and ping) and holds
nobody else.

The three documentation blocks are all taken by the internet's roles, so AWS's regional service
endpoints (Systems Manager, CloudWatch, the package repository) and the Route 53 health checkers
stand in at 198.18.0.0/15, the block reserved for benchmarking (RFC 2544), which is not routed on
the internet either. Real endpoints answer from AWS's published ranges (ip-ranges.json).
"""

from __future__ import annotations

import difflib

import numpy as np

from helpers.errors import TrafficError
from helpers.traffic.rules import ipv4_to_int

__all__ = ["HOSTS", "POOLS", "address", "pool"]

HOSTS: dict[str, str] = {
    "admin": "198.51.100.10",  # the admin's workstation, inside the trusted admin range
    "httpbin": "203.0.113.80",  # stands in for httpbin.org (curl http://httpbin.org/ip)
    "google_dns": "8.8.8.8",  # ping -c 5 8.8.8.8, as the lesson writes it
    "mirror": "203.0.113.91",  # stands in for releases.ubuntu.com (the large download)
    "scanner": "203.0.113.66",  # scans the web instance's ports
    "scan_target": "192.0.2.240",  # the host the compromised private instance scans
    "drop": "203.0.113.99",  # receives the exfiltrated data
    # AWS service endpoints of the region (stand-ins; see the module docstring)
    "ssm": "198.18.0.10",  # ssm.ap-northeast-2.amazonaws.com: SSM Agent's heartbeat
    "ssmmessages": "198.18.0.11",  # ssmmessages.ap-northeast-2.amazonaws.com: its channel
    "monitoring": "198.18.0.20",  # monitoring.ap-northeast-2.amazonaws.com: CloudWatch agent
    "repository": "198.18.0.30",  # the Amazon Linux package repository (S3 in the region)
}
"""Named single hosts, by role."""

POOLS: dict[str, tuple[tuple[str, int, int], ...]] = {
    # role: ((prefix, first, last), ...), inclusive host numbers in each /24
    "web_clients": (("192.0.2.", 1, 127), ("203.0.113.", 1, 63)),
    "ddos_bots": (("192.0.2.", 128, 223), ("203.0.113.", 128, 254)),
    "ssh_attackers": (("192.0.2.", 224, 239), ("203.0.113.", 100, 127)),
    # the two /29 blocks of data/threat-list.txt (192.0.2.248/29, 203.0.113.72/29)
    "threat_actors": (("192.0.2.", 248, 254), ("203.0.113.", 72, 79)),
    "rdp_attackers": (("203.0.113.", 81, 90), ("203.0.113.", 92, 98)),
    "noise_sources": (("192.0.2.", 241, 247), ("203.0.113.", 64, 65), ("203.0.113.", 67, 71)),
    "health_checkers": (("198.18.1.", 1, 3),),  # Route 53 health checkers in three regions
}
"""Groups of internet hosts, by role: slices of the documentation blocks that do not overlap."""


def _check(kind: str, name, known) -> None:
    if not isinstance(name, str) or name not in known:
        close = difflib.get_close_matches(str(name), list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ";"
        raise TrafficError(f"unknown {kind} {name!r}{hint} valid names: {', '.join(known)}")


def address(name: str) -> int:
    """A named host's address as ``uint32`` (``name`` is a key of :data:`HOSTS`)."""
    _check("host", name, HOSTS)
    return int(ipv4_to_int(HOSTS[name])[0])


def pool(name: str) -> np.ndarray:
    """A pool's addresses as a ``uint32`` array, in address order (``name``: a key of
    :data:`POOLS`)."""
    _check("host pool", name, POOLS)
    text = [f"{prefix}{i}" for prefix, first, last in POOLS[name]
            for i in range(first, last + 1)]
    return np.sort(ipv4_to_int(text))
