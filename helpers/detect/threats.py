"""Threat lists: IPv4 addresses and CIDR blocks, one per line, as GuardDuty's TXT format.

GuardDuty takes a threat list as a plaintext file of IP addresses and CIDR ranges, one per line
(https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_upload-lists.html, "List
formats"). The course's list, ``data/threat-list.txt``, holds documentation addresses only;
lines starting with ``#`` are comments.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path

from helpers import paths
from helpers.errors import DetectError

__all__ = ["THREAT_LIST", "load_threat_list", "threat_networks"]

THREAT_LIST = paths.DATA / "threat-list.txt"
"""The course's threat list (documentation addresses, RFC 5737)."""


def load_threat_list(path: str | os.PathLike = THREAT_LIST) -> list[str]:
    """The entries of a threat-list file, as written (comments and blank lines skipped).

    Raises:
        DetectError: the file cannot be read, or a line is not an IPv4 address or CIDR block
            (the message names the file and line).

    >>> load_threat_list()
    ['192.0.2.248/29', '203.0.113.72/29']
    """
    if not isinstance(path, (str, os.PathLike)):
        raise DetectError(f"path must be the path of a threat-list file, not "
                          f"{type(path).__name__}")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DetectError(f"cannot read the threat list {path}: {err}") from err
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            _network(entry, f"{path}, line {number}")
            entries.append(entry)
    return entries


def threat_networks(threat_list=None) -> list[ipaddress.IPv4Network]:
    """The networks of a threat list: None (the course's file), a path, or entries.

    Entries are IPv4 addresses (``"203.0.113.7"``) or CIDR blocks (``"192.0.2.248/29"``);
    a list of them overrides the file.

    Raises:
        DetectError: ``threat_list`` is a plain string (one entry or a path? give a list or a
            ``pathlib.Path``), or an entry is not an IPv4 address or CIDR block.
    """
    if threat_list is None:
        entries, where = load_threat_list(), str(THREAT_LIST)
    elif isinstance(threat_list, os.PathLike):
        entries, where = load_threat_list(threat_list), str(threat_list)
    elif isinstance(threat_list, (str, bytes)) or not isinstance(threat_list, Iterable):
        raise DetectError(f"threat_list must be a list of IPv4 addresses or CIDR blocks (e.g. "
                          f"['203.0.113.7', '192.0.2.248/29']) or a pathlib.Path to a file "
                          f"of them, not {type(threat_list).__name__} {threat_list!r}")
    else:
        entries, where = list(threat_list), "threat_list"
    networks = [_network(entry, f"{where}, entry {i}") for i, entry in enumerate(entries, 1)]
    return sorted(set(networks), key=lambda n: (int(n.network_address), n.prefixlen))


def _network(entry, where: str) -> ipaddress.IPv4Network:
    if not isinstance(entry, str):
        raise DetectError(f"{where}: {entry!r} is not an IPv4 address or CIDR block "
                          f"(text such as '203.0.113.7' or '192.0.2.248/29')")
    try:
        return ipaddress.IPv4Network(entry.strip(), strict=False)
    except ValueError:
        raise DetectError(f"{where}: {entry!r} is not an IPv4 address or CIDR block "
                          f"(such as '203.0.113.7' or '192.0.2.248/29')") from None
