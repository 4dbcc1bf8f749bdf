"""IAM documents the flow-log set-up needs, built as AWS documents them (pure functions).

- Role for publishing to CloudWatch Logs: trust ``vpc-flow-logs.amazonaws.com`` with the
  confused-deputy conditions, and allow exactly five ``logs:`` actions
  (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html). The lesson's
  ``CloudWatchLogsFullAccess`` grants every CloudWatch Logs action on every log group in the
  account, far more than publishing flow logs needs.
- Bucket policy for publishing to S3: let ``delivery.logs.amazonaws.com`` put objects under
  ``AWSLogs/<account>/`` and read the bucket ACL
  (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html).
"""

from __future__ import annotations

__all__ = ["FLOW_LOG_ACTIONS", "bucket_policy", "role_policy", "trust_policy"]

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
