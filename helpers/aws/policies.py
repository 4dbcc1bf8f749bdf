"""IAM documents the flow-log set-up needs, built as AWS documents them (pure functions).

- Role for publishing to CloudWatch Logs: trust ``vpc-flow-logs.amazonaws.com`` with the
  confused-deputy conditions, and allow exactly five ``logs:`` actions
  (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html). The lesson's
  ``CloudWatchLogsFullAccess`` grants every CloudWatch Logs action on every log group in the
  account, far more than publishing flow logs needs.
- Bucket policy for publishing to S3: let ``delivery.logs.amazonaws.com`` put objects under
  ``AWSLogs/<account>/`` and read the bucket ACL
  (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html).
- A class sharing one account: the students' own policy (``student_policy.json``) and the
  permissions boundary every role a student creates must carry (``student_boundary.json``),
  both shipped beside this module as templates (:func:`student_policy`,
  :func:`student_boundary`). A student may create roles only under their own name and only
  with the boundary, and may pass only their flow-log role, only to the flow-log service
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html;
  https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html#flow-logs-iam-user).
"""

from __future__ import annotations

import json
from importlib import resources

__all__ = ["FLOW_LOG_ACTIONS", "boundary_name", "bucket_policy", "role_policy",
           "student_boundary", "student_policy", "student_policy_name", "trust_policy"]

FLOW_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
)


def trust_policy(account_id: str, region: str) -> dict:
    """Who may assume the flow-log role: only the flow-log service, for this account's logs."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn":
                            f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/*"},
            },
        }],
    }


def role_policy(account_id: str, region: str, log_group_prefix: str) -> dict:
    """What the role may do: the five actions, on the course's log groups only.

    ``log_group_prefix`` (``/aws/vpc/flowlogs``) covers every group whose name starts with it,
    and their streams, through the trailing ``*`` of the resource ARN.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": list(FLOW_LOG_ACTIONS),
            "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:{log_group_prefix}*",
        }],
    }


def bucket_policy(bucket: str, account_id: str, region: str) -> dict:
    """Let the log-delivery service write flow logs to ``bucket`` (plain and Hive prefixes)."""
    condition = {
        "StringEquals": {"aws:SourceAccount": account_id},
        "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{account_id}:*"},
    }
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSLogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": [f"arn:aws:s3:::{bucket}/AWSLogs/{account_id}/*",
                             f"arn:aws:s3:::{bucket}/AWSLogs/aws-account-id={account_id}/*"],
                "Condition": {
                    "StringEquals": {**condition["StringEquals"],
                                     "s3:x-amz-acl": "bucket-owner-full-control"},
                    "ArnLike": condition["ArnLike"],
                },
            },
            {
                "Sid": "AWSLogDeliveryAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": condition,
            },
        ],
    }


def boundary_name(class_name: str) -> str:
    """The managed policy name of a class's permissions boundary (``<class>-student-boundary``)."""
    return f"{class_name}-student-boundary"


def student_policy_name(class_name: str) -> str:
    """The managed policy name of a class's student policy (``<class>-student``)."""
    return f"{class_name}-student"


def student_policy(account_id: str, region: str, class_name: str) -> dict:
    """What a student of the class may do (attach it to the students' IAM group).

    Resources are scoped with ``${aws:username}``: each student signs in as an IAM user named
    like their ``student=`` name, and reaches only their own log groups, roles, buckets,
    dashboards, topics and flow logs. ``logs:CreateLogDelivery``/``DeleteLogDelivery`` are
    what a flow log to S3 needs from its creator.
    """
    return _template("student_policy.json", account_id, region, class_name)


def student_boundary(account_id: str, region: str, class_name: str) -> dict:
    """The permissions boundary on every role a student creates: publish flow logs to the
    course's log groups (``/aws/vpc/*``), nothing else, whatever the role's own policy says."""
    return _template("student_boundary.json", account_id, region, class_name)


def _template(file: str, account_id: str, region: str, class_name: str) -> dict:
    text = resources.files("helpers.aws").joinpath(file).read_text(encoding="utf-8")
    for key, value in (("account", account_id), ("region", region), ("class", class_name)):
        text = text.replace("{{" + key + "}}", value)
    return json.loads(text)
