"""Lab 4 (경보와 비용): alarms for stated goals, checked by evaluating them; a month's cost.

Notebooks 03 and 06. Each student gets their own VPC's metrics and records:

- ``normal``: the NAT gateway's metrics (``AWS/NATGateway``, per minute) of hours of lab 2's
  traffic; ``incident``: the same VPC's metrics when the private instance exfiltrates;
- ``log_metrics``: the log group's ``IncomingLogEvents`` and ``IncomingBytes`` (``AWS/Logs``)
  until the flow log stops delivering;
- ``records``, ``hours`` and ``goal``: the records of ``normal`` and a flow-log configuration
  whose monthly cost is asked.

The questions:

1. ``nat_upload_alarm(normal)``: an alarm on the NAT gateway's upload to the internet whose
   threshold is twice the largest 5-minute sum of ``BytesOutToDestination`` in ``normal``.
2. ``logs_missing_alarm(log_metrics)``: an alarm that goes to ALARM within 15 minutes of the
   flow log stopping, and never while events arrive.
3. ``monthly_cost(records, hours, goal)``: :func:`helpers.cost.estimate_cost` of the records'
   daily rate under ``goal``.

Alarms are :class:`helpers.monitoring.AlarmSpec` values; the checks run them through
:func:`helpers.monitoring.evaluate.evaluate_alarm`, as CloudWatch would evaluate them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from helpers import cost, flowlogs, traffic
from helpers.errors import CourseError
from helpers.grading.core import (
    Mismatch,
    answer_key,
    as_number,
    call,
    close,
    lab_topology,
    make_records,
    resolve_seed,
)
from helpers.monitoring import AlarmSpec, evaluate, metrics

__all__ = ["LabData", "MISSING_WITHIN", "check_cost", "check_logs_missing_alarm",
           "check_nat_alarm", "monthly_cost", "nat_threshold_range", "student_data"]

LAB = "lab4"
NAT_METRIC = "BytesOutToDestination"
MISSING_WITHIN = 15
"""Minutes within which the logs-missing alarm must go to ALARM after the last event."""
_SETTLE = 30  # minutes of data before the logs-missing alarm is evaluated (it "exists" then)
_GOALS = [
    {"destination": "cloud-watch-logs"},
    {"destination": "s3", "file_format": "plain-text"},
    {"destination": "s3", "file_format": "parquet"},
]


@dataclass(frozen=True)
class LabData:
    """One student's (or one hidden test's) data for lab 4."""

    normal: pd.DataFrame
    incident: pd.DataFrame
    log_metrics: pd.DataFrame
    records: pd.DataFrame
    hours: int
    goal: dict
    nat_gateway_id: str
    log_group: str
    stop: pd.Timestamp


@lru_cache(maxsize=4)
def _data(seed: int) -> LabData:
    topology = lab_topology(seed)
    rng = np.random.default_rng([seed, 404])
    hours = 2 + seed % 3
    duration = f"{hours}h"
    records = make_records(seed, traffic.DEFAULT_SCENARIOS, duration, topology=topology, salt=1)
    incident = make_records(seed, (*traffic.DEFAULT_SCENARIOS, "data_exfiltration"), duration,
                            topology=topology, salt=2)
    log_group = f"/aws/vpc/flowlogs-{seed % 65536:04x}"
    flow_log = flowlogs.FlowLog("fl-0a1b2c3d4e5f60000", topology.vpc_id, "ALL",
                                flowlogs.DEFAULT_FORMAT, "cloud-watch-logs", log_group=log_group)
    first = int(records["start"].min())
    stop = first + 60 * int(rng.integers(hours * 20, hours * 40))
    delivered = records[records["start"] < stop]
    goal = dict(_GOALS[int(rng.integers(len(_GOALS)))],
                retention_days=int(rng.choice([7, 30, 90, 365])),
                aggregation=int(rng.choice([60, 600])))
    return LabData(
        normal=metrics.nat_metrics(records, topology),
        incident=metrics.nat_metrics(incident, topology),
        log_metrics=metrics.log_group_metrics(delivered, flow_log, topology),
        records=records.drop(columns="label"), hours=hours, goal=goal,
        nat_gateway_id=topology.nat_gateway_id, log_group=log_group,
        stop=pd.Timestamp(stop, unit="s", tz="UTC"))


def student_data(student_id=None, *, seed=None) -> LabData:
    """A student's data (copies: changing them changes nothing for the checks)."""
    data = _data(resolve_seed(LAB, student_id, seed))
    return LabData(data.normal.copy(), data.incident.copy(), data.log_metrics.copy(),
                   data.records.copy(), data.hours, dict(data.goal), data.nat_gateway_id,
                   data.log_group, data.stop)


# --- answer keys ------------------------------------------------------------------------------


def _upload(frame: pd.DataFrame) -> pd.Series:
    rows = frame[frame["metric"] == NAT_METRIC]
    return pd.Series(rows["value"].to_numpy(dtype=float),
                     index=pd.DatetimeIndex(rows["timestamp"]))


@answer_key
def nat_threshold_range(normal: pd.DataFrame) -> tuple[float, float]:
    """Twice the largest 5-minute upload: with clock-aligned periods, and with sliding ones."""
    upload = _upload(normal)
    aligned = upload.resample("5min").sum().max()
    sliding = upload.rolling("5min").sum().max()
    return 2 * float(aligned), 2 * float(sliding)


@answer_key
def monthly_cost(records: pd.DataFrame, hours: float, goal: dict) -> float:
    """The month's flow-log cost in USD of the records' daily rate under ``goal``."""
    per_day = len(records) * 24 / hours
    table = cost.estimate_cost(records_per_day=per_day, measured_aggregation=60, **goal)
    return float(table["cost_usd"].iloc[-1])


# --- checks ---------------------------------------------------------------------------------


def _alarm(value, name: str) -> AlarmSpec:
    if not isinstance(value, AlarmSpec):
        raise Mismatch(f"`{name}`는 AlarmSpec을 돌려줘야 하는데 {type(value).__name__} "
                       "값입니다.")
    return value


def _evaluate(alarm: AlarmSpec, frame: pd.DataFrame, name: str, **span):
    try:
        return evaluate.evaluate_alarm(alarm, frame, **span)
    except CourseError as err:
        raise Mismatch(f"`{name}`의 경보를 평가할 수 없습니다: {err}") from None


def _dimension(alarm: AlarmSpec, name: str, value: str, where: str) -> None:
    if (name, value) not in alarm.dimensions:
        raise Mismatch(f"경보의 차원(dimensions)에 ({name!r}, {where})가 없습니다. 값은 "
                       "데이터의 dimension_value 열에 있습니다.")


def check_nat_alarm(fn, student_id=None, *, seed=None) -> None:
    """``fn(normal)`` is the NAT upload alarm of the goal."""
    data = student_data(student_id, seed=seed)
    alarm = _alarm(call(fn, "nat_upload_alarm", data.normal.copy()), "nat_upload_alarm")
    wrong = []
    if alarm.namespace != "AWS/NATGateway":
        wrong.append(f"네임스페이스 {alarm.namespace!r}")
    if alarm.metric != NAT_METRIC:
        wrong.append(f"지표 {alarm.metric!r}")
    if alarm.statistic != "Sum":
        wrong.append(f"통계 {alarm.statistic!r}")
    if alarm.period != 300:
        wrong.append(f"기간 {alarm.period}초")
    if alarm.comparison not in ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold"):
        wrong.append(f"비교 연산자 {alarm.comparison!r}")
    if alarm.m != 1:
        wrong.append(f"경보를 발생시킬 데이터 포인트 {alarm.m}")
    if wrong:
        raise Mismatch(f"`nat_upload_alarm`의 설정이 목표와 다릅니다: {', '.join(wrong)}.")
    _dimension(alarm, "NatGatewayId", data.nat_gateway_id, "NAT 게이트웨이 ID")
    low, high = nat_threshold_range(data.normal)
    if not low * 0.99 <= alarm.threshold <= high * 1.01:
        raise Mismatch("`nat_upload_alarm`의 임계값이 맞지 않습니다. normal에서 5분 단위 "
                       f"{NAT_METRIC} 합의 최댓값을 구해 두 배로 하세요.")
    if (_evaluate(alarm, data.normal, "nat_upload_alarm").evaluations["state"] == "ALARM").any():
        raise Mismatch("`nat_upload_alarm`이 평소 트래픽(normal)에서 ALARM이 됩니다.")
    if not (_evaluate(alarm, data.incident, "nat_upload_alarm").evaluations["state"]
            == "ALARM").any():
        raise Mismatch("`nat_upload_alarm`이 데이터 유출(incident)에서 ALARM이 되지 않습니다.")


def check_logs_missing_alarm(fn, student_id=None, *, seed=None) -> None:
    """``fn(log_metrics)`` alarms within 15 minutes of the last event, never before it."""
    data = student_data(student_id, seed=seed)
    name = "logs_missing_alarm"
    alarm = _alarm(call(fn, name, data.log_metrics.copy()), name)
    if (alarm.namespace, alarm.metric) != ("AWS/Logs", "IncomingLogEvents"):
        raise Mismatch(f"`{name}`는 AWS/Logs 네임스페이스의 IncomingLogEvents 지표를 봐야 "
                       f"합니다 (받은 값: {alarm.namespace} {alarm.metric}).")
    _dimension(alarm, "LogGroupName", data.log_group, "로그 그룹 이름")
    if alarm.treat_missing_data != "breaching":
        raise Mismatch(f"`{name}`의 누락된 데이터 처리가 {alarm.treat_missing_data!r}입니다. "
                       "흐름 로그가 멈추면 데이터 포인트 자체가 없으므로 ALARM이 되지 "
                       "않습니다.")
    events = data.log_metrics[data.log_metrics["metric"] == "IncomingLogEvents"]
    first = pd.Timestamp(events["timestamp"].min())
    start = first + pd.Timedelta(minutes=_SETTLE)
    end = data.stop + pd.Timedelta(minutes=MISSING_WITHIN + 30)
    states = _evaluate(alarm, data.log_metrics, name, start=start, end=end).evaluations
    alarmed = states.loc[states["state"] == "ALARM", "time"]
    if len(alarmed) and alarmed.min() <= data.stop:
        raise Mismatch(f"`{name}`이 로그가 들어오는 동안 ALARM이 됩니다 "
                       f"({alarmed.min():%H:%M} UTC).")
    if not len(alarmed) or alarmed.min() > data.stop + pd.Timedelta(minutes=MISSING_WITHIN):
        raise Mismatch(f"`{name}`이 로그가 멈춘 뒤 {MISSING_WITHIN}분 안에 ALARM이 되지 "
                       "않습니다. 기간, 평가 기간 N, 데이터 포인트 M을 바꿔 evaluate_alarm으로 "
                       "확인해 보세요.")


def check_cost(fn, student_id=None, *, seed=None) -> None:
    """``fn(records, hours, goal)`` is the month's cost within 1%."""
    data = student_data(student_id, seed=seed)
    given = call(fn, "monthly_cost", data.records.copy(), data.hours, dict(data.goal))
    if isinstance(given, pd.DataFrame):
        raise Mismatch("`monthly_cost`는 표가 아니라 한 달 총비용(숫자, USD)을 돌려줘야 "
                       "합니다. estimate_cost 결과의 마지막 행이 total입니다.")
    try:
        given = as_number(given)
    except (TypeError, ValueError):
        raise Mismatch(f"`monthly_cost`가 숫자가 아닌 {type(given).__name__} 값을 "
                       "돌려주었습니다.") from None
    if not close(given, monthly_cost(data.records, data.hours, data.goal), rel=0.01):
        raise Mismatch("`monthly_cost`의 금액이 맞지 않습니다 (1% 오차 허용). 하루 레코드 수와 "
                       "측정한 집계 간격(measured_aggregation=60), goal의 설정을 확인하세요.")
