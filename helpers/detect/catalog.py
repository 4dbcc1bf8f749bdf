"""What each detector reports and which thresholds it takes: pure data, no computation.

Every detection is named after the Amazon GuardDuty finding type it resembles, with that type's
real meaning (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html,
checked 2026-11; the archived source of the page is
https://github.com/awsdocs/amazon-guardduty-user-guide/blob/main/doc_source/guardduty_finding-types-ec2.md).
Where GuardDuty has no type for what the course detects, the course names its own type with a
prefix GuardDuty never uses (``Inbound:``, ``Network:``), and :data:`FINDING_TYPES` says so.

GuardDuty does not publish its thresholds; the defaults here are the course's, each explained
next to its value and measured with :func:`helpers.detect.evaluate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DETECTORS", "FINDING_TYPES", "SEVERITIES", "Detector", "FindingType", "Param"]

GUARDDUTY_EC2 = "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html"
SEVERITIES = ("High", "Medium", "Low")
"""GuardDuty's severity levels, most severe first (the order findings are sorted in)."""


@dataclass(frozen=True)
class FindingType:
    """A finding type: whether GuardDuty has it, its default severity, what it means, where."""

    name: str
    guardduty: bool
    severity: str
    meaning: str
    page: str


FINDING_TYPES: dict[str, FindingType] = {t.name: t for t in (
    FindingType(
        "Recon:EC2/PortProbeUnprotectedPort", True, "Low",
        "an EC2 instance has a port that is not blocked by a security group or network ACL "
        "and known scanners on the internet probe it (High when the probed port is "
        "Elasticsearch's 9200 or 9300)",
        GUARDDUTY_EC2 + "#recon-ec2-portprobeunprotectedport"),
    FindingType(
        "Recon:EC2/Portscan", True, "Medium",
        "an EC2 instance of yours performs outbound port scans to a remote host: it tries to "
        "connect to many ports in a short time (it is the scanner, not the scanned)",
        GUARDDUTY_EC2 + "#recon-ec2-portscan"),
    FindingType(
        "UnauthorizedAccess:EC2/SSHBruteForce", True, "Low",
        "an EC2 instance was involved in SSH brute force on port 22: Low when the instance is "
        "the target, High when it is the actor",
        GUARDDUTY_EC2 + "#unauthorizedaccess-ec2-sshbruteforce"),
    FindingType(
        "UnauthorizedAccess:EC2/RDPBruteForce", True, "Low",
        "an EC2 instance was involved in RDP brute force on port 3389: Low when the instance "
        "is the target, High when it is the actor",
        GUARDDUTY_EC2 + "#unauthorizedaccess-ec2-rdpbruteforce"),
    FindingType(
        "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", True, "Medium",
        "an EC2 instance is making connections to an IP address on a custom threat list "
        "(GuardDuty applies threat lists only to publicly routable addresses; the course's "
        "list holds documentation addresses, so only the course's detector can match it)",
        GUARDDUTY_EC2 + "#unauthorizedaccess-ec2-maliciousipcallercustom"),
    FindingType(
        "Behavior:EC2/TrafficVolumeUnusual", True, "High",
        "an EC2 instance is generating unusually large amounts of network traffic to a remote "
        "host, with no prior history of sending this much to it",
        GUARDDUTY_EC2 + "#behavior-ec2-trafficvolumeunusual"),
    FindingType(
        "Inbound:EC2/DDoS", False, "High",
        "course type: many internet sources flood one instance of yours. GuardDuty has no "
        "finding for an inbound flood: its Backdoor:EC2/DenialOfService.* types mean that your "
        "instance SENDS a denial-of-service attack (AWS Shield covers inbound DDoS)",
        GUARDDUTY_EC2 + "#backdoor-ec2-denialofservicetcp"),
    FindingType(
        "Inbound:EC2/TrafficSpike", False, "Low",
        "course type: an instance accepts far more connections than in the hour before "
        "(the lesson's 'sudden traffic surge'); GuardDuty has no such type",
        GUARDDUTY_EC2),
    FindingType(
        "Network:EC2/RejectRateHigh", False, "Low",
        "course type: more than 20 % of an interface's records are REJECT, the lesson's "
        "'abnormal' rate (normal is below 5 %); GuardDuty has no such type",
        GUARDDUTY_EC2),
)}
"""Every finding type the detectors report, by name."""


@dataclass(frozen=True)
class Param:
    """A threshold: its default, its unit and why the default is what it is.

    ``kind`` says what values are valid: ``"window"`` (seconds, a whole multiple of 60, the
    flow log's shortest aggregation interval), ``"count"`` (a number from 0), ``"ratio"`` (0 to
    1), ``"factor"`` (a number from 1), ``"seconds"`` (a multiple of the detector's window).
    """

    default: float
    unit: str
    kind: str
    why: str


@dataclass(frozen=True)
class Detector:
    """One detector: the finding type it reports, its thresholds, its Logs Insights form."""

    name: str
    finding_type: str
    summary: str
    params: dict[str, Param] = field(default_factory=dict)
    insights: str | None = None


_VPC = "10.0.0.0/16"


def _window(seconds: int, why: str) -> Param:
    return Param(seconds, "seconds", "window", why)


DETECTORS: dict[str, Detector] = {d.name: d for d in (
    Detector(
        "port_probe", "Recon:EC2/PortProbeUnprotectedPort",
        "one internet source probes many ports of one of our addresses within a window",
        {"window": _window(300, "five minutes holds a whole nmap scan of 1,000 ports (2 to 5 "
                                "minutes) and is short enough to tell a scan from scattered "
                                "probes"),
         "min_ports": Param(20, "distinct ports per window", "count",
                            "internet background noise tries 1 to 3 ports per visit and web "
                            "clients use 80 and 443; 20 ports is far above both and far below "
                            "a scan")},
        insights=(
            'filter action = "REJECT" and isIpv4InSubnet(dstAddr, "10.0.0.0/16")\n'
            '  and not isIpv4InSubnet(srcAddr, "10.0.0.0/16")\n'
            "| stats count_distinct(dstPort) as ports, count(*) as probes "
            "by bin(5m) as window, srcAddr, dstAddr\n"
            "| filter ports >= 20\n"
            "| sort ports desc")),
    Detector(
        "port_scan", "Recon:EC2/Portscan",
        "one of our instances opens connections to many ports of one internet host",
        {"window": _window(300, "as for port_probe: a vertical scan takes minutes"),
         "min_ports": Param(20, "distinct ports per window", "count",
                            "our instances call a handful of services (80, 443, 123, ...); 20 "
                            "distinct ports of one remote host in five minutes is a scan")},
        insights=(
            'filter isIpv4InSubnet(srcAddr, "10.0.0.0/16")\n'
            '  and not isIpv4InSubnet(dstAddr, "10.0.0.0/16") and dstPort < srcPort\n'
            "| stats count_distinct(dstPort) as ports, count(*) as attempts "
            "by bin(5m) as window, srcAddr, dstAddr\n"
            "| filter ports >= 20\n"
            "| sort ports desc")),
    Detector(
        "ssh_brute_force", "UnauthorizedAccess:EC2/SSHBruteForce",
        "one source opens many SSH (TCP 22) connections to one address within a window",
        {"window": _window(300, "five minutes: brute-force tools retry every few seconds"),
         "min_attempts": Param(10, "connection attempts per window", "count",
                               "an admin opens a few SSH sessions an hour; a password guesser "
                               "one every 1-8 s, 37 or more in five minutes")},
        insights=(
            "filter dstPort = 22\n"
            "| stats count(*) as attempts by bin(5m) as window, srcAddr, dstAddr\n"
            "| filter attempts >= 10\n"
            "| sort attempts desc")),
    Detector(
        "rdp_brute_force", "UnauthorizedAccess:EC2/RDPBruteForce",
        "one source opens many RDP (TCP 3389) connections to one address within a window",
        {"window": _window(300, "as for ssh_brute_force"),
         "min_attempts": Param(10, "connection attempts per window", "count",
                               "as for ssh_brute_force: remote-desktop users connect a few "
                               "times an hour")},
        insights=(
            "filter dstPort = 3389\n"
            "| stats count(*) as attempts by bin(5m) as window, srcAddr, dstAddr\n"
            "| filter attempts >= 10\n"
            "| sort attempts desc")),
    Detector(
        "ddos", "Inbound:EC2/DDoS",
        "many internet sources send one of our addresses an abnormal packet rate (or mostly "
        "half-open SYNs) within a window",
        {"window": _window(60, "one minute, the flow log's shortest aggregation interval: a "
                               "flood is judged while it happens"),
         "min_sources": Param(100, "distinct sources per window", "count",
                              "the busiest minute of the lab's web day has about 70 clients; a "
                              "botnet has hundreds"),
         "min_pps": Param(1000, "inbound packets per second", "count",
                          "the lab's web day peaks near 35 packets/s and a flash crowd of "
                          "ordinary clients near 110; the HTTPS flood sends about 15,000"),
         "min_syn_ratio": Param(0.5, "share of records that are SYN-only", "ratio",
                                "a SYN flood leaves most records with tcp-flags 2 (no "
                                "handshake); ordinary traffic has about one in ten (long "
                                "connections' first minute). Needs tcp-flags (version 3+)")},
        insights=(
            'filter isIpv4InSubnet(dstAddr, "10.0.0.0/16")\n'
            '  and not isIpv4InSubnet(srcAddr, "10.0.0.0/16")\n'
            "| stats count_distinct(srcAddr) as sources, sum(packets) as packets "
            "by bin(1m) as window, dstAddr\n"
            "| filter sources >= 100 and packets >= 60000\n"
            "| sort packets desc")),
    Detector(
        "reject_rate", "Network:EC2/RejectRateHigh",
        "an interface's share of REJECT records is above the lesson's 'abnormal' 20 %",
        {"window": _window(300, "five minutes evens out single rejected packets"),
         "max_ratio": Param(0.20, "share of records", "ratio",
                            "the lesson: normal below 5 %, abnormal above 20 %"),
         "min_rejects": Param(50, "REJECT records per window", "count",
                              "a quiet interface (the private instance) reaches 20 % with two "
                              "rejected telnet attempts; 50 rejects in five minutes (the "
                              "lesson's alarm says 100 a minute) keeps those out")},
        insights=(
            "stats count(*) as records, sum(strcontains(action, \"REJECT\")) as rejects "
            "by bin(5m) as window, interfaceId\n"
            "| filter rejects >= 50 and rejects > 0.2 * records\n"
            "| sort rejects desc")),
    Detector(
        "threat_list", "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
        "traffic between one of our addresses and an address on the threat list",
        {"window": _window(600, "ten minutes groups a beacon's calls into one finding per "
                                "window instead of one per call"),
         "min_records": Param(1, "records per window", "count",
                              "a listed address is malicious by definition: one record is "
                              "enough")},
        insights=None),  # built from the threat list: see helpers.detect.insights_query
    Detector(
        "exfiltration", "Behavior:EC2/TrafficVolumeUnusual",
        "one of our instances sends one internet host far more bytes than its baseline",
        {"window": _window(600, "ten minutes: an upload of gigabytes lasts minutes to an hour"),
         "min_bytes": Param(200_000_000, "bytes per window to one host", "count",
                            "the acknowledgements of the lab's 4 GB download are under 80 MB; "
                            "an upload of 1 GB at 2-5 MB/s puts 500 MB or more in one window"),
         "factor": Param(10, "times the host's baseline", "factor",
                         "ten times the host's mean outbound bytes per window: a "
                         "behaviour change, not a busy hour"),
         "baseline": Param(86400, "seconds of history", "seconds",
                           "a day of history holds the daily rhythm")},
        insights=None),  # a rolling baseline needs window functions, which Insights lacks
    Detector(
        "traffic_spike", "Inbound:EC2/TrafficSpike",
        "an address accepts far more inbound connections than its mean over the previous hour",
        {"window": _window(300, "five minutes: a flash crowd lasts minutes"),
         "factor": Param(3, "times the previous hour's mean", "factor",
                         "the lab's busiest five minutes reach 1.4 times the previous "
                         "hour's mean; three times the mean is a spike"),
         "min_connections": Param(500, "accepted connections per window", "count",
                                  "keeps quiet hours quiet: at night 3x a small mean is "
                                  "still ordinary"),
         "baseline": Param(3600, "seconds of history", "seconds",
                           "the previous hour, as the lesson's 'sudden' surge suggests")},
        insights=None),  # as for exfiltration
)}
"""Every detector by name (the ``detect_<name>`` functions of :mod:`helpers.detect`)."""
