"""Flow-log set-up (lesson 실습 1 and 3): log group, IAM role, S3 bucket, the flow logs.

Each step finds what the course already created before creating anything, so a set-up cell
can run twice. The emulator drops a flow log's ``DestinationOptions`` (file format, Hive
prefixes, hourly partitions); the course keeps them in a tag on the flow log, so offline
delivery honours them and a later session reads them back.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import replace

from botocore.exceptions import ClientError

from helpers import flowlogs
from helpers.aws import policies
from helpers.aws.account import Account, describe_error
from helpers.errors import AwsSetupError, FlowLogFormatError
from helpers.flowlogs.delivery import RESOURCE_TYPES, FlowLog
from helpers.reference import CWL_RETENTION_DAYS

__all__ = [
    "LOG_GROUP",
    "ROLE",
    "course_flow_logs",
    "create_flow_log",
    "ensure_bucket",
    "ensure_log_group",
    "ensure_role",
    "log_group_name",
]

LOG_GROUP = "/aws/vpc/flowlogs"
RETENTION_DAYS = 7
ROLE = "flowlogsRole"
BUCKET = "saa-study-flowlogs"
OPTIONS_TAG = "course-destination-options"
# CreateLogGroup: 1-512 characters from a-z, A-Z, 0-9, '_', '-', '/', '.', '#'
# (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html)
_LOG_GROUP = re.compile(r"[A-Za-z0-9_\-/.#]{1,512}")
# S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a
# letter or digit (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def log_group_name(cloud: Account, variant: str | None = None) -> str:
    """``/aws/vpc/flowlogs`` (or ``/aws/vpc/<student>/flowlogs``), with ``-<variant>`` added."""
    name = LOG_GROUP if not cloud.student else f"/aws/vpc/{cloud.student}/flowlogs"
    if variant is not None:
        check_log_group(f"{name}-{variant}", "variant")
    return f"{name}-{variant}" if variant else name


def check_log_group(name, what: str = "log_group") -> str:
    """The name unchanged if CloudWatch Logs would accept it, else an AwsSetupError."""
    if not isinstance(name, str) or not _LOG_GROUP.fullmatch(name):
        raise AwsSetupError(f"{what}: {name!r} is not a valid log-group name: 1-512 characters "
                            "from letters, digits and _ - / . # (e.g. '/aws/vpc/flowlogs')")
    return name


def check_bucket(name, what: str = "bucket") -> str:
    """The name unchanged if S3 would accept it as a bucket name, else an AwsSetupError."""
    if not isinstance(name, str) or not _BUCKET_NAME.fullmatch(name) or ".." in name:
        raise AwsSetupError(f"{what}: {name!r} does not make a valid S3 bucket name: 3-63 "
                            "lowercase letters, digits, dots and hyphens, starting and ending "
                            "with a letter or digit")
    return name


def ensure_log_group(cloud: Account, name: str | None = None,
                     retention_days: int = RETENTION_DAYS) -> str:
    """The log group (default ``/aws/vpc/flowlogs``) with its retention, created if missing.

    Raises:
        AwsSetupError: an invalid name or retention, or a log group of that name that the
            course did not create (its retention is left alone).
    """
    name = check_log_group(name or log_group_name(cloud), "name")
    if retention_days not in CWL_RETENTION_DAYS:
        raise AwsSetupError(f"retention_days must be one of {CWL_RETENTION_DAYS} (the values "
                            f"PutRetentionPolicy accepts), not {retention_days!r}")
    existing = cloud.logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    if any(g["logGroupName"] == name for g in existing):
        tags = cloud.logs.list_tags_log_group(logGroupName=name).get("tags", {})
        if not cloud.owns(tags):
            raise AwsSetupError(f"log group {name!r} exists but was not created by the course; "
                                "the course will not change it. Pick another name (or use "
                                "connect(student=...) for prefixed names).")
        cloud.say("exists", f"log group {name}")
    else:
        cloud.logs.create_log_group(logGroupName=name, tags=cloud.tags)
        cloud.say("created", f"log group {name}")
    cloud.logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
    return name


def ensure_role(cloud: Account) -> str:
    """The flow-log role's ARN: trust for vpc-flow-logs.amazonaws.com, five logs: actions
    on the course's log groups (names starting with :func:`log_group_name`)."""
    name = cloud.name(ROLE)
    try:
        arn = cloud.iam.get_role(RoleName=name)["Role"]["Arn"]
        tags = cloud.iam.list_role_tags(RoleName=name)["Tags"]
        if not cloud.owns(tags):
            raise AwsSetupError(f"IAM role {name!r} exists but was not created by the course; "
                                "the course will not change it. Use connect(student=...) for "
                                "a prefixed name.")
        cloud.say("exists", f"IAM role {name}")
    except cloud.iam.exceptions.NoSuchEntityException:
        arn = cloud.iam.create_role(
            RoleName=name, Description="Lets VPC Flow Logs publish to the course's log group",
            AssumeRolePolicyDocument=json.dumps(policies.trust_policy(cloud.account_id,
                                                                      cloud.region)),
            Tags=[{"Key": k, "Value": v} for k, v in cloud.tags.items()])["Role"]["Arn"]
        cloud.say("created", f"IAM role {name}")
    cloud.iam.put_role_policy(
        RoleName=name, PolicyName="flow-logs-publish",
        PolicyDocument=json.dumps(policies.role_policy(cloud.account_id, cloud.region,
                                                       log_group_name(cloud))))
    return arn


def ensure_bucket(cloud: Account, suffix: str | None = None) -> str:
    """The S3 bucket ``saa-study-flowlogs-<suffix>`` with the log-delivery bucket policy."""
    parts = [BUCKET] + ([cloud.student] if cloud.student else []) + [suffix or cloud.account_id]
    name = check_bucket("-".join(map(str, parts)).lower(), "suffix")
    try:
        tags = cloud.s3.get_bucket_tagging(Bucket=name)["TagSet"]
        if not cloud.owns(tags):
            raise AwsSetupError(f"bucket {name!r} exists but was not created by the course")
        cloud.say("exists", f"S3 bucket {name}")
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code not in ("NoSuchBucket", "NoSuchTagSet", "404"):
            raise AwsSetupError(f"cannot use bucket {name!r}: {describe_error(err)}") from err
        if code == "NoSuchTagSet":
            raise AwsSetupError(f"bucket {name!r} exists but was not created by the course; "
                                "pass another suffix") from err
        cloud.s3.create_bucket(Bucket=name, CreateBucketConfiguration={
            "LocationConstraint": cloud.region})
        cloud.s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [
            {"Key": k, "Value": v} for k, v in cloud.tags.items()]})
        cloud.say("created", f"S3 bucket {name}")
    cloud.s3.put_bucket_policy(Bucket=name, Policy=json.dumps(
        policies.bucket_policy(name, cloud.account_id, cloud.region)))
    return name


def create_flow_log(cloud: Account, resource_id: str, *, destination: str = "cloud-watch-logs",
                    traffic_type: str = "ALL", resource_type: str | None = None,
                    log_format: str | None = None, file_format: str = "plain-text",
                    hive_compatible: bool = False, per_hour: bool = False,
                    max_aggregation_interval: int = 600, log_group: str | None = None,
                    bucket: str | None = None) -> FlowLog:
    """Create a flow log on a VPC, subnet or interface, or return the same one if it exists.

    Args:
        resource_id: ``vpc-…``, ``subnet-…`` or ``eni-…``; ``resource_type`` ("VPC",
            "Subnet", "NetworkInterface") is inferred from it when omitted.
        destination: ``"cloud-watch-logs"`` (log group ``/aws/vpc/flowlogs`` and role
            ``flowlogsRole``, created when missing) or ``"s3"`` (bucket
            ``saa-study-flowlogs-<account>``, created when missing).
        traffic_type: ``"ALL"``, ``"ACCEPT"`` or ``"REJECT"``.
        log_format: a custom ``${field} ...`` format; None is AWS's default format.
        file_format, hive_compatible, per_hour: S3 only (``DestinationOptions``).
        max_aggregation_interval: 600 (default) or 60 seconds.
    """
    if not isinstance(resource_id, str):
        raise AwsSetupError(f"resource_id must be a VPC, subnet or interface ID (text), not "
                            f"{resource_id!r}")
    kind = RESOURCE_TYPES.get(resource_id.split("-")[0])
    resource_type = resource_type or kind
    _check(resource_type, kind, destination, traffic_type, file_format,
           max_aggregation_interval, hive_compatible or per_hour or file_format != "plain-text")
    try:
        log_format = flowlogs.format_string(flowlogs.parse_format(log_format))
    except FlowLogFormatError as err:
        raise AwsSetupError(str(err)) from err
    request = dict(ResourceIds=[resource_id], ResourceType=resource_type,
                   TrafficType=traffic_type, LogFormat=log_format,
                   MaxAggregationInterval=max_aggregation_interval)
    options = {"FileFormat": file_format, "HiveCompatiblePartitions": hive_compatible,
               "PerHourPartition": per_hour}
    if destination == "cloud-watch-logs":
        if log_group is not None:
            check_log_group(log_group)
        if log_group and not log_group.startswith(log_group_name(cloud)):
            raise AwsSetupError(
                f"log group {log_group!r} is outside the course's names: use a name that "
                f"starts with {log_group_name(cloud)!r} (the flow-log role may write only "
                "there), e.g. cloud.log_group_name('reject')")
        log_group = ensure_log_group(cloud, log_group)
        role = ensure_role(cloud)
        request.update(LogDestinationType="cloud-watch-logs", LogGroupName=log_group,
                       DeliverLogsPermissionArn=role)
        options = {}
    else:
        bucket = check_bucket(bucket, "bucket") if bucket is not None else ensure_bucket(cloud)
        request.update(LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{bucket}",
                       DestinationOptions=options)
    wanted = FlowLog("", resource_id, traffic_type, log_format, destination,
                     log_group if destination == "cloud-watch-logs" else None,
                     bucket if destination == "s3" else None,
                     file_format, hive_compatible, per_hour, max_aggregation_interval)
    for existing in course_flow_logs(cloud):
        if _same(existing, wanted):
            cloud.say("exists", f"flow log {existing.flow_log_id} ({_describe(existing)})")
            return existing
    name = cloud.name(f"flowlog-{resource_id}-{destination}-{traffic_type.lower()}")
    tags = cloud.tag_list(name) + [{"Key": OPTIONS_TAG, "Value": json.dumps(options)}]
    request["TagSpecifications"] = [{"ResourceType": "vpc-flow-log", "Tags": tags}]
    try:
        response = cloud.ec2.create_flow_logs(**request)
    except ClientError as err:
        raise AwsSetupError(f"flow log on {resource_id} was not created: "
                            f"{describe_error(err)}") from err
    if response.get("Unsuccessful"):
        problem = response["Unsuccessful"][0]["Error"]
        raise AwsSetupError(f"flow log on {resource_id} was not created: "
                            f"{problem.get('Code')}: {problem.get('Message')}")
    flow_log = replace(wanted, flow_log_id=response["FlowLogIds"][0])
    cloud.say("created", f"flow log {flow_log.flow_log_id} ({_describe(flow_log)})")
    return flow_log


def describe_flow_log(cloud: Account, flow_log: FlowLog) -> dict:
    """The flow log's ``DescribeFlowLogs`` entry (what AWS stored), without the course's tags.

    Raises:
        AwsSetupError: the flow log no longer exists.
    """
    found = cloud.ec2.describe_flow_logs(FlowLogIds=[_id_of(flow_log)])["FlowLogs"]
    if not found:
        raise AwsSetupError(f"flow log {flow_log.flow_log_id} does not exist (any more): was it "
                            "deleted by cloud.teardown()? Create it again.")
    entry = dict(found[0])
    entry.pop("CreationTime", None)  # a wall-clock time: not part of what was configured
    entry["Tags"] = [t for t in entry.get("Tags", []) if t["Key"] != OPTIONS_TAG]
    return entry


def describe_log_group(cloud: Account, name: str) -> dict:
    """The log group's ``DescribeLogGroups`` entry (``retentionInDays`` among others).

    Raises:
        AwsSetupError: no log group of that name.
    """
    check_log_group(name, "name")
    for page in cloud.logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=name):
        for group in page["logGroups"]:
            if group["logGroupName"] == name:
                return {k: v for k, v in group.items() if k != "creationTime"}
    raise AwsSetupError(f"log group {name!r} does not exist: create it with "
                        "cloud.ensure_log_group() or cloud.create_flow_log(...)")


def role_policies(cloud: Account) -> dict:
    """The flow-log role's trust policy and inline permissions, as IAM returns them.

    Returns:
        ``{"role": name, "arn": ARN, "trust": <policy>, "permissions": {name: <policy>}}``.

    Raises:
        AwsSetupError: the role does not exist yet.
    """
    name = cloud.name(ROLE)
    try:
        role = cloud.iam.get_role(RoleName=name)["Role"]
    except cloud.iam.exceptions.NoSuchEntityException:
        raise AwsSetupError(f"IAM role {name!r} does not exist: create it with "
                            "cloud.ensure_role() or cloud.create_flow_log(...)") from None
    permissions = {}
    for policy in cloud.iam.list_role_policies(RoleName=name)["PolicyNames"]:
        permissions[policy] = _document(cloud.iam.get_role_policy(
            RoleName=name, PolicyName=policy)["PolicyDocument"])
    return {"role": name, "arn": role["Arn"],
            "trust": _document(role["AssumeRolePolicyDocument"]), "permissions": permissions}


def _document(policy) -> dict:
    """A policy document as a dict (IAM may return it URL-encoded JSON text or parsed)."""
    if isinstance(policy, str):
        return json.loads(urllib.parse.unquote(policy))
    return policy


def _id_of(flow_log) -> str:
    if not isinstance(flow_log, FlowLog):
        raise AwsSetupError(f"flow_log must be a FlowLog (what cloud.create_flow_log returns), "
                            f"not {type(flow_log).__name__}")
    return flow_log.flow_log_id


def course_flow_logs(cloud: Account) -> list[FlowLog]:
    """The course's flow logs (for this student), with their destination options."""
    found = cloud.ec2.describe_flow_logs(Filter=cloud.tag_filters())["FlowLogs"]
    return [_from_description(d) for d in sorted(found, key=lambda d: d["FlowLogId"])]


def _from_description(d: dict) -> FlowLog:
    tags = {t["Key"]: t["Value"] for t in d.get("Tags", [])}
    options = d.get("DestinationOptions") or json.loads(tags.get(OPTIONS_TAG, "{}") or "{}")
    s3 = d["LogDestinationType"] == "s3"
    bucket = d.get("LogDestination", "").removeprefix("arn:aws:s3:::").split("/")[0] or None
    return FlowLog(
        flow_log_id=d["FlowLogId"], resource_id=d["ResourceId"],
        traffic_type=d["TrafficType"], log_format=d["LogFormat"],
        destination_type=d["LogDestinationType"],
        log_group=None if s3 else d.get("LogGroupName"), bucket=bucket if s3 else None,
        file_format=options.get("FileFormat", "plain-text"),
        hive_compatible=bool(options.get("HiveCompatiblePartitions", False)),
        per_hour=bool(options.get("PerHourPartition", False)),
        max_aggregation_interval=int(d.get("MaxAggregationInterval", 600)))


def _same(a: FlowLog, b: FlowLog) -> bool:
    keys = ("resource_id", "traffic_type", "log_format", "destination_type", "log_group",
            "bucket", "file_format", "hive_compatible", "per_hour", "max_aggregation_interval")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _describe(f: FlowLog) -> str:
    where = f.log_group if f.destination_type == "cloud-watch-logs" else f"s3://{f.bucket}"
    extra = ""
    if f.destination_type == "s3":
        extra = f", {f.file_format}" + (", hive" if f.hive_compatible else "") + (
            ", hourly" if f.per_hour else "")
    return f"{f.resource_id} {f.traffic_type} → {where}{extra}"


def _check(resource_type, kind, destination, traffic_type, file_format, interval, s3_options):
    problems = []
    if kind is None:
        problems.append("resource_id must start with vpc-, subnet- or eni-")
    elif resource_type != kind:
        problems.append(f"resource_type {resource_type!r} does not match the ID (a {kind})")
    if destination not in ("cloud-watch-logs", "s3"):
        problems.append(f"destination must be 'cloud-watch-logs' or 's3', not {destination!r}")
    if traffic_type not in ("ALL", "ACCEPT", "REJECT"):
        problems.append(f"traffic_type must be ALL, ACCEPT or REJECT, not {traffic_type!r}")
    if file_format not in ("plain-text", "parquet"):
        problems.append(f"file_format must be 'plain-text' or 'parquet', not {file_format!r}")
    if interval not in (60, 600):
        problems.append(f"max_aggregation_interval must be 60 or 600 seconds, not {interval}")
    if destination == "cloud-watch-logs" and s3_options:
        problems.append("file_format, hive_compatible and per_hour apply to the s3 destination "
                        "only")
    if problems:
        raise AwsSetupError("cannot create the flow log: " + "; ".join(problems))
