"""Reference tables the lesson uses: IANA protocol numbers, well-known ports, AWS's fixed lists.

Sources: IANA "Assigned Internet Protocol Numbers" and the IANA service-name and port-number
registry. Flow logs record the protocol as its number and ports as numbers; ICMP has no ports,
so its records carry port 0.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["CWL_RETENTION_DAYS", "PORTS", "PROTOCOLS", "TCP_FLAGS", "label", "port_table",
           "protocol_table", "tcp_flag_names"]

CWL_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)
"""The retention periods a CloudWatch Logs log group accepts, in days (PutRetentionPolicy,
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
"Never expire" has no steady state: the bill grows every month."""

PROTOCOLS: dict[int, tuple[str, str]] = {
    1: ("ICMP", "Internet Control Message Protocol (ping, unreachable messages)"),
    2: ("IGMP", "Internet Group Management Protocol (multicast membership)"),
    4: ("IPv4", "IPv4 encapsulation (IP in IP)"),
    6: ("TCP", "Transmission Control Protocol (HTTP, HTTPS, SSH, databases)"),
    17: ("UDP", "User Datagram Protocol (DNS, NTP, DHCP)"),
    41: ("IPv6", "IPv6 encapsulation"),
    47: ("GRE", "Generic Routing Encapsulation (tunnels)"),
    50: ("ESP", "Encapsulating Security Payload (IPsec encryption)"),
    51: ("AH", "Authentication Header (IPsec integrity)"),
    58: ("IPv6-ICMP", "ICMP for IPv6"),
    89: ("OSPF", "Open Shortest Path First routing"),
    132: ("SCTP", "Stream Control Transmission Protocol"),
}
"""IANA protocol number → (keyword, description)."""

PORTS: dict[int, tuple[str, str]] = {
    20: ("FTP-data", "FTP data transfer"),
    21: ("FTP", "FTP control"),
    22: ("SSH", "Secure Shell remote login"),
    23: ("Telnet", "Telnet remote login (cleartext)"),
    25: ("SMTP", "Mail transfer"),
    53: ("DNS", "Domain Name System"),
    67: ("DHCP", "DHCP server"),
    68: ("DHCP-client", "DHCP client"),
    80: ("HTTP", "Web"),
    110: ("POP3", "Mail retrieval"),
    123: ("NTP", "Network Time Protocol"),
    143: ("IMAP", "Mail retrieval"),
    161: ("SNMP", "Network management"),
    389: ("LDAP", "Directory service"),
    443: ("HTTPS", "Web over TLS"),
    445: ("SMB", "Windows file sharing"),
    500: ("IKE", "IPsec key exchange"),
    587: ("SMTP-submission", "Mail submission"),
    636: ("LDAPS", "LDAP over TLS"),
    993: ("IMAPS", "IMAP over TLS"),
    1433: ("MSSQL", "Microsoft SQL Server"),
    1521: ("Oracle", "Oracle database listener"),
    2049: ("NFS", "Network File System (Amazon EFS)"),
    3306: ("MySQL", "MySQL / MariaDB / Aurora MySQL"),
    3389: ("RDP", "Windows Remote Desktop"),
    4500: ("IPsec-NAT-T", "IPsec NAT traversal"),
    5432: ("PostgreSQL", "PostgreSQL / Aurora PostgreSQL"),
    5439: ("Redshift", "Amazon Redshift"),
    6379: ("Redis", "Redis / ElastiCache"),
    8080: ("HTTP-alt", "Alternate web port"),
    8443: ("HTTPS-alt", "Alternate TLS web port"),
    9200: ("Elasticsearch", "Elasticsearch / OpenSearch REST"),
    11211: ("Memcached", "Memcached / ElastiCache"),
    27017: ("MongoDB", "MongoDB / DocumentDB"),
}
"""Well-known port → (service, description)."""


TCP_FLAGS: dict[int, str] = {1: "FIN", 2: "SYN", 4: "RST", 18: "SYN-ACK"}
"""The TCP flags flow logs report (the ``tcp-flags`` field), by bitmask value."""


def tcp_flag_names(value: int) -> list[str]:
    """Names of the flags OR-ed into a ``tcp-flags`` value, e.g. 19 → ['SYN-ACK', 'FIN'].

    Flow logs report FIN (1), SYN (2), RST (4) and SYN-ACK (18, that is SYN with ACK); ACK or PSH
    alone are not reported, so 0 means none of these. Values are OR-ed over the aggregation
    interval, so a short connection shows 3 (SYN and FIN) or 19 (SYN-ACK and FIN).
    """
    if value < 0 or value > 255:
        raise ValueError(f"tcp-flags must be between 0 and 255, not {value}")
    names = []
    if value & 18 == 18:
        names.append("SYN-ACK")
        value &= ~18
    for bit in (2, 1, 4):
        if value & bit:
            names.append(TCP_FLAGS[bit])
            value &= ~bit
    if value:
        names.append(f"other({value})")
    return names


def protocol_table() -> pd.DataFrame:
    """The protocol table as a DataFrame (number, keyword, description)."""
    return pd.DataFrame(
        [(n, k, d) for n, (k, d) in PROTOCOLS.items()],
        columns=["protocol", "keyword", "description"],
    )


def port_table() -> pd.DataFrame:
    """The port table as a DataFrame (port, service, description)."""
    return pd.DataFrame(
        [(p, s, d) for p, (s, d) in PORTS.items()], columns=["port", "service", "description"]
    )


def label(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with readable names next to its protocol and port columns.

    Adds ``protocol_name`` after ``protocol`` and ``srcport_service`` / ``dstport_service``
    after the port columns, for the columns the frame has. Unknown numbers stay missing, so
    ephemeral client ports (49152–65535 and the like) show as ``<NA>``.
    """
    out = df.copy()
    keywords = {n: k for n, (k, _) in PROTOCOLS.items()}
    services = {p: s for p, (s, _) in PORTS.items()}
    for column, names, new in [
        ("protocol", keywords, "protocol_name"),
        ("srcport", services, "srcport_service"),
        ("dstport", services, "dstport_service"),
    ]:
        if column in out.columns:
            values = out[column].map(names).astype(pd.StringDtype("pyarrow"))
            out.insert(out.columns.get_loc(column) + 1, new, values)
    return out
