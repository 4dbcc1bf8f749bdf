"""Flow-log set-up (lesson 실습 1 and 3): log group, IAM role, S3 bucket, the flow logs.

Each step finds what the course already created before creating anything, so a set-up cell
can run twice, and completes what an interrupted run left half made (a role without its
policy, a bucket without its tags). A new role is retried while IAM propagates it
(:data:`helpers.aws.retry.FLOW_LOG_ROLE`), and every flow log's delivery status is checked
after it is created. The emulator drops a flow log's ``DestinationOptions`` (file format, Hive
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
from helpers.aws import policies, retry
from helpers.aws.account import Account, describe_error
from helpers.aws.steps import Steps
from helpers.errors import AwsSetupError, FlowLogFormatError
from helpers.flowlogs.delivery import RESOURCE_TYPES, FlowLog
from helpers.reference import CWL_RETENTION_DAYS

__all__ = [
    "LOG_GROUP",
    "ROLE",
    "bucket_policy",
    "check_delivery",
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


ROLE_POLICY = "flow-logs-publish"


def ensure_role(cloud: Account) -> str:
    """The flow-log role's ARN: trust for vpc-flow-logs.amazonaws.com, five logs: actions
    on the course's log groups (names starting with :func:`log_group_name`).

    Repairs a half-made role: a rerun after a set-up that stopped between ``CreateRole`` and
    ``PutRolePolicy`` adds the missing (or changed) policy and says "repaired", and a ``CreateRole``
    that answers ``EntityAlreadyExists`` (another run, or IAM's eventual consistency, made
    it meanwhile) goes on with the role that exists, if it is the course's.

    Raises:
        AwsSetupError: a role of that name that the course did not create (left alone).
    """
    iam, name = cloud.iam, cloud.name(ROLE)
    wait = retry.sleeper(cloud)
    try:
        arn = _own_role(cloud, name)
        verb = "exists"
    except iam.exceptions.NoSuchEntityException:
        try:
            arn = iam.create_role(
                RoleName=name,
                Description="Lets VPC Flow Logs publish to the course's log group",
                AssumeRolePolicyDocument=json.dumps(policies.trust_policy(cloud.account_id,
                                                                          cloud.region)),
                Tags=[{"Key": k, "Value": v} for k, v in cloud.tags.items()])["Role"]["Arn"]
            verb = "created"
        except iam.exceptions.EntityAlreadyExistsException:
            # Made meanwhile; IAM may not show it for a moment (eventual consistency).
            arn = retry.call(_own_role, cloud, name, retry_on=("NoSuchEntity",),
                             what=f"read the IAM role {name}", sleep=wait)
            verb = "exists"
    document = json.dumps(policies.role_policy(cloud.account_id, cloud.region,
                                               log_group_name(cloud)))
    # An existing role is read first and written only when its policy is missing or
    # different; a new one is written at once (the same number of calls as a plain put, which
    # keeps the emulator's seeded IDs, and so the saved notebooks, unchanged).
    if verb == "exists" and _policy_of(iam, name, ROLE_POLICY) != json.loads(document):
        verb = "repaired"
    if verb != "exists":
        # A role just created can be NoSuchEntity for PutRolePolicy for a moment.
        retry.call(iam.put_role_policy, retry_on=("NoSuchEntity",),
                   what=f"add the policy {ROLE_POLICY} to the IAM role {name}", sleep=wait,
                   RoleName=name, PolicyName=ROLE_POLICY, PolicyDocument=document)
    cloud.say(verb, f"IAM role {name}" + (f" (restored its policy {ROLE_POLICY})"
                                         if verb == "repaired" else ""))
    return arn


def _own_role(cloud: Account, name: str) -> str:
    """The ARN of the role ``name`` if it is the course's; NoSuchEntity if it is missing."""
    arn = cloud.iam.get_role(RoleName=name)["Role"]["Arn"]
    if not cloud.owns(cloud.iam.list_role_tags(RoleName=name)["Tags"]):
        raise AwsSetupError(f"IAM role {name!r} exists but was not created by the course; "
                            "the course will not change it. Use connect(student=...) for "
                            "a prefixed name.")
    return arn


def _policy_of(iam, role: str, policy: str) -> dict | None:
    """The role's inline policy as a dict, or None when it has none of that name."""
    try:
        return _document(iam.get_role_policy(RoleName=role, PolicyName=policy)[
            "PolicyDocument"])
    except iam.exceptions.NoSuchEntityException:
        return None


def bucket_prefix(cloud: Account) -> str:
    """The start of every bucket name of this student: ``saa-study-flowlogs-[<student>-]``."""
    return "-".join([BUCKET] + ([cloud.student] if cloud.student else [])) + "-"


def ensure_bucket(cloud: Account, suffix: str | None = None, *, report: str = "steps") -> str:
    """The S3 bucket ``saa-study-flowlogs-<suffix>`` with the log-delivery bucket policy.

    A new bucket is tagged in the ``CreateBucket`` request itself
    (``CreateBucketConfiguration.Tags``, which needs ``s3:TagResource``:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html) and with
    ``PutBucketTagging`` right after, which is where ``GetBucketTagging`` (and the emulator,
    which ignores tags in CreateBucket) reads them. If tagging fails the new bucket is deleted
    before the error is raised, so no untagged bucket is left that teardown would not find.

    Args:
        report: ``"steps"`` (every step, the default), ``"summary"`` (one line) or ``"none"``.
    """
    with Steps(cloud, report) as steps:
        name = _ensure_bucket(cloud, suffix)
    steps.summary(f"S3 bucket {name}")
    return name


def _ensure_bucket(cloud: Account, suffix: str | None) -> str:
    name = check_bucket(f"{bucket_prefix(cloud)}{suffix or cloud.account_id}".lower(),
                        "suffix")
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
        _create_tagged_bucket(cloud, name)
        cloud.say("created", f"S3 bucket {name}")
    cloud.s3.put_bucket_policy(Bucket=name, Policy=json.dumps(
        policies.bucket_policy(name, cloud.account_id, cloud.region)))
    return name


def _create_tagged_bucket(cloud: Account, name: str) -> None:
    """Create the bucket with the course's tags; delete it again if they cannot be set."""
    tags = [{"Key": k, "Value": v} for k, v in cloud.tags.items()]
    config = {"LocationConstraint": cloud.region, "Tags": tags}
    try:
        cloud.s3.create_bucket(Bucket=name, CreateBucketConfiguration=config)
    except ClientError as err:
        if retry.error_code(err) not in ("AccessDenied", "InvalidArgument",
                                         "MalformedXML"):
            raise AwsSetupError(f"cannot create bucket {name!r}: {describe_error(err)}"
                                ) from err
        # No s3:TagResource (or an S3 without tags in CreateBucket): tag right after.
        config.pop("Tags")
        try:
            cloud.s3.create_bucket(Bucket=name, CreateBucketConfiguration=config)
        except ClientError as again:
            raise AwsSetupError(f"cannot create bucket {name!r}: {describe_error(again)}"
                                ) from again
    try:
        cloud.s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
    except ClientError as err:
        try:
            cloud.s3.delete_bucket(Bucket=name)
            fate = "it has been deleted again, so nothing untagged is left behind"
        except ClientError as cleanup:
            fate = (f"and deleting it failed too ({describe_error(cleanup)}): delete it "
                    "yourself in the S3 console")
        raise AwsSetupError(f"bucket {name!r} was created but could not be tagged "
                            f"({describe_error(err)}); {fate}. Check that you may "
                            "s3:PutBucketTagging, then run the cell again") from err


def bucket_policy(cloud: Account, bucket: str) -> dict:
    """The bucket policy S3 holds for ``bucket`` (``GetBucketPolicy``), as a dict.

    This is what S3 enforces, read back, unlike :func:`helpers.aws.policies.bucket_policy`,
    which is what the course writes.

    Raises:
        AwsSetupError: no such bucket, or it has no bucket policy.
    """
    check_bucket(bucket)
    try:
        text = cloud.s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as err:
        if retry.error_code(err) == "NoSuchBucketPolicy":
            raise AwsSetupError(f"bucket {bucket!r} has no bucket policy: the log-delivery "
                                "policy is added by cloud.ensure_bucket() or "
                                "cloud.create_flow_log(..., destination='s3')") from err
        raise AwsSetupError(f"cannot read the policy of bucket {bucket!r}: "
                            f"{describe_error(err)}") from err
    return json.loads(text)


def create_flow_log(cloud: Account, resource_id: str, *, report: str = "steps",
                    **options) -> FlowLog:
    """Create a flow log (see :func:`_create_flow_log` for the options), reporting every step
    (``report="steps"``, the default), one line (``"summary"``) or nothing (``"none"``)."""
    with Steps(cloud, report) as steps:
        flow_log = _create_flow_log(cloud, resource_id, **options)
    steps.summary(f"flow log {flow_log.flow_log_id} ({_describe(flow_log)})")
    return flow_log


def _create_flow_log(cloud: Account, resource_id: str, *, destination: str = "cloud-watch-logs",
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

    A role IAM has not propagated yet ("Unable to assume given IAM role") is retried with
    backoff; after creation the flow log's ``DeliverLogsStatus`` is checked (see
    :func:`check_delivery`).
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
            check_delivery(cloud, existing)
            cloud.say("exists", f"flow log {existing.flow_log_id} ({_describe(existing)})")
            return existing
    name = cloud.name(f"flowlog-{resource_id}-{destination}-{traffic_type.lower()}")
    tags = cloud.tag_list(name) + [{"Key": OPTIONS_TAG, "Value": json.dumps(options)}]
    request["TagSpecifications"] = [{"ResourceType": "vpc-flow-log", "Tags": tags}]
    try:
        response = retry.call(
            _create_flow_logs, cloud, request, **retry.FLOW_LOG_ROLE,
            what=f"create the flow log on {resource_id}", sleep=retry.sleeper(cloud),
            hint="IAM has not made the new flow-log role usable yet: wait a minute and run "
                 "the cell again (the role is kept). If it persists, compare "
                 "cloud.role_policies() with the course's trust policy")
    except ClientError as err:
        raise AwsSetupError(f"flow log on {resource_id} was not created: "
                            f"{describe_error(err)}") from err
    flow_log = replace(wanted, flow_log_id=response["FlowLogIds"][0])
    check_delivery(cloud, flow_log)
    cloud.say("created", f"flow log {flow_log.flow_log_id} ({_describe(flow_log)})")
    return flow_log


def _create_flow_logs(cloud: Account, request: dict) -> dict:
    """``CreateFlowLogs``; a refusal listed under ``Unsuccessful`` is raised as the same
    ClientError the call itself would raise, so the retry layer sees both alike."""
    response = cloud.ec2.create_flow_logs(**request)
    if response.get("Unsuccessful"):
        problem = response["Unsuccessful"][0].get("Error", {})
        raise ClientError({"Error": {"Code": problem.get("Code", "Unsuccessful"),
                                     "Message": problem.get("Message", "")}},
                          "CreateFlowLogs")
    return response


_DELIVERY_HELP = {
    "Access error": "the flow-log role may not write to the destination: compare "
                    "cloud.role_policies() with the course's policies (trust for "
                    "vpc-flow-logs.amazonaws.com, the five logs: actions), or for S3 "
                    "cloud.bucket_policy(bucket)",
    "Rate limited": "CloudWatch Logs is throttling this account or it has reached its "
                    "log-group quota: delete unused log groups or ask your instructor",
    "Unknown error": "an internal AWS error: delete the flow log and create it again",
}


def check_delivery(cloud: Account, flow_log: FlowLog) -> None:
    """Raise if ``DescribeFlowLogs`` reports the flow log's delivery as ``FAILED``.

    ``DeliverLogsStatus`` is ``SUCCESS`` or ``FAILED``; ``DeliverLogsErrorMessage`` says
    why: ``Rate limited``, ``Access error`` or ``Unknown error``
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_FlowLog.html). A new flow
    log that cannot deliver shows no error at creation, only here and as an empty log group.
    The emulator delivers nothing itself (the course does, offline), so there is nothing to
    check on the local backend.

    Raises:
        AwsSetupError: delivery failed, with AWS's reason and what to do about it.
    """
    if cloud.backend != "aws":
        return
    found = cloud.ec2.describe_flow_logs(FlowLogIds=[flow_log.flow_log_id])["FlowLogs"]
    if not found or found[0].get("DeliverLogsStatus", "SUCCESS") != "FAILED":
        return
    reason = found[0].get("DeliverLogsErrorMessage") or "no reason given"
    advice = next((text for key, text in _DELIVERY_HELP.items() if key in reason),
                  "see the flow log in the VPC console")
    raise AwsSetupError(f"flow log {flow_log.flow_log_id} ({_describe(flow_log)}) exists but "
                        f"AWS reports its delivery FAILED: {reason}. What to do: {advice}")


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
