"""CloudWatch and SNS for the course: metrics, the dashboard, alarms, metric filters, e-mails.

The adapters behind ``cloud.put_metrics``, ``cloud.read_metrics``, ``cloud.put_dashboard``,
``cloud.ensure_topic``, ``cloud.create_alarms``, ``cloud.create_metric_filter`` and
``cloud.publish_alarm``. What they store is computed by :mod:`helpers.monitoring` (pure).
Each is idempotent: what exists with the same settings is left alone and reported "exists";
what exists without the course's tags is refused.

The emulator stores metrics, dashboards, alarms and metric filters but computes none of them:
it never evaluates an alarm or notifies SNS. Locally the course puts the metrics it derived
from the records and publishes the notifications of the alarm timeline it evaluated; on AWS
the services do both by themselves, and these functions say so.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from helpers import times
from helpers.aws import emulator
from helpers.aws.account import Account
from helpers.aws.flow_log_setup import log_group_name
from helpers.errors import AwsSetupError, MonitoringError
from helpers.frames import require_columns
from helpers.monitoring import names
from helpers.monitoring.alarms import AlarmSpec, MetricFilterSpec, rejects_filter
from helpers.monitoring.evaluate import REGION_NAMES, AlarmTimeline
from helpers.monitoring.metrics import COLUMNS, METRICS
from helpers.monitoring.names import LOGS, NAT

__all__ = [
    "create_alarms",
    "create_metric_filter",
    "ensure_topic",
    "publish_alarm",
    "put_dashboard",
    "put_metrics",
    "read_metrics",
]

MAX_DATUMS = 1000  # PutMetricData takes at most 1,000 metrics per call


# --- metrics ----------------------------------------------------------------------------------


def put_metrics(cloud: Account, frame: pd.DataFrame) -> pd.DataFrame:
    """Local: put the frame's datapoints into the emulator with ``PutMetricData``.

    Batches of at most 1,000 datapoints per call (the API's limit), one namespace per call,
    each sent with the process clock at the batch's last minute: CloudWatch, like the emulator,
    refuses datapoints older than two weeks
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).

    AWS: nothing is sent. ``AWS/`` namespaces are reserved for AWS's services, which publish
    these metrics themselves; read them with :func:`read_metrics`.

    Returns:
        One row per namespace: how many metrics, datapoints and calls.
    """
    columns = ["namespace", "metrics", "datapoints", "calls"]
    if cloud.backend == "aws":
        print("On AWS the NAT gateway and CloudWatch Logs publish these metrics themselves "
              "(namespaces starting with AWS/ are reserved); read them with cloud.read_metrics().")
        return pd.DataFrame(columns=columns)
    require_columns(frame, COLUMNS, error=MonitoringError, what="frame",
                    source="metrics.nat_metrics() or metrics.log_group_metrics()")
    rows = []
    for namespace, part in frame.sort_values("timestamp", kind="stable").groupby(
            "namespace", sort=True):
        datums = _datums(part)
        calls = 0
        for begin in range(0, len(datums), MAX_DATUMS):
            batch = datums[begin:begin + MAX_DATUMS]
            with emulator.lesson_clock(max(d["Timestamp"] for d in batch).timestamp() + 60):
                cloud.cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
            calls += 1
        rows.append((namespace, part["metric"].nunique(), len(datums), calls))
        cloud.say("put", f"{len(datums)} datapoints of {part['metric'].nunique()} metrics "
                         f"in {namespace}")
    return pd.DataFrame(rows, columns=columns)


def _datums(part: pd.DataFrame) -> list[dict]:
    datums = []
    for ts, metric, dim, value, val, unit in zip(
            part["timestamp"], part["metric"], part["dimension"], part["dimension_value"],
            part["value"], part["unit"]):
        datum = {"MetricName": metric, "Timestamp": ts.to_pydatetime(), "Value": float(val),
                 "Unit": unit}
        if isinstance(dim, str):
            datum["Dimensions"] = [{"Name": dim, "Value": str(value)}]
        datums.append(datum)
    return datums


def read_metrics(cloud: Account, start, end, *, nat_gateway_id: str | None = None,
                 log_group: str | None = None, period: int = 60, extra=()) -> pd.DataFrame:
    """Read metrics back with ``GetMetricData``: the real ones on AWS, the put ones locally.

    Args:
        start, end: the time range (datetimes, ISO text or epoch seconds; UTC).
        nat_gateway_id: read the 14 ``AWS/NATGateway`` metrics of this NAT gateway.
        log_group: read ``IncomingLogEvents`` and ``IncomingBytes`` of this log group.
        period: seconds per datapoint (60 gives the per-minute values).
        extra: more metrics, as ``(namespace, metric, dimension, value, statistic)`` tuples
            (dimension and value None for a metric without dimensions).

    Returns:
        The tidy frame (:data:`COLUMNS`), each value aggregated over ``period`` with the
        metric's statistic (Sum, or Maximum for ``ActiveConnectionCount``).
    """
    wanted = []
    if nat_gateway_id:
        wanted += [(m.namespace, m.name, m.dimension, nat_gateway_id, m.statistic, m.unit)
                   for m in METRICS.values() if m.namespace == NAT]
    if log_group:
        wanted += [(m.namespace, m.name, m.dimension, log_group, m.statistic, m.unit)
                   for m in METRICS.values() if m.namespace == LOGS]
    wanted += [(*item, None) for item in extra]
    if not wanted:
        raise MonitoringError("nothing to read: pass nat_gateway_id, log_group or extra")
    queries = []
    for i, (namespace, metric, dim, value, stat, _) in enumerate(wanted):
        spec = {"Namespace": namespace, "MetricName": metric}
        if dim:
            spec["Dimensions"] = [{"Name": dim, "Value": value}]
        queries.append({"Id": f"m{i}", "MetricStat": {"Metric": spec, "Period": period,
                                                       "Stat": stat}, "ReturnData": True})
    found: dict[str, tuple[list, list]] = {q["Id"]: ([], []) for q in queries}
    args = dict(MetricDataQueries=queries, StartTime=times.to_datetime(start, "start"),
                EndTime=times.to_datetime(end, "end"),
                ScanBy="TimestampAscending")
    while True:
        page = cloud.cloudwatch.get_metric_data(**args)
        for result in page["MetricDataResults"]:
            stamps, values = found[result["Id"]]
            stamps += result.get("Timestamps", [])
            values += result.get("Values", [])
        if not page.get("NextToken"):
            break
        args["NextToken"] = page["NextToken"]
    frames = []
    for i, (namespace, metric, dim, value, _, unit) in enumerate(wanted):
        stamps, values = found[f"m{i}"]
        frames.append(pd.DataFrame({
            "timestamp": pd.to_datetime(pd.Series(stamps, dtype=object), utc=True),
            "namespace": namespace, "metric": metric, "dimension": dim,
            "dimension_value": value, "value": np.asarray(values, dtype=float),
            "unit": unit or (METRICS[metric].unit if metric in METRICS else "None")}))
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["metric", "timestamp"], ignore_index=True)


# --- dashboard --------------------------------------------------------------------------------


def put_dashboard(cloud: Account, body: dict, name: str | None = None) -> str:
    """Create or update the dashboard (default ``VPC-Network-Monitoring``, student-prefixed).

    Reports "exists" when the stored body is the same. A new dashboard is tagged like
    everything the course makes, and a dashboard of the same name without the course's tags
    is refused, not overwritten (see :func:`is_course_dashboard`). Returns the dashboard's name.

    Raises:
        AwsSetupError: a dashboard of that name exists without the course's tags.
        MonitoringError: CloudWatch found the body invalid (its messages are included).
    """
    name = cloud.name(name or names.DASHBOARD)
    cw = cloud.cloudwatch
    try:
        found = cw.get_dashboard(DashboardName=name)
        stored = json.loads(found["DashboardBody"])
    except cw.exceptions.ResourceNotFound:
        found = stored = None
    if found is not None and not is_course_dashboard(cloud, found["DashboardArn"]):
        raise AwsSetupError(f"dashboard {name!r} exists but was not created by the course; the "
                            "course will not overwrite it. Pass another name= (or connect with "
                            "student=... for prefixed names)")
    if stored == body:
        cloud.say("exists", f"dashboard {name}")
        return name
    result = cw.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body))
    problems = result.get("DashboardValidationMessages", [])
    if problems:
        listed = "; ".join(f"{p.get('DataPath', '')}: {p.get('Message', '')}" for p in problems)
        raise MonitoringError(f"CloudWatch found dashboard {name!r} invalid: {listed}")
    if found is None and cloud.backend == "aws":
        cw.tag_resource(ResourceARN=dashboard_arn(cloud, name), Tags=cloud.tag_list())
    cloud.say("created" if stored is None else "updated", f"dashboard {name}")
    return name


def dashboard_arn(cloud: Account, name: str) -> str:
    """A dashboard's ARN: dashboards are global, so the ARN has no Region."""
    return f"arn:aws:cloudwatch::{cloud.account_id}:dashboard/{name}"


def is_course_dashboard(cloud: Account, arn: str, owns=None) -> bool:
    """Whether the dashboard at ``arn`` carries the course's tags (``owns``: the check to use,
    default ``cloud.owns``).

    AWS tags dashboards ("the only CloudWatch resources that can be tagged are alarms,
    dashboards, metric streams and Contributor Insights rules",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html).
    The emulator cannot tag them, and holds only what the course put there, so offline every
    dashboard counts as the course's.
    """
    if cloud.backend == "local":
        return True
    tags = cloud.cloudwatch.list_tags_for_resource(ResourceARN=arn).get("Tags", [])
    return (owns or cloud.owns)(tags)


# --- SNS, alarms, metric filters -------------------------------------------------------------


def ensure_topic(cloud: Account, *, email: str = "student@example.com",
                 name: str | None = None) -> str:
    """The course's SNS topic (tagged, student-prefixed) with an e-mail subscription; its ARN.

    Found by name first, so running it again creates nothing. On AWS the address receives a
    confirmation e-mail; the subscription stays pending until the link in it is followed.

    Raises:
        AwsSetupError: a topic of that name exists without the course's tags.
    """
    sns, topic = cloud.sns, cloud.name(name or names.TOPIC)
    arn = None
    for page in sns.get_paginator("list_topics").paginate():
        for item in page["Topics"]:
            if item["TopicArn"].rsplit(":", 1)[-1] == topic:
                arn = item["TopicArn"]
    if arn:
        if not cloud.owns(sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])):
            raise AwsSetupError(f"SNS topic {topic!r} exists but was not created by the "
                                "course; the course will not use it. Use "
                                "connect(student=...) for a prefixed name.")
        cloud.say("exists", f"SNS topic {topic}")
    else:
        arn = sns.create_topic(Name=topic, Tags=cloud.tag_list())["TopicArn"]
        cloud.say("created", f"SNS topic {topic}")
    subscribed = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
        subscribed += [s["Endpoint"] for s in page["Subscriptions"] if s["Protocol"] == "email"]
    if email in subscribed:
        cloud.say("exists", f"e-mail subscription {email}")
    else:
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=email)
        cloud.say("created", f"e-mail subscription {email}")
        if cloud.backend == "aws":
            print(f"AWS sent a confirmation e-mail to {email}: notifications arrive once you "
                  "follow its link.")
    return arn


def create_alarms(cloud: Account, alarms: list[AlarmSpec], *,
                  email: str = "student@example.com", topic_arn: str | None = None
                  ) -> pd.DataFrame:
    """Create (or find) the alarms, each notifying the course's SNS topic; one row per alarm.

    ``alarms`` are specs, e.g. the lesson's (:func:`helpers.monitoring.alarms.lesson_alarms`).
    An alarm that exists with the same settings is left alone ("exists"); one with other
    settings is updated; one without the course's tags is refused. Alarms carry the course's
    tags.
    """
    if isinstance(alarms, AlarmSpec):
        alarms = [alarms]
    if not isinstance(alarms, (list, tuple)) or not all(isinstance(a, AlarmSpec) for a in alarms):
        raise MonitoringError("alarms must be a list of AlarmSpec (e.g. alarms.lesson_alarms("
                              f"lab.nat_gateway_id, flow_log.log_group)), not {alarms!r}"[:300])
    arn = topic_arn or ensure_topic(cloud, email=email)
    cw = cloud.cloudwatch
    existing = {}
    wanted = [a.name for a in alarms]
    for begin in range(0, len(wanted), 100):  # DescribeAlarms takes up to 100 names
        for alarm in cw.describe_alarms(AlarmNames=wanted[begin:begin + 100],
                                        AlarmTypes=["MetricAlarm"])["MetricAlarms"]:
            existing[alarm["AlarmName"]] = alarm
    rows = []
    for spec in alarms:
        args = spec.to_api([arn])
        found = existing.get(spec.name)
        if found is not None:
            tags = cw.list_tags_for_resource(ResourceARN=found["AlarmArn"]).get("Tags", [])
            if not cloud.owns(tags):
                raise AwsSetupError(f"alarm {spec.name!r} exists but was not created by the "
                                    "course; the course will not change it. Use "
                                    "connect(student=...) for prefixed names.")
        if found is not None and _same_alarm(found, args):
            status = "exists"
        else:
            cw.put_metric_alarm(**args, Tags=cloud.tag_list())
            status = "created" if found is None else "updated"
        cloud.say(status, f"alarm {spec.name} ({spec.metric} {_symbol(spec.comparison)} "
                          f"{_plain(spec.threshold)})")
        rows.append((spec.name, spec.namespace, spec.metric, spec.statistic, spec.period,
                     f"{spec.m}/{spec.evaluation_periods}", _symbol(spec.comparison),
                     spec.threshold, spec.treat_missing_data, status))
    return pd.DataFrame(rows, columns=["alarm", "namespace", "metric", "statistic", "period",
                                       "datapoints", "comparison", "threshold",
                                       "treat_missing_data", "status"])


_COMPARED = ("AlarmDescription", "AlarmActions", "Namespace", "MetricName", "Statistic",
             "Period", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
             "ComparisonOperator", "TreatMissingData")


def _same_alarm(found: dict, args: dict) -> bool:
    if any(found.get(k) != args.get(k) for k in _COMPARED):
        return False
    dims = sorted((d["Name"], d["Value"]) for d in found.get("Dimensions", []))
    return dims == sorted((d["Name"], d["Value"]) for d in args["Dimensions"])


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _symbol(comparison: str) -> str:
    return {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=",
            "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<="}[comparison]


def create_metric_filter(cloud: Account, spec: MetricFilterSpec | None = None
                         ) -> MetricFilterSpec:
    """Create (or find) the metric filter; without ``spec``, the reject counter
    (:func:`rejects_filter`) on the course's flow-log group. Returns the spec.

    Metric filters carry no tags; the course recognises its own by name.

    Raises:
        AwsSetupError: the log group does not exist yet.
    """
    if spec is None:
        spec = rejects_filter(log_group_name(cloud), prefix=cloud.student)
    logs, args = cloud.logs, spec.to_api()
    groups = logs.describe_log_groups(logGroupNamePrefix=spec.log_group)["logGroups"]
    if not any(g["logGroupName"] == spec.log_group for g in groups):
        raise AwsSetupError(f"log group {spec.log_group!r} does not exist: create it first "
                            "(cloud.create_flow_log(...) or cloud.ensure_log_group())")
    found = logs.describe_metric_filters(logGroupName=spec.log_group,
                                         filterNamePrefix=spec.name)["metricFilters"]
    same = [f for f in found if f["filterName"] == spec.name]
    if same and _same_filter(same[0], args):
        status = "exists"
    else:
        if same:  # PutMetricFilter replaces a filter of the same name; the emulator adds one
            logs.delete_metric_filter(logGroupName=spec.log_group, filterName=spec.name)
        logs.put_metric_filter(**args)
        status = "updated" if same else "created"
    cloud.say(status, f"metric filter {spec.name} on {spec.log_group} → "
                      f"{spec.namespace} {spec.metric}")
    return spec


def _same_filter(found: dict, args: dict) -> bool:
    if found.get("filterPattern") != args["filterPattern"]:
        return False
    have = found.get("metricTransformations", [{}])[0]
    want = args["metricTransformations"][0]
    return all(json.dumps(have.get(k)) == json.dumps(want.get(k))
               for k in ("metricName", "metricNamespace", "metricValue", "defaultValue"))


def publish_alarm(cloud: Account, timeline: AlarmTimeline, topic_arn: str | None = None
                  ) -> pd.DataFrame:
    """Local: notify the alarm's SNS topic of each transition to ALARM, then set its state.

    The emulator never evaluates alarms, so this does CloudWatch's part: one ``sns.publish``
    per transition to ALARM (subject ``ALARM: "<name>" in <region>``, the JSON of
    :func:`notification`), then ``set_alarm_state`` to the timeline's final state so that
    ``describe_alarms`` shows it. ``topic_arn`` defaults to the alarm's own actions.
    AWS: nothing to do; CloudWatch evaluates and notifies by itself.

    Returns:
        One row per notification: time, alarm, subject.
    """
    columns = ["time", "alarm", "subject"]
    if cloud.backend == "aws":
        print("On AWS, CloudWatch evaluates the alarm every minute and notifies its SNS topic "
              "itself; see the alarm's History tab.")
        return pd.DataFrame(columns=columns)
    alarm = timeline.alarm
    found = cloud.cloudwatch.describe_alarms(AlarmNames=[alarm.name])["MetricAlarms"]
    if not found:
        raise MonitoringError(f"alarm {alarm.name!r} does not exist in the emulator: create it "
                              "first (cloud.create_alarms)")
    actions = [topic_arn] if topic_arn else found[0].get("AlarmActions", [])
    region_name = REGION_NAMES.get(cloud.region, cloud.region)
    rows = []
    for message in timeline.notifications(account_id=cloud.account_id, region=cloud.region,
                                          actions=actions):
        subject = f'ALARM: "{alarm.name}" in {region_name}'[:100]
        for arn in actions:
            if arn.startswith("arn:aws:sns:"):
                cloud.sns.publish(TopicArn=arn, Subject=subject, Message=json.dumps(message))
        rows.append((message["StateChangeTime"], alarm.name, subject))
        cloud.say("notified", f"{subject} at {message['StateChangeTime']}")
    last = timeline.transitions.iloc[-1] if len(timeline.transitions) else None
    reason = last["reason"] if last is not None else "Unchecked: no evaluation yet"
    cloud.cloudwatch.set_alarm_state(
        AlarmName=alarm.name, StateValue=timeline.state, StateReason=reason[:1023],
        StateReasonData=json.dumps({"version": "1.0", "period": alarm.period,
                                    "statistic": alarm.statistic,
                                    "threshold": float(alarm.threshold)}))
    cloud.say("state", f"alarm {alarm.name} → {timeline.state}")
    return pd.DataFrame(rows, columns=columns)
