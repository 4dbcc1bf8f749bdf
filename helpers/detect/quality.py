"""How good the detectors are, measured against the traffic generator's ground truth.

:func:`helpers.traffic.generate` labels every record with the scenario that made it. An
*incident* is one injected attack: the records of one attack scenario that share a *key*
(the attacking source, our attacking instance, the attacked address, ...), split where the key
is silent for more than ``gap`` seconds. Each detector has one kind of key:

============== ===================================== =========================================
key            incident's key                        finding's key
============== ===================================== =========================================
attacker       source of the inbound records          ``srcaddr``
actor          our address sending outbound records   ``srcaddr``
               (a NAT gateway's own address excluded)
target         our address receiving inbound records  ``dstaddr``
interface      interface of the REJECT records        ``interface_id``
peer           the outside address of the records     ``srcaddr`` or ``dstaddr``
============== ===================================== =========================================

A finding *matches* an incident when their keys are equal and their times overlap (the
finding's window within ``tolerance`` seconds of the incident's first and last record).

- **True positive**: a finding that matches an incident of a scenario that *explains* it
  (:data:`TRUTH`: the detector's own attack, and for two detectors more: a DDoS is also a
  traffic spike, and any rejected attack raises an interface's reject rate).
- **Precision** = true positives / findings (NaN when there are no findings).
- **Recall** = incidents of the detector's own attack that some finding matches / those
  incidents (NaN when the records hold none).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.detect.catalog import DETECTORS
from helpers.detect.detectors import _networks, detect
from helpers.errors import DetectError

__all__ = ["LESSON_ATTACKS", "TRUTH", "Truth", "evaluate", "incidents"]

LESSON_ATTACKS = ("port_scan_inbound", "port_scan_outbound", "ssh_brute_force",
                  "rdp_brute_force", "ddos", "data_exfiltration", "malicious_ip_caller",
                  "traffic_spike")
"""The attack scenarios of the lesson, one or more for each detector."""


@dataclass(frozen=True)
class Truth:
    """What a detector should find (``kinds``), what makes its findings true
    (``explained_by``, default ``kinds``) and how findings and incidents are matched."""

    kinds: tuple[str, ...]
    key: str
    explained_by: tuple[str, ...] = ()

    @property
    def explaining(self) -> tuple[str, ...]:
        return self.explained_by or self.kinds


TRUTH: dict[str, Truth] = {
    "port_probe": Truth(("port_scan_inbound",), "attacker"),
    "port_scan": Truth(("port_scan_outbound",), "actor"),
    "ssh_brute_force": Truth(("ssh_brute_force",), "attacker"),
    "rdp_brute_force": Truth(("rdp_brute_force",), "attacker"),
    "ddos": Truth(("ddos",), "target"),
    # the lesson's example of a high reject rate is a port scan; any rejected attack counts
    "reject_rate": Truth(("port_scan_inbound",), "interface", LESSON_ATTACKS),
    "threat_list": Truth(("malicious_ip_caller",), "peer"),
    "exfiltration": Truth(("data_exfiltration",), "actor"),
    # a DDoS is a traffic spike too
    "traffic_spike": Truth(("traffic_spike",), "target", ("traffic_spike", "ddos")),
}
"""The ground truth of every detector."""

_FINDING_KEY = {"attacker": "srcaddr", "actor": "srcaddr", "target": "dstaddr",
                "interface": "interface_id"}


def _inside(addresses: pd.Series, networks) -> np.ndarray:
    """Whether each address is one of ours (computed once per distinct address)."""
    values = addresses.astype(object).to_numpy()
    unique = pd.unique(values)
    member = {}
    for a in unique:
        try:
            member[a] = any(ipaddress.ip_address(a) in n for n in networks)
        except (TypeError, ValueError):
            member[a] = False
    return np.array([member[a] for a in values], dtype=bool)


def incidents(records: pd.DataFrame, scenarios=LESSON_ATTACKS, *, key: str | None = None,
              vpc_cidr=None, gap: int = 900) -> pd.DataFrame:
    """The injected incidents: one row per scenario, key and burst of activity.

    Args:
        records: labelled records of :func:`helpers.traffic.generate`.
        scenarios: the scenarios to look at (default: the lesson's attacks).
        key: ``attacker``, ``actor``, ``target``, ``interface`` or ``peer``; None uses the key
            of the detector that finds each scenario (:data:`TRUTH`).
        vpc_cidr: our addresses, as for :func:`helpers.detect.detect`.
        gap: seconds of silence that end an incident (default 900).

    Returns:
        Columns ``scenario``, ``key_kind``, ``key``, ``start``, ``end`` (epoch seconds of
        the first record's start and the last record's end) and ``records``.
    """
    _check_records(records)
    networks = _networks(vpc_cidr)
    natural = {kind: truth.key for truth in TRUTH.values() for kind in truth.kinds}
    traffic = records[records["action"].notna()]
    forwarded = traffic["pkt_dstaddr"].notna() & (traffic["pkt_dstaddr"] != traffic["dstaddr"]) \
        if "pkt_dstaddr" in traffic.columns else pd.Series(False, index=traffic.index)
    nat = set(traffic.loc[forwarded.fillna(False).to_numpy(bool), "dstaddr"])
    parts = []
    for scenario in scenarios:
        kind = key or natural.get(scenario, "attacker")
        part = _keyed(traffic[traffic["label"] == scenario], kind, networks, nat)
        if len(part):
            parts.append(_bursts(part, gap).assign(scenario=scenario, key_kind=kind))
    if not parts:
        return pd.DataFrame({"scenario": [], "key_kind": [], "key": [], "start": [],
                             "end": [], "records": []})
    found = pd.concat(parts, ignore_index=True)
    return found[["scenario", "key_kind", "key", "start", "end", "records"]]


def _keyed(r: pd.DataFrame, kind: str, networks, nat: set) -> pd.DataFrame:
    src_in = _inside(r["srcaddr"], networks)
    dst_in = _inside(r["dstaddr"], networks)
    src = r["srcaddr"].astype(object).to_numpy()
    dst = r["dstaddr"].astype(object).to_numpy()
    if kind == "attacker":
        keep, key = ~src_in, src
    elif kind == "actor":
        keep, key = src_in & ~dst_in & ~np.isin(src, list(nat)), src
    elif kind == "target":
        keep, key = ~src_in & dst_in, dst
    elif kind == "interface":
        keep, key = (r["action"] == "REJECT").to_numpy(bool), \
            r["interface_id"].astype(object).to_numpy()
    elif kind == "peer":
        keep, key = ~src_in | ~dst_in, np.where(~src_in, src, dst)
    else:
        raise DetectError(f"key must be attacker, actor, target, interface or peer, not "
                          f"{kind!r}")
    return pd.DataFrame({"key": key[keep],
                         "start": r["start"].to_numpy(np.int64)[keep],
                         "end": r["end"].to_numpy(np.int64)[keep]})


def _bursts(part: pd.DataFrame, gap: int) -> pd.DataFrame:
    """Records of one key grouped into bursts separated by more than ``gap`` seconds."""
    part = part.sort_values(["key", "start"], kind="stable").reset_index(drop=True)
    reach = part.groupby("key")["end"].cummax()
    before = reach.groupby(part["key"]).shift()
    new = before.isna() | (part["start"] - before > gap)
    burst = new.cumsum()
    return part.groupby(burst).agg(key=("key", "first"), start=("start", "min"),
                                   end=("end", "max"), records=("start", "size")
                                   ).reset_index(drop=True)


def _check_records(records) -> None:
    if not isinstance(records, pd.DataFrame):
        raise DetectError(f"records must be a DataFrame of labelled records "
                          f"(helpers.traffic.generate), not {type(records).__name__}")
    missing = [c for c in ("label", "start", "end", "srcaddr", "dstaddr", "action",
                           "interface_id") if c not in records.columns]
    if missing:
        raise DetectError(f"records: missing column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)}; quality is measured on the generator's "
                          f"records, whose 'label' names the scenario of each record")


def _matches(found: pd.DataFrame, truth: pd.DataFrame, kind: str, tolerance: int):
    """Pairs (finding row, incident row) with equal keys and overlapping times."""
    f = found.reset_index(drop=True).assign(finding=lambda x: np.arange(len(x)))
    t = truth.reset_index(drop=True).assign(incident=lambda x: np.arange(len(x)))
    if kind == "peer":
        keyed = pd.concat([f.assign(key=f["srcaddr"]), f.assign(key=f["dstaddr"])])
    else:
        keyed = f.assign(key=f[_FINDING_KEY[kind]])
    keyed = keyed.dropna(subset=["key"]).astype({"key": object})
    pairs = keyed.merge(t.astype({"key": object}), on="key", suffixes=("", "_incident"))
    overlap = (pairs["start"] <= pairs["end_incident"] + tolerance) & \
        (pairs["end"] > pairs["start_incident"] - tolerance)
    return pairs.loc[overlap, ["finding", "incident"]]


def evaluate(records: pd.DataFrame, findings: pd.DataFrame | None = None, *, vpc_cidr=None,
             threat_list=None, gap: int = 900, tolerance: int = 60,
             **thresholds) -> pd.DataFrame:
    """Precision and recall of every detector on labelled records (see the module's text
    for what a true positive and a detected incident are).

    Args:
        records: records of :func:`helpers.traffic.generate` (with its ``label`` column).
        findings: the findings to judge; None runs :func:`helpers.detect.detect` with
            ``vpc_cidr``, ``threat_list`` and ``thresholds``.
        gap: seconds of silence that end an incident (default 900).
        tolerance: seconds a finding's window may lie beside its incident (default 60, the
            cells' width).

    Returns:
        One row per detector: ``detector``, ``finding_type``, ``findings``,
        ``true_positives``, ``precision``, ``incidents``, ``detected``, ``recall``.

    >>> from helpers import traffic
    >>> records = traffic.generate(["web_baseline", "ssh_brute_force"], seed=5, duration="3h")
    >>> scores = evaluate(records).set_index("detector")
    >>> int(scores.loc["ssh_brute_force", "findings"]) > 0
    True
    >>> scores.loc["ssh_brute_force", ["precision", "recall"]].tolist()
    [1.0, 1.0]
    """
    _check_records(records)
    if findings is None:
        findings = detect(records, vpc_cidr=vpc_cidr, threat_list=threat_list, **thresholds)
    elif not isinstance(findings, pd.DataFrame) or "finding_type" not in findings.columns:
        raise DetectError("findings must be the DataFrame helpers.detect.detect() returns")
    rows = []
    for name, detector in DETECTORS.items():
        truth = TRUTH[name]
        found = findings[findings["finding_type"] == detector.finding_type]
        explaining = incidents(records, truth.explaining, key=truth.key, vpc_cidr=vpc_cidr,
                               gap=gap)
        own = explaining[explaining["scenario"].isin(truth.kinds)]
        true_positives = _matches(found, explaining, truth.key, tolerance)["finding"].nunique()
        detected = _matches(found, own, truth.key, tolerance)["incident"].nunique()
        rows.append({
            "detector": name, "finding_type": detector.finding_type, "findings": len(found),
            "true_positives": true_positives,
            "precision": true_positives / len(found) if len(found) else np.nan,
            "incidents": len(own), "detected": detected,
            "recall": detected / len(own) if len(own) else np.nan,
        })
    return pd.DataFrame(rows)
