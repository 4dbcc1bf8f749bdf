"""The detectors as SQL: one text per detector in DuckDB's dialect, rendered for DuckDB or Athena.

Every detector reads the same first stage, ``detect_cells``: one pass over the flow-log table
that sums each minute's records per interface, source, destination and probed port. The
detectors then work on those cells (far fewer rows than records), in three steps: ``hits``
(the windows whose evidence crosses the thresholds), ``numbered``/``merged`` (consecutive
windows of the same key become one finding, as in gaps-and-islands) and the final SELECT with
the finding's type, severity, window and evidence. A detector's full SQL is ``WITH
detect_cells AS (...) <its stages>``; :func:`helpers.detect.detect` runs the first stage once
into a temporary table and every detector's stages on it.

The text is parsed with sqlglot and written out for DuckDB or for Athena (Trino), over the
partitioned table of :func:`helpers.insights.athena_ddl`; for Athena a time range also becomes
a filter on the partition columns (year, month, day[, hour]) so Athena reads only those
folders. Only functions DuckDB and Trino share are used; divisions are made explicit (``/`` is
whole-number division in Trino).

Terms used below:

- *request*: the record of the side that opened a TCP connection: ``tcp-flags`` has SYN and
  not SYN-ACK (version 3+). Without ``tcp-flags`` (the default format), a record whose
  destination port is below its source port (clients use high ephemeral ports).
- *probe-like* request: to SSH/RDP (22, 3389), rejected, or at most 3 packets and no FIN
  in its first minute (a SYN and its retransmissions, or SYN then RST: a handshake that was
  never used; a completed TCP connection sends at least 4). Only those keep their port in
  the cells, which keeps the cells small.
- *our* addresses: those inside the VPC CIDR blocks. Inbound: from outside to ours; outbound:
  from ours to outside.
- *each attempt once*: an SSH or RDP attempt is one client port (a long session keeps its
  port across windows; without ``tcp-flags`` each of its records looks like a request).
  Traffic between two of our instances is recorded by both interfaces; brute force counts
  it on one of them. Direction comes from the addresses, so ``flow-direction`` is not
  needed.
- *NAT hop*: a NAT gateway records the private instance's packets twice, on the way in with
  its own address as destination and the real one as ``pkt-dstaddr``. Such cells are marked
  ``forwarded``; the NAT gateway's addresses (their destinations) are not counted as actors,
  so an instance behind a NAT gateway is reported once, under its own address. Without
  ``pkt-dstaddr`` (versions 2) the NAT gateway's address appears as a second actor.
"""

from __future__ import annotations

import datetime as dt

import sqlglot

from helpers.detect.catalog import DETECTORS
from helpers.errors import DetectError

__all__ = ["CELLS", "cells_sql", "compose", "detector_stages", "in_networks",
           "partition_filter", "render"]

CELLS = "detect_cells"
"""The name of the first stage (a CTE, or a temporary table in :func:`detect`)."""

CELL = 60  # seconds: the flow log's shortest aggregation interval, the cells' width
REQUEST = ("CASE WHEN tcp_flags IS NULL THEN dstport < srcport "
           "ELSE (tcp_flags & 18) = 2 END")
PROBE_LIKE = ("dstport IN (22, 3389) OR action = 'REJECT' "
              "OR (packets <= 3 AND (tcp_flags IS NULL OR (tcp_flags & 1) = 0))")
DIALECTS = {"duckdb": "duckdb", "athena": "trino", "trino": "trino"}
ELASTICSEARCH = (9200, 9300)  # GuardDuty raises PortProbeUnprotectedPort to High for these


def _sum(expression: str) -> str:
    return f"CAST(SUM({expression}) AS BIGINT)"


# --- predicates -------------------------------------------------------------------------------


def in_networks(column: str, networks) -> str:
    """SQL true when ``column`` (dotted IPv4 text) lies in one of ``networks``.

    Blocks of up to 256 addresses become an ``IN`` list; in larger ones whole octets become a
    ``LIKE`` prefix and a partial octet a range on that octet, so the test is exact for any
    prefix length and cheap: ``10.0.0.0/16`` is ``col LIKE '10.0.%'``.

    >>> import ipaddress
    >>> in_networks("a", [ipaddress.IPv4Network("10.0.0.0/16")])
    "a LIKE '10.0.%'"
    >>> in_networks("a", [ipaddress.IPv4Network("10.0.16.0/20")])
    "(a LIKE '10.0.%' AND TRY_CAST(split_part(a, '.', 3) AS INTEGER) BETWEEN 16 AND 31)"
    """
    terms = []
    small = [n for n in networks if n.prefixlen >= 24]  # up to 256 addresses: list them
    exact = sorted({a for n in small for a in ([n.network_address] if n.prefixlen == 32
                                                else n)}, key=int)
    if exact:
        terms.append(f"{column} IN ({', '.join(repr(str(a)) for a in exact)})")
    for network in networks:
        if network.prefixlen >= 24:
            continue
        octets = str(network.network_address).split(".")
        whole, bits = divmod(network.prefixlen, 8)
        parts = []
        if whole:
            parts.append(f"{column} LIKE '{'.'.join(octets[:whole])}.%'")
        if bits:
            low = int(octets[whole])
            parts.append(f"TRY_CAST(split_part({column}, '.', {whole + 1}) AS INTEGER) "
                         f"BETWEEN {low} AND {low + 2 ** (8 - bits) - 1}")
        if not parts:  # 0.0.0.0/0: every IPv4 address
            parts.append(f"{column} LIKE '%.%.%.%'")
        terms.append(parts[0] if len(parts) == 1 else f"({' AND '.join(parts)})")
    if not terms:
        return "FALSE"
    return terms[0] if len(terms) == 1 else f"({' OR '.join(terms)})"


def _prefixes(column: str, networks) -> str:
    """A cheap first filter for :func:`in_networks`: the whole-octet prefixes only."""
    terms = set()
    for network in networks:
        whole = min(network.prefixlen // 8, 3)
        octets = str(network.network_address).split(".")[:whole]
        terms.add(f"{column} LIKE '{'.'.join(octets)}.%'" if whole else "TRUE")
    return f"({' OR '.join(sorted(terms))})" if terms else "FALSE"


def partition_filter(start: int | None, end: int | None, *, hourly: bool = True) -> str | None:
    """A filter on Athena's partition columns covering ``start``–``end`` (epoch seconds).

    The range is widened by an hour on each side: AWS files a record under the hour its file
    was written, a few minutes after the record's window. Whole months become ``year``/``month``
    terms, other days ``year``/``month``/``day`` terms, with ``hour`` bounds on the first and
    last day when the table is hourly. None when there is no range (or only one end of it).

    >>> for term in partition_filter(1639958400, 1639962000).split(" OR "):
    ...     print(term)
    (year = 2021 AND month = 12 AND day = 19 AND hour >= 23)
    (year = 2021 AND month = 12 AND day = 20 AND hour <= 1)
    """
    if start is None or end is None:
        return None
    first = dt.datetime.fromtimestamp(start - 3600, dt.timezone.utc)
    last = dt.datetime.fromtimestamp(max(end, start + 1) - 1 + 3600, dt.timezone.utc)
    days, day = [], first.date()
    while day <= last.date():
        days.append(day)
        day += dt.timedelta(days=1)
    terms, i = [], 0
    while i < len(days):
        d = days[i]
        month_days = [x for x in days[i:] if (x.year, x.month) == (d.year, d.month)]
        whole_month = d.day == 1 and (month_days[-1] + dt.timedelta(days=1)).month != d.month
        inner = d != first.date() and month_days[-1] != last.date()
        if whole_month and inner:
            terms.append(f"(year = {d.year} AND month = {d.month})")
            i += len(month_days)
            continue
        term = f"year = {d.year} AND month = {d.month} AND day = {d.day}"
        if hourly and d == first.date() and first.hour > 0:
            term += f" AND hour >= {first.hour}"
        if hourly and d == last.date() and last.hour < 23:
            term += f" AND hour <= {last.hour}"
        terms.append(f"({term})")
        i += 1
    return " OR ".join(terms)


# --- the first stage ----------------------------------------------------------------------------


def cells_sql(table: str, vpc, *, start: int | None = None, end: int | None = None,
              partitions: bool = False, hourly: bool = True) -> str:
    """The first stage: per minute, interface, source, destination, probed port and (for SSH
    and RDP) client port, the sums every detector needs (records, packets, bytes, rejects,
    requests, accepted requests, SYN-only records), whether a cell is a NAT hop
    (``forwarded``) and whether the source and the destination are ours (``src_in``,
    ``dst_in``: inside the networks ``vpc``). ``start``/``end`` (epoch seconds) bound the
    records' start; with ``partitions`` they also filter Athena's partition columns."""
    where = ["action IS NOT NULL"]  # NODATA and SKIPDATA records carry no traffic
    if start is not None:
        where.append(f'"start" >= {start}')
    if end is not None:
        where.append(f'"start" < {end}')
    if partitions:
        folders = partition_filter(start, end, hourly=hourly)
        if folders:
            where.append(f"({folders})")
    return f"""
SELECT cells.*,
  {in_networks('srcaddr', vpc)} AS src_in,
  {in_networks('dstaddr', vpc)} AS dst_in
FROM (
SELECT
  "start" - "start" % {CELL} AS w, interface_id, srcaddr, dstaddr,
  CASE WHEN request AND ({PROBE_LIKE}) THEN dstport END AS port,
  CASE WHEN request AND dstport IN (22, 3389) THEN srcport END AS client_port,
  CAST(COUNT(*) AS BIGINT) AS records,
  {_sum("packets")} AS packets,
  {_sum("bytes")} AS bytes,
  {_sum("CASE WHEN action = 'REJECT' THEN 1 ELSE 0 END")} AS rejects,
  {_sum("CASE WHEN request THEN 1 ELSE 0 END")} AS requests,
  {_sum("CASE WHEN request AND action = 'ACCEPT' THEN 1 ELSE 0 END")} AS accepted,
  {_sum("CASE WHEN tcp_flags = 2 THEN 1 ELSE 0 END")} AS syn_only,
  MAX(CASE WHEN pkt_dstaddr <> dstaddr THEN 1 ELSE 0 END) AS forwarded
FROM (
  SELECT "start", interface_id, srcaddr, dstaddr, srcport, dstport, action, packets, bytes,
    tcp_flags, pkt_dstaddr, {REQUEST} AS request
  FROM {table}
  WHERE {' AND '.join(where)}
) AS records
GROUP BY 1, 2, 3, 4, 5, 6
) AS cells"""


# --- the detectors' stages ----------------------------------------------------------------------

_EVIDENCE = ("records", "connections", "packets", "bytes", "rejects")
_NAT = ("nat", f"SELECT DISTINCT dstaddr AS addr FROM {CELLS} WHERE forwarded = 1")


def _sums(connections: str = "requests") -> str:
    return (f"{_sum('records')} AS records, {_sum(connections)} AS connections, "
            f"{_sum('packets')} AS packets, {_sum('bytes')} AS bytes, "
            f"{_sum('rejects')} AS rejects")


def _tail(name: str, window: int, keys: list[str], severity: str, *, srcaddr="NULL",
          dstaddr="NULL", dstport="NULL", interface_id="NULL", distinct_ports="NULL",
          sources="NULL", baseline="NULL", extra=()) -> tuple[list[tuple[str, str]], str]:
    """The stages shared by every detector after ``hits``: islands of consecutive windows
    per key become one finding, then the uniform columns, sorted.

    ``hits`` has one row per window (``ww``) and key with the evidence columns; the keyword
    arguments are the SQL of each output column over ``merged`` (NULL when the detector has
    none). ``extra`` names more columns of ``hits`` to carry into ``merged``:
    ``distinct_ports`` and ``sources`` keep their busiest window, ``baseline`` its smallest
    value (the one before the episode grew it), others the aggregate given as the value.
    """
    key_list = ", ".join(keys)
    merged = ["MIN(ww) AS first_w", f"MAX(ww) + {window} AS last_w"]
    merged += [f"{_sum(c)} AS {c}" for c in _EVIDENCE]
    merged += [f"MAX({c}) AS {c}" for c in ("distinct_ports", "sources") if c in extra]
    merged += ["MIN(baseline) AS baseline"] if "baseline" in extra else []
    merged += [extra[c] for c in extra if c not in ("distinct_ports", "sources", "baseline")]
    finding_type = DETECTORS[name].finding_type
    columns = {
        "finding_type": f"'{finding_type}'", "severity": severity,
        '"start"': "first_w", '"end"': "last_w",
        "srcaddr": _typed(srcaddr, "VARCHAR"), "dstaddr": _typed(dstaddr, "VARCHAR"),
        "dstport": _typed(dstport, "INTEGER"), "interface_id": _typed(interface_id, "VARCHAR"),
        **{c: c for c in _EVIDENCE},
        "distinct_ports": _typed(distinct_ports, "BIGINT"), "sources": _typed(sources, "BIGINT"),
        "baseline": _typed(baseline, "DOUBLE"),
    }
    ctes = [
        ("numbered", f"SELECT hits.*, ww - {window} * ROW_NUMBER() OVER "
                     f"(PARTITION BY {key_list} ORDER BY ww) AS island FROM hits"),
        ("merged", f"SELECT {key_list}, {', '.join(merged)} FROM numbered "
                   f"GROUP BY {key_list}, island"),
    ]
    select = ",\n  ".join(f"{value} AS {column}" for column, value in columns.items())
    final = (f"SELECT * FROM (\n  SELECT\n  {select}\n  FROM merged\n) AS findings\n"
             "ORDER BY \"start\", CASE severity WHEN 'High' THEN 0 WHEN 'Medium' THEN 1 "
             "ELSE 2 END, finding_type, srcaddr, dstaddr, interface_id")
    return ctes, final


def _typed(value: str, kind: str) -> str:
    return f"CAST(NULL AS {kind})" if value == "NULL" else value


def _port_probe(p, vpc, threats):
    hits = f"""
SELECT w - w % {p['window']} AS ww, srcaddr, dstaddr, COUNT(DISTINCT port) AS distinct_ports,
  {_sums()},
  MAX(CASE WHEN rejects < records AND port IN {ELASTICSEARCH} THEN 1 ELSE 0 END) AS exposed
FROM {CELLS}
WHERE port IS NOT NULL AND NOT src_in AND dst_in
GROUP BY 1, 2, 3
HAVING COUNT(DISTINCT port) >= {p['min_ports']}"""
    ctes, final = _tail("port_probe", p["window"], ["srcaddr", "dstaddr"],
                        "CASE WHEN exposed = 1 THEN 'High' ELSE 'Low' END",
                        srcaddr="srcaddr", dstaddr="dstaddr", distinct_ports="distinct_ports",
                        extra={"distinct_ports": None, "exposed": "MAX(exposed) AS exposed"})
    return [("hits", hits), *ctes], final


def _port_scan(p, vpc, threats):
    hits = f"""
SELECT w - w % {p['window']} AS ww, srcaddr, dstaddr, COUNT(DISTINCT port) AS distinct_ports,
  {_sums()}
FROM {CELLS}
WHERE port IS NOT NULL AND src_in AND NOT dst_in
  AND srcaddr NOT IN (SELECT addr FROM nat)
GROUP BY 1, 2, 3
HAVING COUNT(DISTINCT port) >= {p['min_ports']}"""
    ctes, final = _tail("port_scan", p["window"], ["srcaddr", "dstaddr"], "'Medium'",
                        srcaddr="srcaddr", dstaddr="dstaddr", distinct_ports="distinct_ports",
                        extra={"distinct_ports": None})
    return [_NAT, ("hits", hits), *ctes], final


def _brute_force(name: str, port: int):
    def build(p, vpc, threats):
        # between two of our instances both interfaces record each attempt: count it once
        # (the interface that saw most of them), which needs no flow-direction
        per_interface = f"""
SELECT w - w % {p['window']} AS ww, srcaddr, dstaddr, interface_id,
  {_sums("0")}, COUNT(DISTINCT client_port) AS attempts,
  MAX(CASE WHEN src_in THEN 1 ELSE 0 END) AS actor
FROM {CELLS}
WHERE port = {port} AND forwarded = 0 AND srcaddr NOT IN (SELECT addr FROM nat)
GROUP BY 1, 2, 3, 4"""
        hits = f"""
SELECT ww, srcaddr, dstaddr, MAX(attempts) AS connections,
  {', '.join(f'MAX({c}) AS {c}' for c in _EVIDENCE if c != 'connections')},
  MAX(actor) AS actor
FROM per_interface
GROUP BY 1, 2, 3
HAVING MAX(attempts) >= {p['min_attempts']}"""
        severity = "CASE WHEN actor = 1 THEN 'High' ELSE 'Low' END"  # our instance attacks
        ctes, final = _tail(name, p["window"], ["srcaddr", "dstaddr"], severity,
                            srcaddr="srcaddr", dstaddr="dstaddr", dstport=str(port),
                            extra={"actor": "MAX(actor) AS actor"})
        return [_NAT, ("per_interface", per_interface), ("hits", hits), *ctes], final
    return build


def _ddos(p, vpc, threats):
    window = p["window"]
    hits = f"""
SELECT w - w % {window} AS ww, dstaddr, COUNT(DISTINCT srcaddr) AS sources, {_sums()}
FROM {CELLS}
WHERE NOT src_in AND dst_in
GROUP BY 1, 2
HAVING COUNT(DISTINCT srcaddr) >= {p['min_sources']}
  AND (SUM(packets) >= {p['min_pps'] * window}
       OR SUM(syn_only) >= {p['min_syn_ratio']} * SUM(records))"""
    ctes, final = _tail("ddos", window, ["dstaddr"], "'High'", dstaddr="dstaddr",
                        sources="sources", extra={"sources": None})
    return [("hits", hits), *ctes], final


def _reject_rate(p, vpc, threats):
    hits = f"""
SELECT w - w % {p['window']} AS ww, interface_id, {_sums()}
FROM {CELLS}
GROUP BY 1, 2
HAVING SUM(rejects) >= {p['min_rejects']} AND SUM(rejects) > {p['max_ratio']} * SUM(records)"""
    ctes, final = _tail("reject_rate", p["window"], ["interface_id"], "'Low'",
                        interface_id="interface_id")
    return [("hits", hits), *ctes], final


def _threat_list(p, vpc, threats):
    listed_src = in_networks("srcaddr", threats)
    nearby = " OR ".join(_prefixes(c, threats) for c in ("srcaddr", "dstaddr"))
    matched = f"""
SELECT listed_cells.*,
  CASE WHEN {listed_src} THEN srcaddr ELSE dstaddr END AS listed,
  CASE WHEN {listed_src} THEN dstaddr ELSE srcaddr END AS ours
FROM (SELECT * FROM {CELLS} WHERE {nearby}) AS listed_cells
WHERE {listed_src} OR {in_networks('dstaddr', threats)}"""
    hits = f"""
SELECT w - w % {p['window']} AS ww, listed, ours, {_sums()},
  {_sum("CASE WHEN srcaddr = listed THEN requests ELSE 0 END")} AS called_in,
  {_sum("CASE WHEN srcaddr = ours THEN requests ELSE 0 END")} AS called_out
FROM matched
WHERE ours NOT IN (SELECT addr FROM nat)
GROUP BY 1, 2, 3
HAVING SUM(records) >= {p['min_records']}"""
    inbound = "called_in >= called_out"
    ctes, final = _tail(
        "threat_list", p["window"], ["listed", "ours"], "'Medium'",
        srcaddr=f"CASE WHEN {inbound} THEN listed ELSE ours END",
        dstaddr=f"CASE WHEN {inbound} THEN ours ELSE listed END",
        extra={"called_in": f"{_sum('called_in')} AS called_in",
               "called_out": f"{_sum('called_out')} AS called_out"})
    return [_NAT, ("matched", matched), ("hits", hits), *ctes], final


def _history(value: str, key: str, window: int, seconds: int) -> str:
    """The mean of ``value`` per window over the ``seconds`` before each window (missing
    windows count as 0; at the start of the data, over the history there is)."""
    return (f"CAST(COALESCE(SUM({value}) OVER (PARTITION BY {key} ORDER BY ww RANGE BETWEEN "
            f"{seconds} PRECEDING AND {window} PRECEDING), 0) AS DOUBLE) / "
            f"GREATEST(1, LEAST({seconds // window}, (ww - first_w) / {window}))")


_FIRST = ("bounds", f"SELECT MIN(w) - MIN(w) % {{window}} AS first_w FROM {CELLS}")


def _exfiltration(p, vpc, threats):
    window, seconds = p["window"], p["baseline"]
    outbound = f"""
SELECT w - w % {window} AS ww, srcaddr, dstaddr, records, requests, packets, bytes, rejects
FROM {CELLS}
WHERE src_in AND NOT dst_in
  AND srcaddr NOT IN (SELECT addr FROM nat)"""
    host = f"""
SELECT hosts.ww, hosts.srcaddr, {_history('hosts.total', 'hosts.srcaddr', window, seconds)}
  AS baseline
FROM (SELECT ww, srcaddr, {_sum('bytes')} AS total FROM outbound GROUP BY 1, 2) AS hosts
CROSS JOIN bounds"""
    hits = f"""
SELECT pairs.*, host.baseline
FROM (SELECT ww, srcaddr, dstaddr, {_sums()} FROM outbound GROUP BY 1, 2, 3) AS pairs
JOIN host ON host.ww = pairs.ww AND host.srcaddr = pairs.srcaddr
WHERE pairs.bytes >= {p['min_bytes']} AND pairs.bytes >= {p['factor']} * host.baseline"""
    ctes, final = _tail("exfiltration", window, ["srcaddr", "dstaddr"], "'High'",
                        srcaddr="srcaddr", dstaddr="dstaddr", baseline="baseline",
                        extra={"baseline": None})
    bounds = (_FIRST[0], _FIRST[1].format(window=window))
    return [_NAT, bounds, ("outbound", outbound), ("host", host), ("hits", hits), *ctes], final


def _traffic_spike(p, vpc, threats):
    window, seconds = p["window"], p["baseline"]
    inbound = f"""
SELECT w - w % {window} AS ww, dstaddr, COUNT(DISTINCT srcaddr) AS sources,
  {_sums("accepted")}
FROM {CELLS}
WHERE NOT src_in AND dst_in
GROUP BY 1, 2"""
    scored = f"""
SELECT inbound.*, first_w, {_history('connections', 'dstaddr', window, seconds)} AS baseline
FROM inbound CROSS JOIN bounds"""
    hits = f"""
SELECT * FROM scored
WHERE ww - first_w >= {max(window, seconds // 4)}
  AND connections >= {p['min_connections']} AND connections >= {p['factor']} * baseline"""
    ctes, final = _tail("traffic_spike", window, ["dstaddr"], "'Low'", dstaddr="dstaddr",
                        sources="sources", baseline="baseline",
                        extra={"sources": None, "baseline": None})
    bounds = (_FIRST[0], _FIRST[1].format(window=window))
    return [bounds, ("inbound", inbound), ("scored", scored), ("hits", hits), *ctes], final


_BUILDERS = {
    "port_probe": _port_probe,
    "port_scan": _port_scan,
    "ssh_brute_force": _brute_force("ssh_brute_force", 22),
    "rdp_brute_force": _brute_force("rdp_brute_force", 3389),
    "ddos": _ddos,
    "reject_rate": _reject_rate,
    "threat_list": _threat_list,
    "exfiltration": _exfiltration,
    "traffic_spike": _traffic_spike,
}


def detector_stages(name: str, params: dict, vpc, threats=()) -> tuple[list[tuple[str, str]],
                                                                        str]:
    """A detector's stages after ``detect_cells`` (CTEs as (name, SQL)) and its final SELECT,
    for checked thresholds ``params``, VPC networks ``vpc`` and threat networks ``threats``."""
    return _BUILDERS[name](params, vpc, threats)


def compose(ctes: list[tuple[str, str]], final: str) -> str:
    """``WITH name AS (sql), ... final``."""
    if not ctes:
        return final
    body = ",\n".join(f"{name} AS ({sql.strip()}\n)" for name, sql in ctes)
    return f"WITH {body}\n{final}"


def render(sql: str, dialect: str = "duckdb", *, pretty: bool = True) -> str:
    """DuckDB SQL text written out for ``dialect`` (``duckdb``, ``athena`` or ``trino``)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as err:  # a bug here, not a student's mistake
        raise DetectError(f"the detector SQL does not parse: {err}") from err
    return tree.sql(dialect=DIALECTS[dialect], pretty=pretty)
