"""Delete what the course created, found by its tags, in dependency order; nothing else.

A resource is the course's when it carries the ``course``, ``lesson`` and ``student`` tags of
the :class:`~helpers.aws.cloud.Cloud` (so one student's teardown leaves another's alone).
Dashboards and metric filters cannot carry tags: the course's are found by their names.
Every deletion is reported; the returned table lists them.

An S3 bucket of the course is emptied and deleted only when it holds nothing but flow-log
files (``AWSLogs/``); objects someone else put there are listed and kept, with the bucket,
unless ``delete_other_objects=True``.
"""

from __future__ import annotations

import pandas as pd
from botocore.exceptions import ClientError

from helpers.aws import responder
from helpers.aws.account import Account
from helpers.aws.ec2_resources import find_all
from helpers.monitoring import names

__all__ = ["COURSE_PREFIXES", "teardown"]

COURSE_PREFIXES = ("AWSLogs/",)
"""Key prefixes of the objects the course (or the flow-log service for it) writes."""


def teardown(cloud: Account, *, delete_other_objects: bool = False) -> pd.DataFrame:
    """Delete the course's resources (for this student) and return what was deleted.

    Args:
        delete_other_objects: also delete objects in the course's buckets that are not
            flow-log files (by default such a bucket is kept and its objects listed).
    """
    done: list[tuple[str, str]] = []

    def deleted(kind: str, name: str) -> None:
        cloud.say("deleted", f"{kind} {name}")
        done.append((kind, name))

    ec2 = cloud.ec2
    flow_logs = [f["FlowLogId"] for f in find_all(cloud, "flow-log")]
    if flow_logs:
        ec2.delete_flow_logs(FlowLogIds=flow_logs)
        for flow_log in flow_logs:
            deleted("flow log", flow_log)

    responder.remove(cloud, deleted)  # the auto-block function, before its role and log group

    instances = [i["InstanceId"] for i in find_all(cloud, "instance")]
    if instances:
        ec2.terminate_instances(InstanceIds=instances)
        if cloud.backend == "aws":
            ec2.get_waiter("instance_terminated").wait(InstanceIds=instances)
        for instance in instances:
            deleted("instance", instance)

    nats = [n["NatGatewayId"] for n in find_all(cloud, "natgateway")]
    for nat in nats:
        ec2.delete_nat_gateway(NatGatewayId=nat)
        deleted("NAT gateway", nat)
    if nats and cloud.backend == "aws":
        ec2.get_waiter("nat_gateway_deleted").wait(NatGatewayIds=nats)
    for address in find_all(cloud, "elastic-ip"):
        ec2.release_address(AllocationId=address["AllocationId"])
        deleted("Elastic IP", address["AllocationId"])

    vpcs = [v["VpcId"] for v in find_all(cloud, "vpc")]
    for igw in find_all(cloud, "internet-gateway"):
        for attachment in igw.get("Attachments", []):
            ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"],
                                        VpcId=attachment["VpcId"])
        ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        deleted("internet gateway", igw["InternetGatewayId"])
    for table in find_all(cloud, "route-table"):
        for association in table.get("Associations", []):
            if not association.get("Main"):
                ec2.disassociate_route_table(
                    AssociationId=association["RouteTableAssociationId"])
        ec2.delete_route_table(RouteTableId=table["RouteTableId"])
        deleted("route table", table["RouteTableId"])
    for acl in find_all(cloud, "network-acl"):
        default = ec2.describe_network_acls(Filters=[
            {"Name": "vpc-id", "Values": [acl["VpcId"]]},
            {"Name": "default", "Values": ["true"]}])["NetworkAcls"][0]["NetworkAclId"]
        for association in acl.get("Associations", []):
            ec2.replace_network_acl_association(
                AssociationId=association["NetworkAclAssociationId"], NetworkAclId=default)
        ec2.delete_network_acl(NetworkAclId=acl["NetworkAclId"])
        deleted("network ACL", acl["NetworkAclId"])
    for group in find_all(cloud, "security-group"):
        ec2.delete_security_group(GroupId=group["GroupId"])
        deleted("security group", group["GroupId"])
    for subnet in find_all(cloud, "subnet"):
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        deleted("subnet", subnet["SubnetId"])
    for vpc in vpcs:
        ec2.delete_vpc(VpcId=vpc)
        deleted("VPC", vpc)

    _delete_monitoring(cloud, deleted)

    for page in cloud.logs.get_paginator("describe_log_groups").paginate():
        for group in page["logGroups"]:
            name = group["logGroupName"]
            if cloud.owns(cloud.logs.list_tags_log_group(logGroupName=name).get("tags", {})):
                cloud.logs.delete_log_group(logGroupName=name)
                deleted("log group", name)

    for bucket in cloud.s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        try:
            tags = cloud.s3.get_bucket_tagging(Bucket=name)["TagSet"]
        except ClientError:
            continue  # no tags: not the course's
        if cloud.owns(tags) and _empty_bucket(cloud, name, delete_other_objects):
            cloud.s3.delete_bucket(Bucket=name)
            deleted("S3 bucket", name)

    for page in cloud.iam.get_paginator("list_instance_profiles").paginate():
        for profile in page["InstanceProfiles"]:
            name = profile["InstanceProfileName"]
            tags = cloud.iam.get_instance_profile(InstanceProfileName=name)[
                "InstanceProfile"].get("Tags", [])
            if cloud.owns(tags):
                for role in profile["Roles"]:
                    cloud.iam.remove_role_from_instance_profile(InstanceProfileName=name,
                                                                RoleName=role["RoleName"])
                cloud.iam.delete_instance_profile(InstanceProfileName=name)
                deleted("instance profile", name)

    for page in cloud.iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            name = role["RoleName"]
            if cloud.owns(cloud.iam.list_role_tags(RoleName=name)["Tags"]):
                for policy in cloud.iam.list_role_policies(RoleName=name)["PolicyNames"]:
                    cloud.iam.delete_role_policy(RoleName=name, PolicyName=policy)
                for policy in cloud.iam.list_attached_role_policies(RoleName=name)[
                        "AttachedPolicies"]:
                    cloud.iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
                cloud.iam.delete_role(RoleName=name)
                deleted("IAM role", name)

    if not done:
        print("Nothing to delete: no resource carries the course's tags.")
    return pd.DataFrame(done, columns=["resource", "id"])


def _delete_monitoring(cloud: Account, deleted) -> None:
    """Alarms and SNS topics (with their subscriptions) by the course's tags; dashboards and
    metric filters, which carry no tags, by the course's names (student-prefixed)."""
    cw = cloud.cloudwatch
    alarms = []
    for page in cw.get_paginator("describe_alarms").paginate(
            AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
            if cloud.owns(tags):
                alarms.append(alarm["AlarmName"])
    for start in range(0, len(alarms), 100):  # DeleteAlarms takes up to 100 names
        cw.delete_alarms(AlarmNames=alarms[start:start + 100])
    for name in alarms:
        deleted("alarm", name)

    dashboard = cloud.name(names.DASHBOARD)
    entries = cw.list_dashboards(DashboardNamePrefix=dashboard).get("DashboardEntries", [])
    if any(e["DashboardName"] == dashboard for e in entries):
        cw.delete_dashboards(DashboardNames=[dashboard])
        deleted("dashboard", dashboard)

    metric_filter = cloud.name(names.REJECTS_FILTER)
    for page in cloud.logs.get_paginator("describe_metric_filters").paginate():
        for item in page["metricFilters"]:
            namespaces = {t.get("metricNamespace") for t in item.get("metricTransformations", [])}
            if item["filterName"] == metric_filter and names.REJECTS_NAMESPACE in namespaces:
                cloud.logs.delete_metric_filter(logGroupName=item["logGroupName"],
                                                filterName=item["filterName"])
                deleted("metric filter", f"{item['logGroupName']}:{item['filterName']}")

    sns = cloud.sns
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            arn = topic["TopicArn"]
            if not cloud.owns(sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])):
                continue
            for subs in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
                for sub in subs["Subscriptions"]:
                    if sub["SubscriptionArn"].startswith("arn:"):  # not PendingConfirmation
                        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
                        deleted("SNS subscription", sub["Endpoint"])
            sns.delete_topic(TopicArn=arn)
            deleted("SNS topic", arn.rsplit(":", 1)[-1])


def _empty_bucket(cloud: Account, bucket: str, delete_other_objects: bool) -> bool:
    """Delete the bucket's objects; False (nothing deleted) when some are not the course's."""
    keys = []
    for page in cloud.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    others = [k for k in keys if not k.startswith(COURSE_PREFIXES)]
    if others and not delete_other_objects:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3
                                         else "")
        cloud.say("kept", f"S3 bucket {bucket}: it holds {len(others)} object(s) the course "
                          f"did not write ({shown}); teardown(delete_other_objects=True) "
                          "deletes them with the bucket")
        return False
    for start in range(0, len(keys), 1000):  # DeleteObjects takes up to 1,000 keys
        cloud.s3.delete_objects(Bucket=bucket, Delete={
            "Objects": [{"Key": k} for k in keys[start:start + 1000]]})
    return True
