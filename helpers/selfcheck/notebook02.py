"""Self-check questions of notebook 02 (VPC Flow Logs 설정 실습).

The settings each question states are the constants below, so the notebook's text and the
computed answers cannot drift apart: the notebook prints them from here. Every answer is
computed from lab 2's traffic (:data:`LAB2`, the notebook's ``traffic.generate`` call).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from helpers import flowlogs, insights, traffic
from helpers.flowlogs import delivery
from helpers.insights import ast, patterns
from helpers.selfcheck.core import Question, as_number, register

__all__ = ["BROAD_POLICY", "FLOW_LOG_ACTIONS", "LAB2", "LESSON_CUSTOM", "PARSE_NAMES",
           "REJECT_GROUP", "SIZE_FORMAT", "custom_messages"]

LAB2 = {"seed": 1, "duration": "1h"}
"""Lab 2's traffic: ``traffic.generate(topology=lab, seed=1, duration="1h")``."""

LESSON_CUSTOM = "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${start} ${end}"
"""Lab 3's custom format (the lesson's eight fields, in its order)."""

PARSE_NAMES = ("srcAddr", "dstAddr", "srcPort", "dstPort", "protocol", "action", "start", "end")
"""02-1: the names the parse command must give the custom format's eight fields."""

SIZE_FORMAT = LESSON_CUSTOM + " ${packets} ${bytes}"
"""02-2: the lesson's format with the two fields that measure volume added."""

REJECT_GROUP = "/aws/vpc/flowlogs-reject"
"""02-3: the one log group the tightened policy may publish to."""

BROAD_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
"""02-3: an over-broad policy, like the lesson's CloudWatchLogsFullAccess."""

FLOW_LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                    "logs:DescribeLogGroups", "logs:DescribeLogStreams")
"""The five actions the flow-log role needs (AWS's flow-logs-iam-role page; the same list as
:data:`helpers.aws.policies.FLOW_LOG_ACTIONS`, which a test keeps in step)."""


@lru_cache(maxsize=1)
def _records() -> pd.DataFrame:
    return traffic.generate(topology=traffic.default_topology(), **LAB2)


@lru_cache(maxsize=1)
def custom_messages() -> pd.Series:
    """The messages a flow log with the lesson's custom format writes for lab 2's traffic."""
    return delivery.log_events(_records(), LESSON_CUSTOM)["message"]


# --- 02-1: a parse command for the custom format -------------------------------------------


def _parse_command(answer):
    """The first ``parse`` command of a query (text), as (regex, names)."""
    if not isinstance(answer, str):
        raise TypeError("쿼리를 문자열로 적으세요. 예: 'parse @message \"...\" as ...'")
    text = answer.strip().lstrip("|").strip()
    query = insights.parse(text)
    command = next((c for c in query.commands if isinstance(c, ast.Parse)), None)
    if command is None:
        raise ValueError("parse 명령이 없습니다")
    if command.source is not None and command.source.name != "@message":
        raise ValueError(f"parse가 읽는 필드는 @message여야 합니다(적은 것: "
                         f"{command.source.name})")
    if isinstance(command.pattern, ast.String):
        regex, _ = patterns.glob_to_regex(command.pattern.value)
        names = [n.value for n in command.names]
        if len(names) != command.pattern.value.count("*"):
            raise ValueError(f"* {command.pattern.value.count('*')}개에 이름 {len(names)}개: "
                             "* 하나에 이름 하나를 주세요")
    else:
        regex, names = patterns.portable_regex(command.pattern.pattern)
    return regex, names


def _extracted(answer) -> dict[str, tuple]:
    """The values the parse command gives each name on the custom format's messages."""
    regex, names = _parse_command(answer)
    found = custom_messages().str.extract(regex)
    if found.shape[1] != len(names):
        raise ValueError("정규식의 그룹 수와 이름 수가 다릅니다")
    found.columns = range(found.shape[1])
    return {name: tuple(None if pd.isna(v) else str(v) for v in found[i])
            for i, name in enumerate(names) if name in PARSE_NAMES}


def _reference_parse() -> str:
    return f'parse @message "{" ".join(["*"] * len(PARSE_NAMES))}" as {", ".join(PARSE_NAMES)}'


def _why_parse(given: dict, expected: dict) -> str | None:
    missing = [n for n in PARSE_NAMES if n not in given]
    if missing:
        return f"이름 {', '.join(missing)}이(가) 없습니다. 문제에서 정한 이름을 쓰세요."
    for name in PARSE_NAMES:
        if given[name] != expected[name]:
            holds = next((other for other in PARSE_NAMES if given[name] == expected[other]),
                         None)
            if holds:
                return (f"{name}에는 {holds}의 값이 들어갑니다. 사용자 지정 형식의 필드 순서를 "
                        "확인하세요.")
            sample = next((v for v in given[name] if v is not None), None)
            return (f"{name}의 값이 필드 하나와 맞지 않습니다(예: {sample!r}). * 하나가 필드 "
                    "하나를 가져가는지 확인하세요.")
    return None


# --- 02-2: the size of a format with packets and bytes -------------------------------------


def _size_percent() -> float:
    records = _records()
    return 100 * delivery.ingested_bytes(records, SIZE_FORMAT) / delivery.ingested_bytes(
        records, flowlogs.DEFAULT_FORMAT)


def _percent(answer) -> float:
    """A percentage; a fraction such as 0.72 (or '72%') counts as the same answer."""
    if isinstance(answer, str):
        answer = answer.replace("%", "")
    value = as_number(answer)
    return value * 100 if 0 < value <= 1.5 else value


def _why_size(given: float, expected: float) -> str | None:
    records = _records()
    text = {fmt: delivery.ingested_bytes(records, fmt) - delivery.EVENT_OVERHEAD * len(records)
            for fmt in (SIZE_FORMAT, flowlogs.DEFAULT_FORMAT)}
    without = 100 * text[SIZE_FORMAT] / text[flowlogs.DEFAULT_FORMAT]
    lesson = 100 * delivery.ingested_bytes(records, LESSON_CUSTOM) / delivery.ingested_bytes(
        records, flowlogs.DEFAULT_FORMAT)
    if abs(given - without) <= 0.01 * without:
        return ("메시지 길이만 비교했습니다. CloudWatch Logs는 이벤트마다 26바이트를 더 셉니다"
                "(delivery.ingested_bytes).")
    if abs(given - lesson) <= 0.01 * lesson:
        return "그것은 레슨의 8개 필드 형식의 값입니다. packets와 bytes를 더한 형식으로 재세요."
    return None


# --- 02-3: tighten an over-broad policy -----------------------------------------------------


_GROUP_ARN = re.compile(r"arn:aws:logs:[a-z0-9-]+:\d{12}:log-group:/aws/vpc/([a-z0-9-]+/)?"
                        + re.escape(REJECT_GROUP.removeprefix("/aws/vpc/"))
                        + r"(:\*|\*|:log-stream:\*)?")


@dataclass(frozen=True)
class _Policy:
    """A policy reduced to what the question asks: its allowed actions and resources."""

    actions: frozenset
    resources: frozenset
    denies: bool = False


def _policy(answer) -> _Policy:
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError as err:
            raise ValueError(f"JSON으로 읽을 수 없습니다: {err.msg}") from None
    if not isinstance(answer, dict) or "Statement" not in answer:
        raise TypeError("정책은 \"Statement\"가 있는 dict(또는 JSON 문자열)로 적으세요")
    statements = answer["Statement"]
    statements = [statements] if isinstance(statements, dict) else statements
    actions, resources, denies = set(), set(), False
    for statement in statements:
        if not isinstance(statement, dict):
            raise TypeError("Statement의 각 항목은 dict여야 합니다")
        if statement.get("Effect") != "Allow":
            denies = True
            continue
        for key, into in (("Action", actions), ("Resource", resources)):
            value = statement.get(key, [])
            into.update([value] if isinstance(value, str) else value)
    kinds = {"group" if _GROUP_ARN.fullmatch(str(r)) else str(r) for r in resources}
    return _Policy(frozenset(str(a).lower() for a in actions), frozenset(kinds), denies)


def _tight_policy() -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": list(FLOW_LOG_ACTIONS),
        "Resource": f"arn:aws:logs:ap-northeast-2:123456789012:log-group:{REJECT_GROUP}:*"}]}


def _why_policy(given: _Policy, expected: _Policy) -> str | None:
    parts = []
    wild = sorted(a for a in given.actions if "*" in a)
    if wild:
        parts.append(f"{', '.join(wild)}는 와일드카드라 로그 그룹 삭제 같은 작업까지 허용합니다")
    missing = sorted(set(expected.actions) - given.actions)
    extra = sorted(given.actions - set(expected.actions) - set(wild))
    if missing:
        parts.append(f"빠진 작업: {', '.join(missing)}")
    if extra:
        parts.append(f"필요 없는 작업: {', '.join(extra)}")
    others = sorted(given.resources - {"group"})
    if "*" in others:
        parts.append("Resource \"*\"는 계정의 모든 로그 그룹입니다")
    elif others:
        parts.append(f"{REJECT_GROUP} 밖의 리소스: {', '.join(others)}")
    if not given.resources:
        parts.append("Resource가 없습니다")
    if given.denies:
        parts.append("Allow가 아닌 문(Statement)은 권한을 주지 않습니다")
    return "; ".join(parts) + "." if parts else None


register({
    "02-1": Question("parse @message \"* * ...\" as 이름, ... 처럼 * 하나에 필드 하나입니다. "
                     "LESSON_CUSTOM의 필드 순서대로 이름을 주세요.", _reference_parse,
                     _extracted, explain=_why_parse),
    "02-2": Question("delivery.ingested_bytes(records, 형식)를 두 형식에 쓰고 나누세요.",
                     _size_percent, _percent, tolerance=0.01, explain=_why_size),
    "02-3": Question("허용할 작업은 위에서 IAM에서 읽은 다섯 가지이고, 리소스는 로그 그룹의 ARN"
                     "(arn:aws:logs:리전:계정:log-group:이름:*)입니다.", _tight_policy,
                     _policy, explain=_why_policy),
})
