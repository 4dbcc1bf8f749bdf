"""Self-check questions of notebook 06 (모니터링 최적화 및 비용 관리).

The settings each question states are the constants below, so the notebook's text and the
computed answers cannot drift apart: the notebook prints them from here.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from helpers import cost, flowlogs, traffic
from helpers.flowlogs import delivery
from helpers.monitoring import alarms, evaluate, metrics
from helpers.selfcheck.core import Question, as_number, as_text, register
from helpers.selfcheck.notebook03 import DAY

__all__ = ["ALARM_DAY", "CLASS", "CONFIGURATIONS", "MONTHLY_TB", "THRESHOLD",
           "configuration_costs", "rejects_per_minute"]

CLASS = {"students": 30, "hours": 3, "seed": 1}
"""06-1: a class of 30, each running lab 2's traffic for 3 hours in their own lab VPC."""

MONTHLY_TB = 25
"""06-3: TB of flow logs a month delivered to CloudWatch Logs."""

ALARM_DAY = {key: DAY[key] for key in ("scenarios", "seed", "duration", "end")}
"""06-4 and the notebook's alarm section: notebook 03's simulated day."""

THRESHOLD = 15
"""06-4: the High-Reject-Rate threshold to evaluate (rejects per minute)."""

CONFIGURATIONS = {
    "A": {"traffic_type": "REJECT", "log_format": "default", "destination": "cloud-watch-logs"},
    "B": {"traffic_type": "ALL", "log_format": "default", "destination": "cloud-watch-logs"},
    "C": {"traffic_type": "ACCEPT", "log_format": "lesson", "destination": "s3"},
    "D": {"traffic_type": "ACCEPT", "log_format": "default", "destination": "s3"},
    "E": {"traffic_type": "ALL", "log_format": "default", "destination": "s3",
          "file_format": "parquet"},
}
"""06-2: flow-log configurations to choose from."""
_WORKLOAD = {"flows_per_second": 200, "retention_days": 30}


@lru_cache(maxsize=1)
def _class_cost() -> float:
    lab = traffic.default_topology()
    records = traffic.generate(topology=lab, seed=CLASS["seed"],
                               duration=f"{CLASS['hours']}h")
    gb = delivery.ingested_bytes(records, flowlogs.DEFAULT_FORMAT) / 2**30
    nat = metrics.nat_metrics(records, lab)
    processed = nat[nat["metric"].isin(["BytesInFromSource", "BytesInFromDestination"])]
    nat_gb = processed["value"].sum() / 2**30
    price = cost.prices().set_index("item")["price_usd"]
    delivery_price = cost.tiers("cwl_vended_delivery")[0][2]
    per_student = (gb * delivery_price + CLASS["hours"] * price["nat_gateway_hour"]
                   + nat_gb * price["nat_gateway_data"])
    return float(per_student * CLASS["students"])


def configuration_costs() -> dict[str, float]:
    """06-2: the monthly cost (USD) of each configuration for the example workload."""
    return {name: float(cost.estimate_cost(**_WORKLOAD, **settings)["cost_usd"].iloc[-1])
            for name, settings in CONFIGURATIONS.items()}


def _keeps_exfiltration(settings: dict) -> bool:
    """Exfiltration is a large ACCEPTed upload: it needs ACCEPT records with their bytes."""
    fields = flowlogs.parse_format(cost.FORMATS.get(settings["log_format"],
                                                    settings["log_format"]))
    return settings["traffic_type"] in ("ALL", "ACCEPT") and "bytes" in fields


def _cheapest_detecting() -> str:
    costs = configuration_costs()
    keeping = [name for name, settings in CONFIGURATIONS.items()
               if _keeps_exfiltration(settings)]
    return min(keeping, key=costs.get)


def _why_configuration(given: str, expected: str) -> str | None:
    settings = CONFIGURATIONS.get(given.upper())
    if settings is None:
        return f"{', '.join(CONFIGURATIONS)} 중 하나를 고르세요."
    if settings["traffic_type"] == "REJECT":
        return "REJECT만 기록하면 허용된 업로드(유출)는 로그에 남지 않습니다."
    if not _keeps_exfiltration(settings):
        return "이 형식에는 bytes 필드가 없어 얼마나 보냈는지 알 수 없습니다."
    costs = configuration_costs()
    return (f"탐지는 되지만 더 싼 구성이 있습니다({given.upper()}: 월 "
            f"${costs[given.upper()]:,.2f}).")


def _tier_answer() -> float:
    return cost.tiered_cost(MONTHLY_TB * 1024, cost.tiers("cwl_vended_delivery"))


def _why_tier(given: float, expected: float) -> str | None:
    flat = MONTHLY_TB * 1024 * cost.tiers("cwl_vended_delivery")[0][2]
    if abs(given - flat) <= 0.01 * flat:
        return "모든 GB에 첫 구간 가격을 곱했습니다. 10 TB를 넘는 부분은 다음 구간 가격입니다."
    if abs(given - expected * 1000 / 1024) <= 0.01 * expected:
        return "1 TB = 1,024 GB로 계산하세요(AWS 요금표의 단위)."
    return None


@lru_cache(maxsize=1)
def rejects_per_minute():
    """The reject-counting metric filter's per-minute datapoints on notebook 03's day."""
    lab = traffic.default_topology()
    records = traffic.generate(ALARM_DAY["scenarios"], topology=lab, seed=ALARM_DAY["seed"],
                               duration=ALARM_DAY["duration"])
    flow_log = flowlogs.FlowLog("fl-0a1b2c3d4e5f60000", lab.vpc_id, "ALL",
                                flowlogs.DEFAULT_FORMAT, "cloud-watch-logs",
                                log_group="/aws/vpc/flowlogs")
    events = metrics.log_events(records, flow_log, lab)
    return alarms.rejects_filter(flow_log.log_group).datapoints(events)


def notifications(threshold: float) -> int:
    """How many ALARM notifications High-Reject-Rate sends on that day at this threshold."""
    spec = alarms.lesson_alarms("nat-0", "/aws/vpc/flowlogs")[3]
    timeline = evaluate.evaluate_alarm(replace(spec, threshold=threshold), rejects_per_minute(),
                                       end=ALARM_DAY["end"])
    return int((timeline.transitions["new_state"] == "ALARM").sum())


register({
    "06-1": Question("delivery.ingested_bytes, cost.tiers('cwl_vended_delivery'), NAT 지표의 "
                     "BytesInFromSource + BytesInFromDestination, 그리고 prices()의 NAT 요금을 "
                     "쓰세요.", _class_cost, as_number, tolerance=0.01),
    "06-2": Question("유출은 허용(ACCEPT)된 큰 업로드입니다. 어떤 레코드와 필드가 있어야 "
                     "보일까요? 그중 가장 싼 구성은?", _cheapest_detecting,
                     lambda a: as_text(a).upper(), explain=_why_configuration),
    "06-3": Question("cost.tiered_cost와 cost.tiers('cwl_vended_delivery')를 쓰세요.",
                     _tier_answer, as_number, tolerance=0.005, explain=_why_tier),
    "06-4": Question("evaluate.evaluate_alarm에 threshold만 바꾼 경보를 넣고 ALARM으로 바뀐 "
                     "횟수를 세세요.", lambda: notifications(THRESHOLD),
                     lambda a: int(as_number(a))),
})
