"""What a flow log's settings cost in detections: the two discussion topics, computed.

- :func:`coverage` (토론 1, 모든 트래픽을 로깅해야 할까?): for each configuration, the records
  it keeps (traffic type and format, as :func:`as_logged` filters them), its monthly cost from
  :func:`helpers.cost.estimate_cost`, and the injected attacks the detections still find on
  what was logged.
- :func:`detection_delay` (토론 2, 실시간 대응 vs 사후 분석): the first minute at which the
  detections can see an attack, given the aggregation interval (records are written when
  their interval closes) and the delivery delay of the destination. AWS: "The flow log
  service typically delivers logs to CloudWatch Logs in about 5 minutes and to Amazon S3 in
  about 10 minutes. However, log delivery is on a best effort basis"
  (https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html#flow-logs-aggregration-interval).

Pure computation over generated records (with their ``label`` column); no AWS calls.
"""

from __future__ import annotations

import pandas as pd

from helpers import cost
from helpers.detect.detectors import detect
from helpers.detect.quality import evaluate
from helpers.errors import DetectError
from helpers.flowlogs.fields import parse_format

__all__ = ["TYPICAL_DELIVERY", "as_logged", "coverage", "detection_delay"]

TYPICAL_DELIVERY = {"cloud-watch-logs": 300, "s3": 600}
"""Seconds from the end of an aggregation interval to delivery, typically (best effort)."""


def as_logged(records: pd.DataFrame, traffic_type: str = "ALL", log_format: str = "default"
              ) -> pd.DataFrame:
    """The records a flow log with this traffic type and format keeps, with only its fields.

    NODATA and SKIPDATA records carry no action and belong to ALL only. The ``label`` column
    (the generator's ground truth) is kept for evaluation.
    """
    if traffic_type not in ("ALL", "ACCEPT", "REJECT"):
        raise DetectError(f"traffic_type must be ALL, ACCEPT or REJECT, not {traffic_type!r}")
    fields = parse_format(cost.FORMATS.get(log_format, log_format))
    columns = [f.replace("-", "_") for f in fields]
    missing = [c for c in columns if c not in records.columns]
    if missing:
        raise DetectError(f"records: missing column(s) {', '.join(missing)} of the format")
    kept = records if traffic_type == "ALL" else records[
        (records["action"] == traffic_type).fillna(False)]
    extra = ["label"] if "label" in records.columns else []
    return kept[columns + extra]


def coverage(records: pd.DataFrame, configurations: dict[str, dict], *,
             attacks: tuple[str, ...] | None = None, records_per_day: float | None = None,
             **cost_options) -> pd.DataFrame:
    """Monthly cost and the attacks still detected, for each flow-log configuration.

    Args:
        records: a generated day (any span) of the lesson's traffic, with ``label``.
        configurations: name → ``{"traffic_type", "log_format", "destination",
            "file_format"}`` (missing keys take :func:`helpers.cost.estimate_cost`'s defaults).
        attacks: the scenarios to report (default: every lesson attack in the records).
        records_per_day: the volume to price (records a day of all traffic); default the
            records' own rate scaled to a day. The shares kept are the records' own.
        cost_options: more arguments for the cost model (``retention_days``, ``region``, ...).

    Returns:
        One row per configuration: ``records`` kept, ``share`` of all records,
        ``cost_usd`` a month, then one column per attack scenario: True when a detector finds
        every incident of it in the logged records, False when it finds none or only some,
        and False for every attack when the format lacks what the detections need.
    """
    span = int(records["end"].max()) - int(records["start"].min())
    per_day = records_per_day or len(records) * 86400 / max(span, 1)
    scores = evaluate(records)
    attacks = attacks or tuple(
        scenario for scenario in _own_scenarios(scores) if (records["label"] == scenario).any())
    rows = []
    for name, settings in configurations.items():
        logged = as_logged(records, settings.get("traffic_type", "ALL"),
                           settings.get("log_format", "default"))
        monthly = cost.estimate_cost(records_per_day=per_day,
                                     traffic_share=len(logged) / len(records),
                                     **settings, **cost_options)["cost_usd"].iloc[-1]
        found = _attacks_found(records, logged, attacks)
        rows.append({"configuration": name, "records": len(logged),
                     "share": len(logged) / len(records), "cost_usd": monthly, **found})
    return pd.DataFrame(rows)


_ATTACK_DETECTOR = {
    "port_scan_inbound": "port_probe", "port_scan_outbound": "port_scan",
    "ssh_brute_force": "ssh_brute_force", "rdp_brute_force": "rdp_brute_force",
    "ddos": "ddos", "data_exfiltration": "exfiltration",
    "malicious_ip_caller": "threat_list", "traffic_spike": "traffic_spike",
}


def _own_scenarios(scores: pd.DataFrame) -> list[str]:
    named = set(scores["detector"])
    return [s for s, d in _ATTACK_DETECTOR.items() if d in named]


def _attacks_found(records: pd.DataFrame, logged: pd.DataFrame, attacks) -> dict[str, bool]:
    """Attack → whether its detector finds every incident of it in what was logged."""
    try:
        findings = detect(logged)
    except DetectError:  # the format lacks fields the detections need
        return dict.fromkeys(attacks, False)
    scores = evaluate(records, findings).set_index("detector")
    return {attack: bool(scores.loc[_ATTACK_DETECTOR[attack], "recall"] == 1.0)
            for attack in attacks}


def detection_delay(records: pd.DataFrame, attack: str, *, aggregation: int, delivery: int,
                    step: int = 60) -> int | None:
    """Seconds from an attack's first packet to the first minute its detector can see it.

    A record is published when its capture window closes, at most ``aggregation`` seconds
    after the window's first packet (its ``start``), and arrives ``delivery`` seconds later.
    The attack's detector is run on what has arrived, minute by minute (a binary search:
    what has arrived only grows); a finding that began after the attack did counts. Returns
    None when it is never detected.

    Args:
        records: generated records holding one incident of ``attack`` and its baseline
            (the attack's detector should raise nothing on the baseline alone).
        attack: a lesson attack scenario (``port_scan_inbound``, ``ssh_brute_force``, ...).
        aggregation: the flow log's maximum aggregation interval, 60 or 600 seconds.
        delivery: seconds of delivery delay (:data:`TYPICAL_DELIVERY`).
    """
    if attack not in _ATTACK_DETECTOR:
        raise DetectError(f"attack must be one of {', '.join(_ATTACK_DETECTOR)}, not {attack!r}")
    if aggregation not in (60, 600):
        raise DetectError(f"aggregation must be 60 or 600 seconds, not {aggregation!r}")
    detector = _ATTACK_DETECTOR[attack]
    mine = records[records["label"] == attack]
    if mine.empty:
        raise DetectError(f"records: no {attack!r} records to measure")
    began = int(mine["start"].min())
    published = (records["start"].astype("int64") + aggregation).clip(
        lower=records["end"].astype("int64"))
    arrives = published + delivery

    def seen(t: int) -> bool:
        found = detect(records[arrives <= t], detectors=[detector])
        return bool((found["end"] > began).any())

    low, high = began // step, (int(arrives.max()) + step) // step
    if not seen(high * step):
        return None
    while low < high:
        middle = (low + high) // 2
        if seen(middle * step):
            high = middle
        else:
            low = middle + 1
    return high * step - began
