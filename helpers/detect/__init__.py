"""Detections on flow-log records, named after Amazon GuardDuty's finding types.

Nine detectors, each windowed SQL over the records (DuckDB here, the same SQL on Athena through
:func:`to_sql`), each with thresholds explained in its docstring:

- ``port_probe``: an internet host probes many of our ports
  (``Recon:EC2/PortProbeUnprotectedPort``);
- ``port_scan``: our instance probes many ports of a remote host (``Recon:EC2/Portscan``);
- ``ssh_brute_force``, ``rdp_brute_force``: many SSH (22) or RDP (3389) connections from one
  source (``UnauthorizedAccess:EC2/SSHBruteForce``, ``.../RDPBruteForce``);
- ``ddos``: many sources flood one address (the course's ``Inbound:EC2/DDoS``);
- ``reject_rate``: an interface rejects more than 20 % (the course's
  ``Network:EC2/RejectRateHigh``);
- ``threat_list``: traffic with a listed address
  (``UnauthorizedAccess:EC2/MaliciousIPCaller.Custom``);
- ``exfiltration``: our instance sends one host far more than its baseline
  (``Behavior:EC2/TrafficVolumeUnusual``);
- ``traffic_spike``: accepted connections far above the previous hour (the course's
  ``Inbound:EC2/TrafficSpike``).

Pure computation: nothing here calls AWS. A notebook needs::

    from helpers import detect
    findings = detect.detect(records)             # every detector, one row per finding
    detect.evaluate(records, findings)            # precision and recall against the labels
    print(detect.to_sql("port_probe", dialect="athena", table="vpc_flow_logs"))
"""

from helpers.detect.catalog import DETECTORS, FINDING_TYPES
from helpers.detect.detectors import (
    COLUMNS,
    VPC_CIDR,
    detect,
    detect_ddos,
    detect_exfiltration,
    detect_port_probe,
    detect_port_scan,
    detect_rdp_brute_force,
    detect_reject_rate,
    detect_ssh_brute_force,
    detect_threat_list,
    detect_traffic_spike,
    thresholds,
    to_sql,
)
from helpers.detect.quality import LESSON_ATTACKS, evaluate, incidents
from helpers.detect.threats import THREAT_LIST, load_threat_list
from helpers.errors import DetectError

__all__ = [
    "COLUMNS",
    "DETECTORS",
    "DetectError",
    "FINDING_TYPES",
    "LESSON_ATTACKS",
    "THREAT_LIST",
    "VPC_CIDR",
    "detect",
    "detect_ddos",
    "detect_exfiltration",
    "detect_port_probe",
    "detect_port_scan",
    "detect_rdp_brute_force",
    "detect_reject_rate",
    "detect_ssh_brute_force",
    "detect_threat_list",
    "detect_traffic_spike",
    "evaluate",
    "incidents",
    "load_threat_list",
    "thresholds",
    "to_sql",
]
