"""Run the detectors on flow-log records with DuckDB: :func:`detect` and one function each.

Records are canonical columns (``helpers.flowlogs.read`` or ``helpers.traffic.generate``);
the default format's fields are enough, and ``tcp_flags`` and ``pkt_dstaddr`` (versions 3–5)
sharpen what a connection attempt is and who made it (see :mod:`helpers.detect.sql`;
``flow_direction`` is not needed: the addresses say which way a record goes). The records
go to one private DuckDB connection as an Arrow table without a copy (no files, no network,
no extensions); the SQL is the same that :func:`to_sql` prints for Athena.

The defaults suit the lab's volume (the generator at scale 1). Thresholds in absolute units
(``ddos_min_pps``, ``exfiltration_min_bytes``, ...) must grow with a busier site: set them
above its busiest ordinary minute.

Every function returns one row per finding, sorted by ``start`` then severity (High first):

=============== ===========================================================================
finding_type    the GuardDuty finding type the detection resembles (or the course's own, see
                :data:`helpers.detect.FINDING_TYPES`)
severity        ``High``, ``Medium`` or ``Low``, as GuardDuty grades that type
start, end      the window, epoch seconds: the first window's start and the last window's end
                (consecutive windows of the same key are one finding)
srcaddr         who acted (the scanner, the guesser, our instance sending); NA when many
dstaddr         whom it concerned; NA for an interface's reject rate
dstport         the port, for brute force (22, 3389); NA otherwise
interface_id    the interface, for the reject rate; NA otherwise
records         flow-log records behind the finding
connections     connection attempts (requests; accepted ones for a traffic spike)
packets, bytes  their totals
rejects         REJECT records among them
distinct_ports  ports probed, in the busiest window (port probes and scans)
sources         distinct sources, in the busiest window (DDoS, traffic spike)
baseline        the rolling baseline the window was compared with (exfiltration: bytes per
                window; traffic spike: connections per window)
detail          one English sentence with the numbers that matter
=============== ===========================================================================
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers import times
from helpers.detect.catalog import DETECTORS, FINDING_TYPES, SEVERITIES
from helpers.detect.sql import CELLS, DIALECTS, cells_sql, compose, detector_stages, render
from helpers.detect.threats import threat_networks
from helpers.errors import CourseError, DetectError
from helpers.traffic import default_topology

__all__ = ["COLUMNS", "VPC_CIDR", "detect", "detect_ddos", "detect_exfiltration",
           "detect_port_probe", "detect_port_scan", "detect_rdp_brute_force",
           "detect_reject_rate", "detect_ssh_brute_force", "detect_threat_list",
           "detect_traffic_spike", "thresholds", "to_sql"]

VPC_CIDR = default_topology().vpc_cidr
"""The lab VPC's CIDR block (10.0.0.0/16): the default set of "our" addresses."""

COLUMNS = ("finding_type", "severity", "start", "end", "srcaddr", "dstaddr", "dstport",
           "interface_id", "records", "connections", "packets", "bytes", "rejects",
           "distinct_ports", "sources", "baseline", "detail")
"""The columns of every result, in order."""

REQUIRED = ("start", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "action",
            "packets", "bytes")
OPTIONAL = {"tcp_flags": pa.int32(), "pkt_dstaddr": pa.large_string()}
_INTEGERS = ("start", "srcport", "dstport", "packets", "bytes", "tcp_flags")
_STRING = pd.StringDtype("pyarrow")
_SAFE_CONFIG = {"enable_external_access": False, "autoinstall_known_extensions": False,
                "preserve_insertion_order": False,
                "autoload_known_extensions": False}
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
_COMMON = ("detectors", "vpc_cidr", "threat_list", "start", "end")


# --- arguments ----------------------------------------------------------------------------------


def thresholds(detector: str | None = None) -> dict:
    """The default thresholds, ``{detector: {name: value}}`` or one detector's ``{name: value}``.

    >>> thresholds("ssh_brute_force")
    {'window': 300, 'min_attempts': 10}
    """
    if detector is not None:
        _check_detector(detector)
        return {k: p.default for k, p in DETECTORS[detector].params.items()}
    return {name: thresholds(name) for name in DETECTORS}


def _check_detector(name) -> str:
    if not isinstance(name, str) or name not in DETECTORS:
        close = difflib.get_close_matches(str(name), list(DETECTORS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ";"
        raise DetectError(f"detector: unknown detector {name!r}{hint} valid detectors: "
                          f"{', '.join(DETECTORS)}")
    return name


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def _check_params(name: str, given: dict, *, prefix: str = "") -> dict:
    """The detector's thresholds: defaults updated with ``given``, each checked. Error
    messages name the argument as the caller wrote it (``prefix`` + name)."""
    spec = DETECTORS[name].params
    unknown = [k for k in given if k not in spec]
    if unknown:
        valid = [prefix + k for k in spec]
        close = difflib.get_close_matches(prefix + unknown[0], valid, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ";"
        raise DetectError(f"{prefix + unknown[0]}: not a threshold of {name}{hint} valid "
                          f"thresholds: {', '.join(valid)}")
    params = {k: p.default for k, p in spec.items()}
    params.update(given)
    for key, value in params.items():
        kind, arg = spec[key].kind, prefix + key
        if not _is_number(value) or not math.isfinite(value):
            raise DetectError(f"{arg} must be a finite number ({spec[key].unit}), not "
                              f"{value!r}")
        if kind == "window" and (value <= 0 or value % 60 or value > 86400):
            raise DetectError(f"{arg} must be a whole number of minutes in seconds (60, 300, "
                              f"600, ... up to 86400): flow logs aggregate at least a minute; "
                              f"not {value!r}")
        if kind == "count" and value < 0:
            raise DetectError(f"{arg} must be 0 or more ({spec[key].unit}), not {value!r}")
        if kind == "ratio" and not 0 <= value <= 1:
            raise DetectError(f"{arg} must be a share from 0 to 1 (0.2 is 20 %), not "
                              f"{value!r}")
        if kind == "factor" and value < 1:
            raise DetectError(f"{arg} must be 1 or more (times the baseline), not {value!r}")
    window = params.get("window")
    for key, value in params.items():
        if spec[key].kind in ("window", "seconds"):
            params[key] = int(value)
        if spec[key].kind == "seconds" and (value < window or value % window):
            raise DetectError(f"{prefix + key} must be a whole number of windows "
                              f"({prefix}window = {window} s), not {value!r}")
    return params


def _networks(vpc_cidr) -> list[ipaddress.IPv4Network]:
    """Our networks from ``vpc_cidr``: None (the lab's), one CIDR block or several."""
    if vpc_cidr is None:
        vpc_cidr = VPC_CIDR
    blocks = [vpc_cidr] if isinstance(vpc_cidr, str) else vpc_cidr
    if not isinstance(blocks, Iterable) or isinstance(blocks, bytes):
        raise DetectError(f"vpc_cidr must be an IPv4 CIDR block such as '10.0.0.0/16' (or a "
                          f"list of them), not {type(vpc_cidr).__name__} {vpc_cidr!r}")
    networks = []
    for block in blocks:
        try:
            if not isinstance(block, str) or "/" not in block:
                raise ValueError
            networks.append(ipaddress.IPv4Network(block.strip(), strict=False))
        except ValueError:
            raise DetectError(f"vpc_cidr: {block!r} is not an IPv4 CIDR block such as "
                              f"'10.0.0.0/16'") from None
    if not networks:
        raise DetectError("vpc_cidr must name at least one CIDR block, e.g. '10.0.0.0/16'")
    return networks


def _time(value, what: str) -> int | None:
    if value is None:
        return None
    try:
        return times.to_epoch(value, what)
    except CourseError as err:
        raise DetectError(str(err)) from None


class _Scope:
    """The arguments every detector shares, checked once."""

    def __init__(self, vpc_cidr=None, threat_list=None, start=None, end=None):
        self.vpc = _networks(vpc_cidr)
        self.threat_list = threat_list
        self._threats = None
        self.start = _time(start, "start")
        self.end = _time(end, "end")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise DetectError(f"end ({end!r}) must be after start ({start!r})")

    @property
    def threats(self):
        if self._threats is None:
            self._threats = threat_networks(self.threat_list)
        return self._threats


# --- records --------------------------------------------------------------------------------


def _arrow(records) -> pa.Table:
    """The columns the SQL reads, as an Arrow table (missing optional ones as nulls)."""
    if isinstance(records, pd.DataFrame):
        names = [str(c) for c in records.columns]
    elif isinstance(records, pa.Table):
        names = records.column_names
    else:
        raise DetectError(f"records must be a pandas DataFrame (or Arrow table) of flow-log "
                          f"records with canonical columns, such as helpers.flowlogs.read() "
                          f"returns; not {type(records).__name__}")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise DetectError(f"records: missing column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)}; detections need the default format's "
                          f"fields by their canonical names ({', '.join(REQUIRED)})")
    present = [c for c in (*REQUIRED, *OPTIONAL) if c in names]
    if isinstance(records, pd.DataFrame):
        try:
            table = pa.Table.from_pandas(records[present], preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as err:
            raise DetectError(f"records: a column cannot be read as flow-log values: "
                              f"{err}") from None
    else:
        table = records.select(present)
    columns = {}
    for name in present:
        columns[name] = _typed(table.column(name), name)
    for name, kind in OPTIONAL.items():
        if name not in columns:
            columns[name] = pa.nulls(table.num_rows, kind)
    return pa.table(columns)


def _typed(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    kind = column.type
    if name in _INTEGERS:
        if pa.types.is_integer(kind):
            return column
        if pa.types.is_null(kind) or pa.types.is_floating(kind):
            try:
                return pc.cast(column, pa.int64())
            except pa.ArrowInvalid:
                pass
        raise DetectError(f"records: column {name} must hold whole numbers, not {kind}")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or \
            pa.types.is_string_view(kind) or pa.types.is_null(kind):
        return column
    if pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type) or \
            pa.types.is_dictionary(kind) and pa.types.is_large_string(kind.value_type):
        return column
    raise DetectError(f"records: column {name} must hold text, not {kind}")


def _connect(table: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config=dict(_SAFE_CONFIG))
    con.execute("SET lock_configuration = true")
    con.register("flows", table)
    return con


def _query(con, sql: str) -> pa.Table:
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as err:
        raise DetectError(f"DuckDB could not run the detector SQL: {err}") from err


# --- running --------------------------------------------------------------------------------


def _run(name: str, records, params: dict, scope: _Scope) -> pd.DataFrame:
    """One detector's findings: its full SQL (with the first stage as a CTE), as on Athena."""
    table = _arrow(records)
    threats = scope.threats if name == "threat_list" else ()
    stages, final = detector_stages(name, params, scope.vpc, threats)
    cells = cells_sql("flows", scope.vpc, start=scope.start, end=scope.end)
    sql = render(compose([(CELLS, cells), *stages], final))
    con = _connect(table)
    try:
        result = _query(con, sql)
    finally:
        con.close()
    return _frame([result], {name: params}, scope)


def detect(records, *, detectors=None, vpc_cidr=None, threat_list=None, start=None, end=None,
           **thresholds) -> pd.DataFrame:
    """Every detector on ``records``: one row per finding, sorted by start then severity.

    One pass over the records makes per-minute cells (see :mod:`helpers.detect.sql`); each
    detector then reads the cells, so the cost is about one GROUP BY of the records.

    Args:
        records: flow-log records with canonical columns (a DataFrame or Arrow table).
        detectors: the detectors to run (names of :data:`helpers.detect.DETECTORS`); None
            runs all nine.
        vpc_cidr: our addresses, one IPv4 CIDR block or a list; None means the lab VPC's
            10.0.0.0/16.
        threat_list: for ``threat_list``: None (``data/threat-list.txt``), a list of IPv4
            addresses or CIDR blocks, or a ``pathlib.Path`` to a file of them.
        start, end: only records that start in [start, end) (epoch seconds, ISO 8601 text or
            a datetime); None means no bound.
        **thresholds: ``<detector>_<threshold>``, e.g. ``ssh_brute_force_min_attempts=20``
            or ``ddos_window=300``; see :func:`thresholds` for every name and default.

    Returns:
        The findings, columns :data:`COLUMNS` (see the module's documentation).

    Raises:
        DetectError: an argument is wrong (the message names it): records that are not a
            table or lack columns, an unknown detector or threshold, a negative or otherwise
            invalid threshold, a bad CIDR block, threat list or time.

    >>> from helpers import traffic
    >>> records = traffic.generate(["web_baseline", "port_scan_inbound"], seed=1, duration="2h")
    >>> found = detect(records)
    >>> columns = ["finding_type", "srcaddr", "interface_id", "distinct_ports"]
    >>> print(found[columns].to_string(index=False))
                          finding_type      srcaddr          interface_id  distinct_ports
            Network:EC2/RejectRateHigh         <NA> eni-01a1b2c3d4e5f6000            <NA>
    Recon:EC2/PortProbeUnprotectedPort 203.0.113.66                  <NA>            1038
    """
    names = list(DETECTORS) if detectors is None else _detector_list(detectors)
    scope = _Scope(vpc_cidr, threat_list, start, end)
    given: dict[str, dict] = {name: {} for name in DETECTORS}
    for key, value in thresholds.items():
        owner = next((d for d in DETECTORS if key.startswith(d + "_")
                      and key[len(d) + 1:] in DETECTORS[d].params), None)
        if owner is None:
            valid = [f"{d}_{p}" for d in DETECTORS for p in DETECTORS[d].params]
            close = difflib.get_close_matches(key, valid + list(_COMMON), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DetectError(f"{key}: unknown argument{hint}. Thresholds are named "
                              f"<detector>_<threshold>, e.g. ssh_brute_force_min_attempts; "
                              f"see helpers.detect.thresholds()")
        given[owner][key[len(owner) + 1:]] = value
    params = {name: _check_params(name, given[name], prefix=f"{name}_") for name in DETECTORS}
    table = _arrow(records)
    con = _connect(table)
    try:
        cells = render(cells_sql("flows", scope.vpc, start=scope.start, end=scope.end))
        try:
            con.execute(f"CREATE TEMP TABLE {CELLS} AS {cells}")
        except duckdb.Error as err:
            raise DetectError(f"DuckDB could not run the detector SQL: {err}") from err
        parts = []
        for name in names:
            threats = scope.threats if name == "threat_list" else ()
            stages, final = detector_stages(name, params[name], scope.vpc, threats)
            parts.append(_query(con, render(compose(stages, final))))
    finally:
        con.close()
    return _frame(parts, params, scope)


def _detector_list(detectors) -> list[str]:
    if isinstance(detectors, str):
        detectors = [detectors]
    if not isinstance(detectors, Iterable):
        raise DetectError(f"detectors must be a list of detector names ({', '.join(DETECTORS)})"
                          f", not {type(detectors).__name__}")
    names = [_check_detector(d) for d in detectors]
    return list(dict.fromkeys(names))


# --- the result frame -----------------------------------------------------------------------

_TYPES = {"dstport": pd.Int32Dtype(), "baseline": np.float64}


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=_dtype(c)) for c in COLUMNS})


def _dtype(column: str):
    if column in ("finding_type", "severity", "srcaddr", "dstaddr", "interface_id", "detail"):
        return _STRING
    return _TYPES.get(column, pd.Int64Dtype())


def _frame(results: list[pa.Table], params: dict, scope: _Scope) -> pd.DataFrame:
    """Arrow rows of the SQL → the typed, sorted findings with their ``detail``."""
    frames = [pd.DataFrame({name: _series(result.column(name), name)
                            for name in result.column_names}) for result in results]
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty()
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frame):
        rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
        order = np.lexsort((frame["interface_id"].fillna("").to_numpy(),
                            frame["dstaddr"].fillna("").to_numpy(),
                            frame["srcaddr"].fillna("").to_numpy(),
                            frame["finding_type"].to_numpy(),
                            rank.to_numpy(), frame["start"].to_numpy()))
        frame = frame.iloc[order].reset_index(drop=True)
    details = [_describe(row, params, scope) for row in frame.itertuples(index=False)]
    frame["detail"] = pd.array(details, dtype=_STRING)
    return frame[list(COLUMNS)]


def _series(column: pa.ChunkedArray, name: str) -> pd.Series:
    kind = _dtype(name)
    if kind is _STRING:
        return column.cast(pa.large_string()).to_pandas(types_mapper=lambda _: _STRING)
    if kind is np.float64:
        return pd.Series(column.cast(pa.float64()).to_numpy(zero_copy_only=False))
    arrow = pa.int32() if kind == pd.Int32Dtype() else pa.int64()
    return column.cast(arrow).to_pandas(types_mapper=lambda _: kind)


def _count(n, noun: str) -> str:
    """``1 connection``, ``2 connections``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _size(n) -> str:
    """Bytes in decimal units: 2.1 GB."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value} TB"


def _describe(row, params: dict, scope: _Scope) -> str:
    """One sentence for a finding, with its numbers."""
    kind = row.finding_type
    minutes = (row.end - row.start) // 60
    span = f"{minutes} min"
    if kind == "Recon:EC2/PortProbeUnprotectedPort":
        text = (f"{row.srcaddr} probed {row.distinct_ports:,} ports of {row.dstaddr} (busiest "
                f"window) in {span}; {row.rejects:,} of {row.records:,} probes rejected")
        return text + ("; Elasticsearch (9200/9300) reachable" if row.severity == "High"
                       else "")
    if kind == "Recon:EC2/Portscan":
        return (f"our {row.srcaddr} probed {row.distinct_ports:,} ports of {row.dstaddr} "
                f"(busiest window) in {span}: an outbound scan")
    if kind in ("UnauthorizedAccess:EC2/SSHBruteForce", "UnauthorizedAccess:EC2/RDPBruteForce"):
        service = "SSH" if "SSH" in kind else "RDP"
        actor = "; our instance is the actor" if row.severity == "High" else ""
        return (f"{row.connections:,} {service} connection attempts from {row.srcaddr} to "
                f"{row.dstaddr} in {span}, {row.rejects:,} rejected{actor}")
    if kind == "Inbound:EC2/DDoS":
        pps = row.packets / max(1, row.end - row.start)
        return (f"up to {row.sources:,} sources a window sent {row.dstaddr} {pps:,.0f} "
                f"packets/s on average over {span} ({row.packets:,} packets)")
    if kind == "Network:EC2/RejectRateHigh":
        return (f"{row.rejects / row.records:.1%} of {row.records:,} records rejected on "
                f"{row.interface_id} in {span} (normal below 5 %, abnormal above 20 %)")
    if kind == "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom":
        listed = row.srcaddr if any(ipaddress.IPv4Address(row.srcaddr) in n
                                    for n in scope.threats) else row.dstaddr
        return (f"{row.srcaddr} called {row.dstaddr} ({_count(row.connections, 'connection')}"
                f", {_size(row.bytes)} in {span}); {listed} is on the threat list")
    if kind == "Behavior:EC2/TrafficVolumeUnusual":
        window = params.get("exfiltration", {}).get("window", 600) // 60
        return (f"our {row.srcaddr} sent {_size(row.bytes)} to {row.dstaddr} in {span}; "
                f"its baseline is {_size(row.baseline)} per {window} min")
    if kind == "Inbound:EC2/TrafficSpike":
        window = params.get("traffic_spike", {}).get("window", 300)
        per_window = row.connections / max(1, (row.end - row.start) // window)
        times_more = per_window / row.baseline if row.baseline else math.inf
        return (f"{row.connections:,} accepted connections to {row.dstaddr} in {span} from up "
                f"to {row.sources:,} sources, {times_more:,.1f}x the previous mean of "
                f"{row.baseline:,.0f} per {window // 60} min")
    return FINDING_TYPES[kind].meaning


# --- one function per detector ---------------------------------------------------------------


def _single(name: str, records, given: dict, vpc_cidr, start, end, threat_list=None):
    scope = _Scope(vpc_cidr, threat_list, start, end)
    params = _check_params(name, given)
    return _run(name, records, params, scope)


def detect_port_probe(records, *, window=300, min_ports=20, vpc_cidr=None, start=None,
                      end=None) -> pd.DataFrame:
    """Inbound port probes and scans: ``Recon:EC2/PortProbeUnprotectedPort``.

    A finding is one internet source that, within ``window`` seconds, sent probe-like
    connection attempts to at least ``min_ports`` distinct ports of one of our addresses
    (probe-like: rejected, or never completed; see :mod:`helpers.detect.sql`). The lesson's
    Insights query counts distinct rejected ports per source; this is the same idea per
    window and target. Consecutive windows are one finding.

    GuardDuty's type means "an EC2 instance has an unprotected port that a known malicious
    host is probing" (Low; High for Elasticsearch's 9200/9300;
    https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html#recon-ec2-portprobeunprotectedport).
    GuardDuty raises it per port that is *not* blocked; the course raises it for the scan and
    counts the rejected probes, which show the security group at work (DESIGN §7.10). The
    severity follows GuardDuty: High when a probe reached 9200 or 9300.
    ``Recon:EC2/Portscan`` is the opposite direction (see :func:`detect_port_scan`).

    Args:
        window: seconds, a multiple of 60 (default 300: a 1,000-port nmap scan takes 2-5
            minutes).
        min_ports: distinct ports per window (default 20: background noise tries 1-3 ports a
            visit, web clients 80 and 443).
        vpc_cidr, start, end: as for :func:`detect`.
    """
    return _single("port_probe", records, {"window": window, "min_ports": min_ports},
                   vpc_cidr, start, end)


def detect_port_scan(records, *, window=300, min_ports=20, vpc_cidr=None, start=None,
                     end=None) -> pd.DataFrame:
    """Outbound port scans by one of our instances: ``Recon:EC2/Portscan``.

    A finding is one of our addresses that, within ``window`` seconds, opened connection
    attempts to at least ``min_ports`` distinct ports of one outside host. Behind a NAT
    gateway the instance is named by its own address when the records carry ``pkt-dstaddr``.

    GuardDuty: "An EC2 instance is performing outbound port scans to a remote host" (Medium;
    https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html#recon-ec2-portscan).
    It means OUR instance is the scanner, usually because it is compromised; an internet host
    scanning us is :func:`detect_port_probe`.

    Args:
        window: seconds, a multiple of 60 (default 300).
        min_ports: distinct ports of one host per window (default 20: our instances call a
            handful of services).
        vpc_cidr, start, end: as for :func:`detect`.
    """
    return _single("port_scan", records, {"window": window, "min_ports": min_ports},
                   vpc_cidr, start, end)


def detect_ssh_brute_force(records, *, window=300, min_attempts=10, vpc_cidr=None, start=None,
                           end=None) -> pd.DataFrame:
    """SSH brute force (TCP 22): ``UnauthorizedAccess:EC2/SSHBruteForce``.

    A finding is one source that opened at least ``min_attempts`` connections to port 22 of
    one address within ``window`` seconds. Traffic between two of our instances is counted
    once (on the receiving interface when ``flow-direction`` is known).

    GuardDuty: "An EC2 instance has been involved in SSH brute force attacks", generated only
    from traffic on port 22; Low when our instance is the target, High when it is the actor
    (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html#unauthorizedaccess-ec2-sshbruteforce).
    The severity here follows the same rule.

    Args:
        window: seconds, a multiple of 60 (default 300).
        min_attempts: connections per window (default 10: an admin opens a few sessions an
            hour, a password guesser one every few seconds).
        vpc_cidr, start, end: as for :func:`detect`.
    """
    return _single("ssh_brute_force", records, {"window": window, "min_attempts": min_attempts},
                   vpc_cidr, start, end)


def detect_rdp_brute_force(records, *, window=300, min_attempts=10, vpc_cidr=None, start=None,
                           end=None) -> pd.DataFrame:
    """RDP brute force (TCP 3389): ``UnauthorizedAccess:EC2/RDPBruteForce``.

    As :func:`detect_ssh_brute_force`, on port 3389. GuardDuty: "An EC2 instance has been
    involved in RDP brute force attacks"; Low when our instance is the target, High when it is
    the actor
    (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html#unauthorizedaccess-ec2-rdpbruteforce).

    Args:
        window: seconds, a multiple of 60 (default 300).
        min_attempts: connections per window (default 10).
        vpc_cidr, start, end: as for :func:`detect`.
    """
    return _single("rdp_brute_force", records, {"window": window, "min_attempts": min_attempts},
                   vpc_cidr, start, end)


def detect_ddos(records, *, window=60, min_sources=100, min_pps=1000, min_syn_ratio=0.5,
                vpc_cidr=None, start=None, end=None) -> pd.DataFrame:
    """An inbound flood of one of our addresses: the course's ``Inbound:EC2/DDoS``.

    A finding is a window in which at least ``min_sources`` internet sources sent one of our
    addresses at least ``min_pps`` packets per second on average, or in which at least
    ``min_syn_ratio`` of its inbound records are SYN-only (``tcp-flags`` 2: handshakes never
    completed, a SYN flood; needs version 3+ records). The lesson's DDoS pattern: many
    sources, one target, abnormally many packets.

    GuardDuty has no finding for being flooded: its ``Backdoor:EC2/DenialOfService.*`` types
    mean that our instance is *sending* a denial-of-service attack
    (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html#backdoor-ec2-denialofservicetcp);
    inbound DDoS is AWS Shield's domain. Severity High.

    Args:
        window: seconds, a multiple of 60 (default 60: judge a flood minute by minute).
        min_sources: distinct sources per window (default 100: the lab's busiest web minute
            has about 70 clients, a botnet hundreds).
        min_pps: inbound packets per second to the target (default 1,000: the lab's web day
            peaks near 35 and a flash crowd near 110; the HTTPS flood sends about 15,000).
        min_syn_ratio: share of SYN-only records (default 0.5; ordinary traffic has about
            one in ten, from long connections' first minute).
        vpc_cidr, start, end: as for :func:`detect`.
    """
    return _single("ddos", records, {"window": window, "min_sources": min_sources,
                                     "min_pps": min_pps, "min_syn_ratio": min_syn_ratio},
                   vpc_cidr, start, end)


def detect_reject_rate(records, *, window=300, max_ratio=0.20, min_rejects=50, vpc_cidr=None,
                       start=None, end=None) -> pd.DataFrame:
    """Interfaces with a high share of REJECT records: the course's
    ``Network:EC2/RejectRateHigh``.

    A finding is an interface whose REJECT records are more than ``max_ratio`` of its
    records in a window, with at least ``min_rejects`` of them. The lesson: a rejection rate
    below 5 % is normal, above 20 % abnormal; its alarm fires above 100 rejects a minute.
    GuardDuty has no such type. Severity Low: rejects are traffic the VPC stopped.

    Args:
        window: seconds, a multiple of 60 (default 300).
        max_ratio: share of records (default 0.20, the lesson's "abnormal").
        min_rejects: REJECT records per window (default 50: two rejected telnet attempts make
            a quiet interface 20 % rejects; this keeps them out).
        vpc_cidr, start, end: as for :func:`detect` (``vpc_cidr`` is not used).
    """
    return _single("reject_rate", records, {"window": window, "max_ratio": max_ratio,
                                            "min_rejects": min_rejects}, vpc_cidr, start, end)


def detect_threat_list(records, *, threat_list=None, window=600, min_records=1,
                       vpc_cidr=None, start=None, end=None) -> pd.DataFrame:
    """Traffic with a listed address: ``UnauthorizedAccess:EC2/MaliciousIPCaller.Custom``.

    A finding is one pair (our address, listed address) with at least ``min_records`` records
    in a window; ``srcaddr`` is the side that opened the connections. The course's list,
    ``data/threat-list.txt``, holds documentation addresses only (RFC 5737).

    GuardDuty: "An EC2 instance is making connections to an IP address on a custom threat
    list" (Medium;
    https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html#unauthorizedaccess-ec2-maliciousipcallercustom).
    Threat lists are plaintext files of addresses and CIDR blocks, one per line; GuardDuty
    applies them only to publicly routable addresses
    (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_upload-lists.html).

    Args:
        threat_list: None (the course's file), a list of IPv4 addresses or CIDR blocks, or a
            ``pathlib.Path`` to a file of them.
        window: seconds, a multiple of 60 (default 600: a beacon's calls make one finding per
            ten minutes, not one per call).
        min_records: records per window (default 1: a listed address is malicious by
            definition).
        vpc_cidr, start, end: as for :func:`detect`.
    """
    return _single("threat_list", records, {"window": window, "min_records": min_records},
                   vpc_cidr, start, end, threat_list)


def detect_exfiltration(records, *, window=600, min_bytes=200_000_000, factor=10,
                        baseline=86400, vpc_cidr=None, start=None, end=None) -> pd.DataFrame:
    """Unusual outbound volume to one host: ``Behavior:EC2/TrafficVolumeUnusual``.

    A finding is one of our addresses that, within a window, sent one outside host at least
    ``min_bytes`` bytes and at least ``factor`` times its own baseline: its mean outbound
    bytes per window over the ``baseline`` seconds before (missing windows count as 0; at
    the start of the records, over the history there is).

    GuardDuty: "An EC2 instance is generating unusually large amounts of network traffic to a
    remote host" that it has no history of sending this much to (High;
    https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html#behavior-ec2-trafficvolumeunusual).

    Args:
        window: seconds, a multiple of 60 (default 600).
        min_bytes: bytes to one host per window (default 200 MB: the acknowledgements of the
            lab's 4 GB download stay under 80 MB; an upload of 1 GB at 2-5 MB/s puts 500 MB
            or more in one window).
        factor: times the host's baseline (default 10).
        baseline: seconds of history, a multiple of ``window`` (default 86,400: one day).
        vpc_cidr, start, end: as for :func:`detect`.
    """
    return _single("exfiltration", records, {"window": window, "min_bytes": min_bytes,
                                             "factor": factor, "baseline": baseline},
                   vpc_cidr, start, end)


def detect_traffic_spike(records, *, window=300, factor=3, min_connections=500,
                         baseline=3600, vpc_cidr=None, start=None, end=None) -> pd.DataFrame:
    """A sudden surge of accepted connections: the course's ``Inbound:EC2/TrafficSpike``.

    A finding is one of our addresses that accepted, in a window, at least
    ``min_connections`` inbound connections and at least ``factor`` times its mean per window
    over the ``baseline`` seconds before (a rolling baseline). A window needs a quarter of the
    baseline period of records before it. The lesson's "갑작스러운 트래픽 급증". A DDoS
    is a spike too, so a flood is reported by both detectors. GuardDuty has no such type.
    Severity Low.

    Args:
        window: seconds, a multiple of 60 (default 300).
        factor: times the previous mean (default 3: the lab's busiest five minutes reach 1.4
            times the previous hour's mean).
        min_connections: accepted connections per window (default 500: at night three times
            a small mean is still ordinary).
        baseline: seconds of history, a multiple of ``window`` (default 3,600).
        vpc_cidr, start, end: as for :func:`detect`.
    """
    return _single("traffic_spike", records, {"window": window, "factor": factor,
                                              "min_connections": min_connections,
                                              "baseline": baseline}, vpc_cidr, start, end)


# --- SQL for Athena ---------------------------------------------------------------------------


def to_sql(detector: str, *, dialect: str = "duckdb", table: str = "flows", vpc_cidr=None,
           threat_list=None, start=None, end=None, hourly: bool = True, pretty: bool = True,
           **thresholds) -> str:
    """A detector's SQL, for DuckDB or for Athena's partitioned flow-log table.

    Args:
        detector: a name of :data:`helpers.detect.DETECTORS`, e.g. ``"port_probe"``.
        dialect: ``"duckdb"`` or ``"athena"`` (Trino SQL).
        table: the table the SQL reads, e.g. the one :func:`helpers.insights.athena_ddl`
            creates (``vpc_flow_logs``, or ``database.table``).
        vpc_cidr, threat_list, start, end: as for :func:`detect`. For Athena, ``start`` and
            ``end`` also filter the partition columns (``year``, ``month``, ``day`` and, when
            ``hourly``, ``hour``), so Athena reads only those folders.
        hourly: the table has the ``hour`` partition (``PerHourPartition``).
        pretty: one clause per line.
        **thresholds: the detector's thresholds (``window=600``, ``min_ports=30``, ...).

    Raises:
        DetectError: an unknown detector, dialect or threshold, or a bad table name.

    >>> sql = to_sql("ssh_brute_force", dialect="athena", table="vpc_flow_logs",
    ...              start="2021-12-20T00:00:00Z", end="2021-12-20T06:00:00Z")
    >>> "FROM vpc_flow_logs" in sql, "hour <= 6" in sql
    (True, True)
    """
    name = _check_detector(detector)
    if dialect not in DIALECTS:
        raise DetectError(f"dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
    if not isinstance(table, str) or not _TABLE.fullmatch(table):
        raise DetectError(f"table must be a table name (letters, digits, _; optionally "
                          f"database.table), not {table!r}")
    if not isinstance(hourly, bool) or not isinstance(pretty, bool):
        raise DetectError("hourly and pretty must be True or False")
    scope = _Scope(vpc_cidr, threat_list, start, end)
    params = _check_params(name, thresholds)
    threats = scope.threats if name == "threat_list" else ()
    stages, final = detector_stages(name, params, scope.vpc, threats)
    cells = cells_sql(table, scope.vpc, start=scope.start, end=scope.end,
                      partitions=dialect != "duckdb", hourly=hourly)
    return render(compose([(CELLS, cells), *stages], final), dialect, pretty=pretty)


# --- Logs Insights equivalents ----------------------------------------------------------------


def _threat_insights() -> str:
    """The threat-list detector in Logs Insights, for the course's list."""
    blocks = [str(n) for n in threat_networks()]
    terms = " or ".join(f'isIpv4InSubnet({side}, "{block}")'
                        for block in blocks for side in ("srcAddr", "dstAddr"))
    return (f"filter {terms}\n"
            "| stats count(*) as records, sum(bytes) as bytes "
            "by bin(10m) as window, srcAddr, dstAddr\n"
            "| sort window")


for _name, _function in (("port_probe", detect_port_probe), ("port_scan", detect_port_scan),
                         ("ssh_brute_force", detect_ssh_brute_force),
                         ("rdp_brute_force", detect_rdp_brute_force), ("ddos", detect_ddos),
                         ("reject_rate", detect_reject_rate),
                         ("threat_list", detect_threat_list),
                         ("exfiltration", detect_exfiltration),
                         ("traffic_spike", detect_traffic_spike)):
    # ``insights``: the detector as a CloudWatch Logs Insights query over default-format
    # records (default thresholds, the lab's VPC), or None where the language cannot say it
    # (a rolling baseline needs window functions). Insights discovers no tcp-flags, so its
    # connection attempts are cruder than the SQL's.
    _function.insights = DETECTORS[_name].insights
detect_threat_list.insights = _threat_insights()
