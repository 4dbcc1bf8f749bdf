"""One security incident, written up from the data: its timeline, its impact and its report.

Notebook 05 follows one incident through the lesson's playbook (1 탐지 및 분석, 2 격리 및 차단,
3 제거 및 복구, 4 사후 분석). :class:`Incident` turns what the notebook measured into what an
incident leaves behind, every time and number computed, none typed in:

- :meth:`Incident.timeline`: time (UTC), stage, event and evidence, from the attacker's flow-log
  records, the detections (:func:`helpers.detect.detect`), the reject alarm's evaluation
  (:func:`helpers.monitoring.evaluate.evaluate_alarm`) and the answers of the auto-block
  function (the dicts :func:`helpers.respond.handler` returns), with when the alarm's records
  would reach CloudWatch Logs and S3 on AWS (:data:`helpers.detect.tradeoffs.TYPICAL_DELIVERY`:
  about 5 and 10 minutes after the aggregation interval closes, best effort);
- :meth:`Incident.impact`: who, what, how much, and what the block changed;
- :meth:`Incident.report`: a Markdown report with the lesson's four 문서화 요소 (사고 발생 시간
  및 경위, 대응 조치 내역, 영향 범위 및 피해 규모, 개선 사항 및 교훈).

Two more functions serve the notebook's demonstrations: :func:`with_lesson_rule` (the lesson's
security-group "block", which lets the attacker in) and :func:`judged_at` (the traffic as
logged when the rules change at a given time).

Pure computation over records, findings, alarm timelines and handler answers: nothing here
calls AWS or imports ``helpers.aws``. Text meant for the notebook's reader is Korean, like the
notebook; identifiers and docstrings are English.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field, replace

import pandas as pd

from helpers import times
from helpers.detect.tradeoffs import TYPICAL_DELIVERY
from helpers.errors import DetectError, MonitoringError, ResponseError, TrafficError
from helpers.monitoring.evaluate import AlarmTimeline
from helpers.traffic.topology import ALL, SgRule, Topology

__all__ = ["ATTACK", "DESTINATIONS", "Incident", "LESSON_RULE", "STAGES", "exposure",
           "judged_at", "with_lesson_rule"]

STAGES = ("1 탐지 및 분석", "2 격리 및 차단", "3 제거 및 복구", "4 사후 분석")
"""The lesson's four playbook stages, as the timeline names them."""
ATTACK = "공격"
"""The stage column of rows that record the attacker's own actions."""

DESTINATIONS = {"cloud-watch-logs": "CloudWatch Logs", "s3": "S3"}
"""The flow-log destinations by their API names, as the timeline names them."""

LESSON_RULE = "Auto-blocked malicious IP"
"""The description the lesson's Lambda gives its security-group rule."""

_NEEDED = ("srcaddr", "dstaddr", "dstport", "start", "end", "action", "bytes", "interface_id")
_FINDING = ("finding_type", "severity", "start", "end", "srcaddr", "records", "rejects",
            "distinct_ports")
_SIGNS = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": "≥",
          "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "≤"}
_TOPIC = re.compile(r"arn:aws:sns:[^:\s]+:\d{12}:([^\s,]+)")
_DIRECTIONS = {"ingress": "인바운드", "egress": "아웃바운드"}
_ORDER = {name: i for i, name in enumerate((ATTACK, *STAGES))}


# --- the lesson's rule and a change of rules --------------------------------------------------


def _address(value, what: str) -> str:
    try:
        if not isinstance(value, str):
            raise TypeError
        return str(ipaddress.IPv4Address(value.strip()))
    except (ValueError, TypeError):
        raise TrafficError(f"{what} must be an IPv4 address such as '203.0.113.66', not "
                           f"{value!r}") from None


def with_lesson_rule(topology: Topology, address: str, *, role: str = "web") -> Topology:
    """The topology after the lesson's Lambda ran for ``address``.

    The lesson calls ``authorize_security_group_ingress(GroupId=..., IpPermissions=[{
    "IpProtocol": "-1", "IpRanges": [{"CidrIp": f"{ip}/32", ...}]}])``: that *adds an allow
    rule* for every protocol and port from the address. Security groups cannot deny
    (https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html), so the
    "block" lets the address through the security group of the ``role`` instance; only the
    network ACL still stands in its way.

    Raises:
        TrafficError: not a Topology, not an IPv4 address, or no instance with that role.
    """
    if not isinstance(topology, Topology):
        raise TrafficError(f"topology must be the lab's Topology (cloud.lab_vpc()), not "
                           f"{type(topology).__name__}")
    rule = SgRule("ingress", ALL, cidr=f"{_address(address, 'address')}/32",
                  description=LESSON_RULE)
    groups = set(topology.interface(role).security_group_ids)
    return replace(topology, security_groups=tuple(
        replace(g, rules=(*g.rules, rule)) if g.group_id in groups else g
        for g in topology.security_groups))


def _check_records(records, what: str) -> None:
    if not isinstance(records, pd.DataFrame):
        raise TrafficError(f"{what} must be a DataFrame of flow-log records "
                           f"(traffic.generate() or cloud.read_flow_logs()), not "
                           f"{type(records).__name__}")
    missing = [c for c in _NEEDED if c not in records.columns]
    if missing:
        raise TrafficError(f"{what} lack the column{'s' * (len(missing) > 1)} "
                           f"{', '.join(missing)}; use flow-log records with canonical columns")


def judged_at(before: pd.DataFrame, after: pd.DataFrame, at) -> pd.DataFrame:
    """The records as flow logs would hold them if the rules changed at ``at``.

    ``before`` and ``after`` are the same traffic (same scenarios, seed and span) judged by
    the old and the new rules; records that start before ``at`` come from ``before``, the
    rest from ``after``. A network ACL is stateless, so a new entry applies to the very next
    packet, even within a connection.

    Raises:
        TrafficError: not two frames of flow-log records.
        TimeValueError: ``at`` is not a time.
    """
    _check_records(before, "before")
    _check_records(after, "after")
    when = times.to_epoch(at, "at")
    both = pd.concat([before[before["start"] < when], after[after["start"] >= when]])
    return both.sort_values(["start", "interface_id"], kind="stable").reset_index(drop=True)


def exposure(records: pd.DataFrame, address: str) -> dict:
    """What ``address`` got from the VPC: the records it sent and how they were judged.

    Returns ``records`` (sent by the address), ``rejected``, ``accepted``, ``ports`` (distinct
    destination ports it tried) and ``open_ports`` (those that answered: ACCEPT), sorted.

    Raises:
        TrafficError: not flow-log records, or not an IPv4 address.
    """
    _check_records(records, "records")
    sent = records[records["srcaddr"] == _address(address, "address")]
    accepted = sent[sent["action"] == "ACCEPT"]
    return {"records": len(sent), "rejected": int((sent["action"] == "REJECT").sum()),
            "accepted": len(accepted), "ports": int(sent["dstport"].nunique()),
            "open_ports": sorted(int(p) for p in accepted["dstport"].unique())}


# --- the incident -----------------------------------------------------------------------------


def _stamp(value) -> pd.Timestamp:
    return times.to_timestamp(value, "time")


def _hms(value) -> str:
    return _stamp(value).strftime("%H:%M:%S")


def _who(text: str) -> str:
    return _TOPIC.sub(lambda m: f"SNS 주제 {m[1]}", text or "")


def _count(n, unit: str = "개") -> str:
    return f"{int(n):,}{unit}"


def _span(seconds: int) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}분 {rest}초" if minutes else f"{rest}초"


@dataclass(frozen=True)
class Incident:
    """One incident: the attacker, the evidence, and what the response did.

    Attributes:
        attacker: the attacker's IPv4 address.
        records: the traffic as logged before any block (flow-log records, canonical columns).
        findings: the detections on those records (:func:`helpers.detect.detect`).
        alarm: the reject alarm's evaluation over them
            (:func:`helpers.monitoring.evaluate.evaluate_alarm`).
        answers: the auto-block function's answers, in the order they came (the dicts of
            ``cloud.respond`` and ``cloud.respond_to_alarm``).
        blocked: the same traffic judged by the rules after the block (optional; with it the
            impact says what the block changed).
        aggregation: the records' aggregation interval, seconds (the generator's 60, as
            Nitro-based instances aggregate).
        delays: seconds from the close of a record's aggregation interval to its delivery,
            by destination (``cloud-watch-logs``, ``s3``).

    Raises:
        TrafficError, DetectError, MonitoringError, ResponseError: an argument is not what
            the class needs; the message says what it should be.
    """

    attacker: str
    records: pd.DataFrame
    findings: pd.DataFrame
    alarm: AlarmTimeline
    answers: tuple = ()
    blocked: pd.DataFrame | None = None
    aggregation: int = 60
    delays: dict = field(default_factory=lambda: dict(TYPICAL_DELIVERY))

    def __post_init__(self):
        object.__setattr__(self, "attacker", _address(self.attacker, "attacker"))
        _check_records(self.records, "records")
        if self.blocked is not None:
            _check_records(self.blocked, "blocked")
        if not (self.records["srcaddr"] == self.attacker).any():
            raise TrafficError(f"the records hold nothing from the attacker {self.attacker}")
        if not isinstance(self.findings, pd.DataFrame) or any(
                c not in self.findings.columns for c in _FINDING):
            raise DetectError("findings must be the frame detect.detect(records) returns")
        if not isinstance(self.alarm, AlarmTimeline):
            raise MonitoringError(f"alarm must be an AlarmTimeline (evaluate.evaluate_alarm("
                                  f"...)), not {type(self.alarm).__name__}")
        answers = tuple(self.answers)
        if not all(isinstance(a, dict) and "time" in a and isinstance(a.get("results"), list)
                   for a in answers):
            raise ResponseError("answers must be what cloud.respond(...) and "
                                "cloud.respond_to_alarm(...) return: dicts with 'time' and "
                                "'results'")
        object.__setattr__(self, "answers", answers)

    # --- facts ------------------------------------------------------------------------------
    @property
    def attack(self) -> pd.DataFrame:
        """The records the attacker sent."""
        return self.records[self.records["srcaddr"] == self.attacker]

    def _blocks(self) -> list[tuple[pd.Timestamp, dict]]:
        address = ipaddress.IPv4Address(self.attacker)
        return [(_stamp(a["time"]), r) for a in self.answers for r in a["results"]
                if r.get("status") == "blocked" and r.get("cidr")
                and address in ipaddress.IPv4Network(r["cidr"])]

    @property
    def block_time(self) -> pd.Timestamp | None:
        """When the auto-block function denied the attacker (None: it did not)."""
        blocks = self._blocks()
        return blocks[0][0] if blocks else None

    def _alarm_rows(self) -> list[tuple]:
        """(time, old, new, value, datapoint time) of each transition after the first OK."""
        spec, rows = self.alarm.alarm, []
        evaluations = self.alarm.evaluations.set_index("time")
        for t in self.alarm.transitions.itertuples(index=False):
            if t.old_state == "INSUFFICIENT_DATA":
                continue
            points = evaluations.loc[t.time, "datapoints"]
            rows.append((t.time, t.old_state, t.new_state, points[-1] if points else None,
                         t.time - pd.Timedelta(seconds=spec.period)))
        return rows

    @property
    def arrivals(self) -> dict[str, pd.Timestamp]:
        """When the first ALARM's datapoint could cross its threshold on AWS, by destination.

        A record is published when its aggregation interval closes (at most ``aggregation``
        seconds after its ``start``, and not before its ``end``) and arrives the
        destination's delay later. The alarm's datapoint counts the REJECT records of one
        period; it crosses a "greater than" threshold once threshold + 1 of them have arrived
        (any other comparison: all of them). Empty without an ALARM.
        """
        alarms = [r for r in self._alarm_rows() if r[2] == "ALARM"]
        if not alarms:
            return {}
        spec, first = self.alarm.alarm, int(alarms[0][4].timestamp())
        r = self.records
        part = r[(r["action"] == "REJECT") & (r["start"] >= first)
                 & (r["start"] < first + spec.period)]
        published = (part["start"].astype("int64") + self.aggregation).clip(
            lower=part["end"].astype("int64")).sort_values().to_numpy()
        need = int(spec.threshold) + 1 if spec.comparison == "GreaterThanThreshold" else \
            math.ceil(spec.threshold) if spec.comparison == "GreaterThanOrEqualToThreshold" \
            else len(published)
        ready = int(published[min(max(need, 1), len(published)) - 1]) if len(published) else \
            first + spec.period
        return {where: _stamp(ready + delay) for where, delay in self.delays.items()}

    # --- the timeline -----------------------------------------------------------------------
    def _events(self) -> pd.DataFrame:
        rows = self._attack_rows() + self._finding_rows() + self._alarm_events() + \
            self._arrival_rows() + self._response_rows() + self._check_rows()
        frame = pd.DataFrame(rows, columns=["time", "stage", "event", "evidence"])
        frame["order"] = frame["stage"].map(_ORDER)
        return frame.sort_values(["time", "order"], kind="stable").drop(
            columns="order").reset_index(drop=True)

    def timeline(self) -> pd.DataFrame:
        """The incident's timeline: 시각 (UTC), 단계, 사건, 근거, in time order."""
        events = self._events()
        events["time"] = events["time"].dt.strftime("%Y-%m-%d %H:%M:%S")
        return events.rename(columns={"time": "시각 (UTC)", "stage": "단계", "event": "사건",
                                      "evidence": "근거"})

    def _attack_rows(self) -> list[tuple]:
        attack = self.attack.sort_values("start", kind="stable")
        first, targets = attack.iloc[0], ", ".join(sorted(attack["dstaddr"].unique()))
        return [
            (_stamp(int(first["start"])), ATTACK, f"{self.attacker}의 첫 레코드 (공격 시작)",
             f"대상 {targets}, 포트 {first['dstport']}, {first['action']}"),
            (_stamp(int(attack["end"].max())), ATTACK, f"{self.attacker}의 마지막 레코드",
             f"레코드 {_count(len(attack))}, "
             f"{_span(int(attack['end'].max()) - int(attack['start'].min()))} 동안"),
        ]

    def _finding_rows(self) -> list[tuple]:
        mine = self.findings[self.findings["srcaddr"] == self.attacker]
        rows = []
        for f in mine.itertuples(index=False):
            ports = "" if pd.isna(f.distinct_ports) else f", 포트 {_count(f.distinct_ports)}"
            rows.append((_stamp(int(f.end)), STAGES[0],
                         f"탐지 결과 {f.finding_type} ({f.severity})",
                         f"{_hms(int(f.start))}–{_hms(int(f.end))} 창: 레코드 "
                         f"{_count(f.records)}, 거부 {_count(f.rejects)}{ports}"))
        return rows

    def _alarm_events(self) -> list[tuple]:
        spec, rows = self.alarm.alarm, []
        sign = _SIGNS.get(spec.comparison, spec.comparison)
        for when, old, new, value, point in self._alarm_rows():
            shown = "데이터 없음" if value is None else f"{value:,.0f}"
            stage = STAGES[0] if new == "ALARM" else STAGES[2]
            test = f"{sign} {spec.threshold:,.0f}" if new == "ALARM" else \
                f"({sign} {spec.threshold:,.0f} 아님)"
            rows.append((when, stage, f"경보 {spec.name}: {old} → {new}",
                         f"{spec.metric} {shown} {test}, {point:%H:%M} 데이터 포인트"))
        return rows

    def _arrival_rows(self) -> list[tuple]:
        notes = {"cloud-watch-logs": "AWS에서 경보와 차단이 가능해지는 때(전형적인 지연으로 어림)",
                 "s3": "S3에 쌓인 로그(Athena)로 같은 분석을 할 수 있는 가장 이른 시각"}
        return [(when, STAGES[0], f"추정: 경보 데이터 포인트의 레코드가 "
                                  f"{DESTINATIONS.get(where, where)}에 도착",
                 f"집계 간격 {self.aggregation}초 + 약 {self.delays[where] // 60}분(최선의 "
                 f"노력). {notes.get(where, '')}")
                for where, when in self.arrivals.items()]

    def _response_rows(self) -> list[tuple]:
        rows = []
        for answer in self.answers:
            when = _stamp(answer["time"])
            for e in answer.get("expired", []):
                why = "만료(TTL)" if e.get("why") == "ttl" else "상한 때문에 해제"
                rows.append((when, STAGES[2], f"대응 함수: 차단 {why}, 규칙 "
                                              f"{e['rule_number']} 삭제 ({e['cidr']})",
                             f"차단 {_hms(e['blocked_at'])}, 만료 시각 {_hms(e['until'])}"))
            who = {b["rule_number"]: b.get("who", "") for b in answer.get("blocks", [])}
            for r in answer["results"]:
                rows += self._result_row(when, r, who.get(r.get("rule_number"), ""))
        return rows

    @staticmethod
    def _result_row(when, r: dict, who: str) -> list[tuple]:
        status, where = r.get("status"), f"규칙 {r.get('rule_number')}, {r.get('cidr')}"
        if status == "blocked":
            ways = "+".join(_DIRECTIONS.get(d, d) for d in r["directions"])
            return [(when, STAGES[1], f"대응 함수: 네트워크 ACL 거부 항목 추가 ({where}, {ways})",
                     f"{_hms(r['until'])}까지; 요청: {_who(who) or '-'}")]
        if status == "already_blocked":
            return [(when, STAGES[1], f"대응 함수: 이미 차단됨 ({where}), 변경 없음",
                     f"요청한 주소 {r.get('address')}, 만료 시각 {_hms(r['until'])} 그대로")]
        if status == "unblocked":
            return [(when, STAGES[2], f"대응 함수: 차단 해제 ({where})", r.get("reason", ""))]
        if status in ("refused", "ignored", "not_blocked"):
            code = f" ({r['code']})" if r.get("code") else ""
            return [(when, STAGES[1], f"대응 함수: {status}{code} {r.get('address')}",
                     r.get("reason", ""))]
        return []

    def _check_rows(self) -> list[tuple]:
        when = self.block_time
        if when is None or self.blocked is None:
            return []
        b = self.blocked
        later = b[(b["srcaddr"] == self.attacker) & (b["start"] >= int(when.timestamp()))]
        if later.empty:
            return []
        first = later.sort_values("start", kind="stable").iloc[0]
        rejected = int((later["action"] == "REJECT").sum())
        return [(_stamp(int(first["start"])), STAGES[1],
                 f"차단 뒤 공격자의 첫 레코드: {first['action']}",
                 f"차단 뒤 공격자 레코드 {_count(len(later))} 중 REJECT {_count(rejected)}")]

    # --- impact -----------------------------------------------------------------------------
    def _after(self, when: pd.Timestamp) -> pd.DataFrame:
        """The attacker's records from ``when`` on, judged by the rules after the block."""
        b = self.blocked
        return b[(b["srcaddr"] == self.attacker) & (b["start"] >= int(when.timestamp()))]

    def impact_facts(self) -> dict:
        """The numbers behind :meth:`impact` and the report, by name."""
        attack, r = self.attack, self.records
        talk = r[((r["srcaddr"] == self.attacker) | (r["dstaddr"] == self.attacker))
                 & (r["action"] == "ACCEPT")]
        facts = {
            "targets": sorted(attack["dstaddr"].unique()),
            "interfaces": sorted(attack["interface_id"].unique()),
            "start": _stamp(int(attack["start"].min())), "end": _stamp(int(attack["end"].max())),
            **exposure(r, self.attacker), "accepted_bytes": int(talk["bytes"].sum()),
        }
        when = self.block_time
        if when is not None and self.blocked is not None:
            after = self._after(when)
            others = judged_at(self.records, self.blocked, when)
            facts.update(
                block_time=when, after_block=len(after),
                after_block_rejected=int((after["action"] == "REJECT").sum()),
                others_before=self._others_accepted(self.records),
                others_after=self._others_accepted(others))
            aws = self.arrivals.get("cloud-watch-logs")
            if aws is not None:
                facts.update(aws_block_time=aws, after_aws_block=len(self._after(aws)))
        return facts

    def _others_accepted(self, records: pd.DataFrame) -> int:
        rest = records[(records["srcaddr"] != self.attacker)
                       & (records["dstaddr"] != self.attacker)]
        return int((rest["action"] == "ACCEPT").sum())

    def impact(self) -> pd.DataFrame:
        """영향 범위 및 피해 규모: one row per fact (항목, 값)."""
        f = self.impact_facts()
        rows = [
            ("공격자 → 대상", f"{self.attacker} → {', '.join(f['targets'])} "
                          f"(네트워크 인터페이스 {', '.join(f['interfaces'])})"),
            ("공격 기간 (UTC)", f"{f['start']:%H:%M:%S}–{f['end']:%H:%M:%S} "
                            f"({_span((f['end'] - f['start']).total_seconds())})"),
            ("공격자가 보낸 레코드", f"{_count(f['records'])} (REJECT {_count(f['rejected'])}, "
                             f"ACCEPT {_count(f['accepted'])})"),
            ("건드린 포트", _count(f["ports"])),
            ("응답한 포트 (ACCEPT)", ", ".join(map(str, f["open_ports"])) or "없음"),
            ("공격자와 주고받은 ACCEPT 바이트", _count(f["accepted_bytes"], "바이트")),
        ]
        if "block_time" in f:
            rows += [
                (f"차단({f['block_time']:%H:%M:%S}) 뒤 공격자 레코드",
                 f"{_count(f['after_block'])} (REJECT {_count(f['after_block_rejected'])})"),
                ("다른 소스의 ACCEPT 레코드", f"차단 전 규칙으로 {_count(f['others_before'])}, "
                                         f"차단 뒤 규칙으로 {_count(f['others_after'])}"),
            ]
        if "aws_block_time" in f:
            when = f"{f['aws_block_time']:%H:%M:%S}"
            rows.append((f"AWS 지연을 넣은 차단(약 {when}) 뒤 공격자 레코드",
                         _count(f["after_aws_block"])))
        return pd.DataFrame(rows, columns=["항목", "값"])

    # --- the report -------------------------------------------------------------------------
    def report(self, lessons=()) -> str:
        """The incident report in Markdown, with the lesson's four 문서화 요소.

        Args:
            lessons: more bullets for 개선 사항 및 교훈 (text), after the ones computed here.
        """
        f, events = self.impact_facts(), self._events()
        kinds = " / ".join(dict.fromkeys(
            self.findings.loc[self.findings["srcaddr"] == self.attacker, "finding_type"]))
        lines = [f"### 인시던트 보고서: {self.attacker} ({kinds or '탐지 결과 없음'})", "",
                 f"날짜 {f['start']:%Y-%m-%d}, 시각은 모두 UTC입니다. 시각과 숫자는 모두 흐름 로그 "
                 "레코드, 탐지 결과, 경보 평가, 대응 함수의 응답에서 계산했습니다.", "",
                 "#### 사고 발생 시간 및 경위", ""]
        lines += [f"- **{t:%H:%M:%S}** [{s}] {e} — {v}" for t, s, e, v in
                  events.itertuples(index=False)]
        lines += ["", "#### 대응 조치 내역", "", "| 시각 | 단계 | 조치 | 근거 |",
                  "|---|---|---|---|"]
        lines += [f"| {t:%H:%M:%S} | {s} | {e} | {v} |" for t, s, e, v in
                  events.itertuples(index=False) if e.startswith("대응 함수")]
        lines += ["", "#### 영향 범위 및 피해 규모", ""]
        lines += [f"- {k}: {v}" for k, v in self.impact().itertuples(index=False)]
        lines += ["", "#### 개선 사항 및 교훈", ""]
        lines += [f"- {text}" for text in (*self._lessons(f), *lessons)]
        return "\n".join(lines) + "\n"

    def _lessons(self, f: dict) -> list[str]:
        out = []
        if "aws_block_time" in f:
            aws, end = f["aws_block_time"], f["end"]
            verdict = (f"공격은 {end:%H:%M:%S}에 이미 끝났으므로, 전형적인 지연이라면 AWS에서 이 "
                       "차단은 이번 공격의 레코드를 하나도 막지 못하고 다음 접근만 막습니다"
                       if f["after_aws_block"] == 0 else
                       f"그 뒤에도 공격자 레코드 {_count(f['after_aws_block'])}가 남아 있어 "
                       "차단이 공격 도중에 걸립니다")
            out.append(f"흐름 로그는 실시간이 아닙니다. 레코드는 집계 간격이 끝나고 약 "
                       f"{self.delays['cloud-watch-logs'] // 60}분 뒤에 CloudWatch Logs에 "
                       f"도착하므로 AWS에서는 경보와 차단이 {aws:%H:%M:%S} 무렵에야 가능합니다. "
                       f"{verdict}.")
        ok = [r for r in self._alarm_rows() if r[2] == "OK"]
        if "block_time" in f and ok and ok[0][0] > f["block_time"]:
            out.append(f"경보는 차단({f['block_time']:%H:%M:%S}) 뒤에도 {ok[0][0]:%H:%M:%S}까지 "
                       "ALARM이었습니다. 거부 수는 시도를 세므로 차단된 시도도 REJECT로 남습니다. "
                       "경보가 OK로 돌아온 것은 공격이 멈췄기 때문이지 차단 때문이 아닙니다.")
        blocks = self._blocks()
        if blocks and "others_before" in f:
            r = blocks[0][1]
            others = (f"{_count(f['others_before'])}로 그대로였습니다"
                      if f["others_before"] == f["others_after"] else
                      f"{_count(f['others_before'])}에서 {_count(f['others_after'])}로 "
                      "달라졌습니다")
            out.append(f"차단은 {r['cidr']} 하나(규칙 {r['rule_number']}, {_hms(r['until'])}에 "
                       f"만료)였고, 다른 소스의 ACCEPT 레코드는 {others}. 좁은 차단과 만료 "
                       "시각이 오탐의 피해를 줄입니다.")
        return out
