"""Send delivery results to the emulator, and read flow logs back from CloudWatch Logs or S3.

On the local backend :func:`deliver` does what the flow-log service would do: for every flow
log the course defined, the records it captures go to its log group (one stream per interface)
or its bucket. On the aws backend the service delivers by itself, so :func:`deliver` only says
so. :func:`read_flow_logs` works the same on both backends; :func:`log_events` shows one
stream's events as CloudWatch Logs holds them, and :func:`insights_records` adds each record's
stored text (``@message``) for offline Logs Insights queries.
"""

from __future__ import annotations

import difflib
import shutil

import pandas as pd
from botocore.exceptions import ClientError
from tqdm import tqdm

from helpers import flowlogs
from helpers.aws import emulator
from helpers.aws.account import Account, describe_error
from helpers.errors import AwsSetupError
from helpers.flowlogs import delivery
from helpers.flowlogs.delivery import FlowLog
from helpers.frames import require_columns
from helpers.paths import ROOT

__all__ = ["CACHE", "MESSAGE", "bucket_keys", "deliver", "insights_records", "log_events",
           "log_streams", "read_flow_logs"]

CACHE = ROOT / "course-work" / "s3-cache"
DELIVERY_DELAY = 300  # seconds after a record's end: about when CloudWatch Logs has it
PROGRESS_ABOVE = 200  # PutLogEvents calls; fewer run without a progress bar


EVENT_LIMIT = 10_000  # GetLogEvents returns at most 10,000 events (1 MB) per page
MESSAGE = "message"
"""The column :func:`insights_records` adds: the record's text as delivered (``@message``)."""

REPORT = ["flow_log", "destination", "captured", "accepted", "rejected", "containers"]
NEEDED = ("interface_id", "start", "end", "action")


def deliver(cloud: Account, records: pd.DataFrame, flow_logs: list[FlowLog] | None = None
            ) -> pd.DataFrame:
    """Deliver ``records`` to the course's flow logs (or only ``flow_logs``); one row each.

    The report says how many records each flow log captured, how many the destination
    accepted and rejected, and into how many streams or objects they went. Nothing is dropped
    without being counted. Delivering the same records twice delivers them twice, as the
    service would for traffic that happened twice. Each record's interface is looked up in
    the account (``DescribeNetworkInterfaces``) to find its subnet and VPC, as the service
    knows them.

    Raises:
        AwsSetupError: records that are not a frame of flow-log records, or that name
            interfaces the account does not have.
    """
    if cloud.backend == "aws":
        print("On AWS the flow-log service delivers by itself: about 5 minutes to CloudWatch "
              "Logs and 10 minutes to S3 after each aggregation interval.")
        return pd.DataFrame(columns=REPORT)
    _check_records(records)
    if records.empty:
        print("No records to deliver.")
        return pd.DataFrame(columns=REPORT)
    interfaces = _interfaces(cloud, records)
    rows = []
    # The events carry the lesson's date; the emulator, like CloudWatch Logs, refuses events
    # older than 14 days, so delivery runs with the clock set to when AWS would deliver them.
    with emulator.lesson_clock(int(records["end"].max()) + DELIVERY_DELAY):
        for flow_log in flow_logs if flow_logs is not None else cloud.flow_logs():
            chosen = delivery.captured(records, flow_log, interfaces)
            if flow_log.destination_type == "cloud-watch-logs":
                accepted, rejected, containers = _to_log_group(cloud, flow_log, chosen)
            else:
                accepted, rejected, containers = _to_bucket(cloud, flow_log, chosen)
            rows.append((flow_log.flow_log_id, _where(flow_log), len(chosen), accepted,
                         rejected, containers))
    report = pd.DataFrame(rows, columns=REPORT)
    if report["rejected"].any():
        print("Some records were rejected by their destination; see the 'rejected' column.")
    return report


def read_flow_logs(cloud: Account, flow_log: FlowLog) -> pd.DataFrame:
    """The records a flow log delivered, parsed with its format (typed as flowlogs.read).

    Raises:
        AwsSetupError: not a flow log, or its log group or bucket is gone.
    """
    _check_flow_log(flow_log)
    if flow_log.destination_type == "cloud-watch-logs":
        return _guarded(flow_log, lambda: _from_log_group(cloud, flow_log))
    return _guarded(flow_log, lambda: _from_bucket(cloud, flow_log))


def _check_flow_log(flow_log, destination: str | None = None) -> None:
    if not isinstance(flow_log, FlowLog):
        raise AwsSetupError(f"flow_log must be a FlowLog (what cloud.create_flow_log returns), "
                            f"not {type(flow_log).__name__}")
    if destination and flow_log.destination_type != destination:
        raise AwsSetupError(f"flow log {flow_log.flow_log_id} delivers to "
                            f"{flow_log.destination_type}, not {destination}")


def _guarded(flow_log: FlowLog, read):
    """Run ``read``; a resource that is gone becomes a course error saying what to do."""
    try:
        return read()
    except ClientError as err:
        raise AwsSetupError(f"cannot read {flow_log.flow_log_id} from {_where(flow_log)}: "
                            f"{describe_error(err)}. Was it deleted (cloud.teardown())? "
                            "Create the flow log again and deliver to it.") from err


def log_streams(cloud: Account, flow_log: FlowLog) -> list[str]:
    """The log streams of a flow log's log group, sorted (one per network interface)."""
    _check_flow_log(flow_log, "cloud-watch-logs")
    return _guarded(flow_log, lambda: sorted(_streams(cloud, flow_log.log_group)))


def bucket_keys(cloud: Account, flow_log: FlowLog) -> list[str]:
    """The keys of the files a flow log delivered to its bucket, sorted."""
    _check_flow_log(flow_log, "s3")
    return _guarded(flow_log, lambda: sorted(_keys(cloud, flow_log)))


# --- CloudWatch Logs --------------------------------------------------------------------------


def _to_log_group(cloud: Account, flow_log: FlowLog, records: pd.DataFrame) -> tuple[int, int, int]:
    events = delivery.log_events(records, flow_log.log_format)
    existing = _streams(cloud, flow_log.log_group)
    accepted = rejected = 0
    batches = delivery.event_batches(events)
    # A progress bar only for big deliveries (days of traffic), never for a lesson's hour.
    for stream, start, end in tqdm(batches, desc=f"PutLogEvents {flow_log.log_group}",
                                   unit="batch", disable=len(batches) < PROGRESS_ABOVE):
        if stream not in existing:
            cloud.logs.create_log_stream(logGroupName=flow_log.log_group, logStreamName=stream)
            existing.add(stream)
        batch = events.iloc[start:end]
        response = cloud.logs.put_log_events(
            logGroupName=flow_log.log_group, logStreamName=stream,
            logEvents=[{"timestamp": int(t), "message": m}
                       for t, m in zip(batch["timestamp"], batch["message"])])
        refused = _refused(response.get("rejectedLogEventsInfo", {}), len(batch))
        accepted += len(batch) - refused
        rejected += refused
    return accepted, rejected, events["log_stream"].nunique()


def _refused(info: dict, size: int) -> int:
    """How many events of a batch PutLogEvents rejected (too new, too old or expired)."""
    refused = set()
    if "tooNewLogEventStartIndex" in info:
        refused |= set(range(info["tooNewLogEventStartIndex"], size))
    for key in ("tooOldLogEventEndIndex", "expiredLogEventEndIndex"):
        if key in info:
            refused |= set(range(0, info[key] + 1))  # the index of the last one
    return len(refused)


def _streams(cloud: Account, log_group: str) -> set[str]:
    names = set()
    for page in cloud.logs.get_paginator("describe_log_streams").paginate(
            logGroupName=log_group):
        names |= {s["logStreamName"] for s in page["logStreams"]}
    return names


def _events(logs, log_group: str, stream: str, limit: int | None = None):
    """The stream's events, oldest first, page after page (``GetLogEvents``).

    The end is the page whose ``nextForwardToken`` is the token just sent: "If you have
    reached the end of the stream, it returns the same token you passed in"
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html).
    An empty page is *not* the end: CloudWatch Logs may return one in the middle of a stream
    (a page covers a span of time, and a quiet span has no events).
    """
    token, seen = None, 0
    while True:
        args = dict(logGroupName=log_group, logStreamName=stream, startFromHead=True)
        if limit is not None:
            args["limit"] = min(EVENT_LIMIT, limit - seen)
        if token:
            args["nextToken"] = token
        page = logs.get_log_events(**args)
        for event in page["events"]:
            yield event
            seen += 1
            if limit is not None and seen >= limit:
                return
        following = page.get("nextForwardToken")
        if following is None or following == token:
            return
        token = following


def _messages(cloud: Account, log_group: str) -> list[str]:
    return [event["message"] for stream in sorted(_streams(cloud, log_group))
            for event in _events(cloud.logs, log_group, stream)]


def _from_log_group(cloud: Account, flow_log: FlowLog) -> pd.DataFrame:
    return flowlogs.parse_lines(_messages(cloud, flow_log.log_group), flow_log.log_format)


def log_events(cloud: Account, flow_log: FlowLog, stream: str, *, limit: int | None = 20
               ) -> pd.DataFrame:
    """One log stream's events as CloudWatch Logs holds them (a console-like view).

    Args:
        flow_log: a flow log that delivers to CloudWatch Logs.
        stream: the log stream (one per network interface: its ``eni-…`` ID).
        limit: at most this many events, oldest first (None: all of them).

    Returns:
        One row per event: ``timestamp`` and ``ingestionTime`` (UTC; CloudWatch Logs keeps
        epoch milliseconds) and ``message`` (the flow-log record's text, unparsed). Offline,
        ``ingestionTime`` is when :func:`deliver` ran on the simulated lesson clock (about
        five minutes after the records' end), which ticks: its milliseconds differ from run
        to run, so a saved notebook output should leave that column out or round it.

    Raises:
        AwsSetupError: not a CloudWatch Logs flow log, a bad limit, or an unknown stream
            (the message lists the streams there are).
    """
    _check_flow_log(flow_log, "cloud-watch-logs")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise AwsSetupError(f"limit must be a whole number ≥ 1 (or None for every event), "
                            f"not {limit!r}")
    streams = log_streams(cloud, flow_log)
    if stream not in streams:
        close = difflib.get_close_matches(str(stream), streams, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        shown = ", ".join(streams) if streams else "none yet (deliver records first)"
        raise AwsSetupError(f"log group {flow_log.log_group} has no log stream {stream!r}."
                            f"{hint} Its streams: {shown}")
    events = _guarded(flow_log, lambda: list(_events(cloud.logs, flow_log.log_group, stream,
                                                     limit)))
    frame = pd.DataFrame({
        "timestamp": [e["timestamp"] for e in events],
        "ingestionTime": [e.get("ingestionTime") for e in events],
        "message": [e["message"] for e in events]})
    for column in ("timestamp", "ingestionTime"):
        frame[column] = pd.to_datetime(frame[column].astype("Int64"), unit="ms", utc=True)
    return frame


def insights_records(cloud: Account, flow_log: FlowLog) -> pd.DataFrame:
    """The records of :func:`read_flow_logs`, plus a ``message`` column: each record's text
    as delivered, which offline Logs Insights queries see as ``@message``.

    CloudWatch Logs keeps the text the flow-log service wrote, in the flow log's own format
    (a custom format's fields in its order), so ``parse @message "..."`` splits it as it
    would on AWS. For an S3 flow log the records are written back as text in its format.
    """
    _check_flow_log(flow_log)
    if flow_log.destination_type == "cloud-watch-logs":
        def read():
            messages = _messages(cloud, flow_log.log_group)
            records = flowlogs.parse_lines(messages, flow_log.log_format)
            if len(records) == len(messages):
                records[MESSAGE] = pd.array(messages, dtype=pd.StringDtype("pyarrow"))
            return records
        records = _guarded(flow_log, read)
    else:
        records = read_flow_logs(cloud, flow_log)
    if MESSAGE not in records.columns and len(records):
        lines = flowlogs.format_lines(records, flow_log.log_format)
        records[MESSAGE] = pd.array(lines.to_pylist(), dtype=pd.StringDtype("pyarrow"))
    return records


# --- S3 ---------------------------------------------------------------------------------------


def _to_bucket(cloud: Account, flow_log: FlowLog, records: pd.DataFrame) -> tuple[int, int, int]:
    objects = delivery.s3_objects(records, flow_log, cloud.account_id, cloud.region)
    for key, body, _ in objects:
        cloud.s3.put_object(Bucket=flow_log.bucket, Key=key, Body=body)
    return sum(n for *_, n in objects), 0, len(objects)


def _from_bucket(cloud: Account, flow_log: FlowLog) -> pd.DataFrame:
    """Mirror the flow log's objects into a local cache, then read the tree with DuckDB."""
    folder = CACHE / flow_log.bucket / flow_log.flow_log_id
    keys = _keys(cloud, flow_log)
    if not keys:
        raise AwsSetupError(f"no files from {flow_log.flow_log_id} in s3://{flow_log.bucket} "
                            "yet (AWS delivers to S3 about 10 minutes after the traffic)")
    if cloud.backend == "local":
        # The emulator starts empty on every connect: start the mirror afresh too (and make
        # the same requests every run, which keeps the emulator's seeded IDs the same).
        shutil.rmtree(folder, ignore_errors=True)
    elif folder.exists():  # drop files the bucket no longer has
        for path in folder.rglob("*"):
            if path.is_file() and str(path.relative_to(folder)) not in keys:
                path.unlink()
    for key, size in sorted(keys.items()):
        target = folder / key
        if not target.exists() or target.stat().st_size != size:
            target.parent.mkdir(parents=True, exist_ok=True)
            cloud.s3.download_file(flow_log.bucket, key, str(target))
    return flowlogs.read(folder, flow_log.log_format)


def _keys(cloud: Account, flow_log: FlowLog) -> dict[str, int]:
    """Key → size of the flow log's files in its bucket."""
    keys = {}
    for page in cloud.s3.get_paginator("list_objects_v2").paginate(
            Bucket=flow_log.bucket, Prefix="AWSLogs/"):
        for item in page.get("Contents", []):
            if f"_{flow_log.flow_log_id}_" in item["Key"]:
                keys[item["Key"]] = item["Size"]
    return keys


def clear_cache() -> None:
    """Delete the local S3 cache (``course-work/s3-cache``)."""
    shutil.rmtree(CACHE, ignore_errors=True)


# --- helpers ----------------------------------------------------------------------------------


def _check_records(records) -> None:
    require_columns(records, NEEDED, error=AwsSetupError, what="records",
                    source="traffic.generate or flowlogs.read")


def _interfaces(cloud: Account, records: pd.DataFrame) -> pd.DataFrame:
    """interface → subnet and VPC, from the account's network interfaces."""
    wanted = sorted(records["interface_id"].dropna().astype(str).unique())
    found = []
    for page in cloud.ec2.get_paginator("describe_network_interfaces").paginate(
            Filters=[{"Name": "network-interface-id", "Values": wanted}]):
        found += [(n["NetworkInterfaceId"], n["SubnetId"], n["VpcId"])
                  for n in page["NetworkInterfaces"]]
    unknown = sorted(set(wanted) - {eni for eni, _, _ in found})
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5
                                          else "")
        raise AwsSetupError(
            f"the records come from network interfaces this account does not have: {shown}. "
            "Generate them for the lab in this account: traffic.generate(topology="
            "cloud.lab_vpc(), ...)")
    return pd.DataFrame(found, columns=["interface_id", "subnet_id", "vpc_id"])


def _where(flow_log: FlowLog) -> str:
    if flow_log.destination_type == "cloud-watch-logs":
        return f"logs:{flow_log.log_group}"
    return f"s3://{flow_log.bucket}"
