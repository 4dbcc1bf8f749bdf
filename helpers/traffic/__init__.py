"""Synthetic traffic of the lab VPC, judged by its security groups and network ACLs.

``generate()`` returns flow-log records as AWS would write them for the lesson's scenarios
(lab 2's commands, a web baseline, scans, brute force, DDoS, exfiltration), deterministic for
a seed; ``helpers.flowlogs.write_tree()`` writes them as AWS's S3 files. ``live_script()``
returns the shell scripts that make the same traffic on real EC2 instances.
"""

from helpers.errors import TrafficError
from helpers.traffic.generator import COLUMNS, LABELS, generate
from helpers.traffic.live import SCRIPTS, live_script
from helpers.traffic.rules import allowed, check, int_to_ipv4, ipv4_to_int, is_allowed
from helpers.traffic.scenarios import DEFAULT_SCENARIOS, SCENARIOS
from helpers.traffic.topology import ALL, NaclEntry, SgRule, Topology, default_topology

__all__ = [
    "ALL",
    "COLUMNS",
    "DEFAULT_SCENARIOS",
    "LABELS",
    "NaclEntry",
    "SCENARIOS",
    "SCRIPTS",
    "SgRule",
    "Topology",
    "TrafficError",
    "allowed",
    "check",
    "default_topology",
    "generate",
    "int_to_ipv4",
    "ipv4_to_int",
    "is_allowed",
    "live_script",
]
