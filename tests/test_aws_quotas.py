"""The class plan's quotas and hourly cost, on AWS's documented answers (botocore Stubber).

The emulator answers Service Quotas for the ``vpc`` service only, so the aws path (applied
values from Service Quotas, the fallbacks when it refuses) is tested on stubbed clients.
"""

from __future__ import annotations

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber

from helpers.aws import quotas
from helpers.aws.account import Account
from helpers.cost import hourly
from helpers.errors import AwsSetupError, CostError

REGION = "ap-northeast-2"
APPLIED = {"L-F678F1CE": 50, "L-A4707A72": 50, "L-0263D0A3": 60, "L-FE5A380F": 5,
           "L-1216C47A": 200, "L-FE177D64": 1000, "L-6E65F664": 1000, "L-DC2B2D3D": 10000}
NOTHING_CREATED = pd.DataFrame({"resource": ["VPC", "InternetGateway", "NatGateway",
                                             "Instance", "InstanceProfile"],
                                "status": ["will be created"] * 5})


@pytest.fixture
def stubbed(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clients = {s: boto3.client(s, region_name=REGION)
               for s in ("ec2", "iam", "logs", "s3", "service-quotas")}
    stubs = {s: Stubber(c) for s, c in clients.items()}
    for stub in stubs.values():
        stub.activate()
    yield Account("aws", REGION, "123456789012", "kim", clients), stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def _usage(stubs, *, summary: dict) -> None:
    ec2 = stubs["ec2"]
    ec2.add_response("describe_vpcs", {"Vpcs": [{"VpcId": f"vpc-{i}"} for i in range(3)]})
    ec2.add_response("describe_internet_gateways", {"InternetGateways": [
        {"InternetGatewayId": "igw-1"}, {"InternetGatewayId": "igw-2"}]})
    ec2.add_response("describe_addresses", {"Addresses": [{"AllocationId": "eipalloc-1"}]})
    ec2.add_response("describe_nat_gateways", {"NatGateways": [
        {"NatGatewayId": "nat-1", "SubnetId": "subnet-a", "State": "available"},
        {"NatGatewayId": "nat-2", "SubnetId": "subnet-c", "State": "deleting"}]},
        {"Filters": [{"Name": "state", "Values": ["pending", "available", "deleting"]}]})
    ec2.add_response("describe_subnets", {"Subnets": [
        {"SubnetId": "subnet-a", "AvailabilityZone": "ap-northeast-2a"},
        {"SubnetId": "subnet-c", "AvailabilityZone": "ap-northeast-2c"}]},
        {"SubnetIds": ["subnet-a", "subnet-c"]})
    ec2.add_response("describe_instances", {"Reservations": [{"Instances": [
        {"InstanceId": "i-1", "InstanceType": "t3.micro",
         "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2}},
        {"InstanceId": "i-2", "InstanceType": "m5.xlarge",
         "CpuOptions": {"CoreCount": 2, "ThreadsPerCore": 2}},
        {"InstanceId": "i-3", "InstanceType": "g4dn.xlarge",  # not a standard family
         "CpuOptions": {"CoreCount": 2, "ThreadsPerCore": 2}}]}]},
        {"Filters": [{"Name": "instance-state-name", "Values": ["pending", "running"]}]})
    stubs["iam"].add_response("get_account_summary", {"SummaryMap": summary})
    stubs["logs"].add_response("describe_log_groups", {"logGroups": [
        {"logGroupName": "/a"}, {"logGroupName": "/b"}]})
    stubs["s3"].add_response("list_buckets", {"Buckets": [{"Name": "b1"}]})


def test_the_plan_reads_the_applied_quotas_and_what_is_in_use(stubbed):
    cloud, stubs = stubbed
    for quota in quotas.QUOTAS:
        if quota.code:
            stubs["service-quotas"].add_response(
                "get_service_quota",
                {"Quota": {"ServiceCode": quota.service, "QuotaCode": quota.code,
                           "Value": APPLIED[quota.code]}},
                {"ServiceCode": quota.service, "QuotaCode": quota.code})
    summary = {"Roles": 7, "InstanceProfiles": 2, "RolesQuota": 1000,
               "InstanceProfilesQuota": 1000}
    stubs["iam"].add_response("get_account_summary", {"SummaryMap": summary})
    _usage(stubs, summary=summary)

    plan = quotas.class_plan(cloud, 40, NOTHING_CREATED, layout="per-student")
    rows = plan.quotas.set_index("code")
    assert set(rows["source"].drop("")) == {"Service Quotas"}
    assert rows.loc["L-F678F1CE", ["needed", "in_use", "limit", "fits"]].tolist() == [
        40, 3, 50.0, True]
    # NAT gateways count per zone, in the states AWS counts: one in ap-northeast-2a.
    assert rows.loc["L-FE5A380F", ["needed", "in_use", "fits"]].tolist() == [40, 1, False]
    assert rows.loc["L-1216C47A", ["needed", "in_use"]].tolist() == [160, 6]  # t3 2 + m5 4
    assert rows.loc["L-FE177D64", ["needed", "in_use"]].tolist() == [80, 7]
    assert rows.loc["", ["needed", "in_use", "source"]].tolist() == [
        80, 2, "AWS default (quota not readable)"]
    assert not plan.fits
    assert "NAT gateways per Availability Zone: needs 40, 1 in use of 5 (L-FE5A380F; " \
           "Service Quotas)" in plan.summary()


def test_without_service_quotas_the_plan_falls_back_and_says_so(stubbed):
    cloud, stubs = stubbed
    for quota in quotas.QUOTAS:
        if quota.code:
            stubs["service-quotas"].add_client_error(
                "get_service_quota", service_error_code="AccessDeniedException",
                service_message="not authorized")
    stubs["ec2"].add_response("describe_account_attributes", {"AccountAttributes": [
        {"AttributeName": "vpc-max-elastic-ips",
         "AttributeValues": [{"AttributeValue": "7"}]}]},
        {"AttributeNames": ["vpc-max-elastic-ips"]})
    summary = {"Roles": 1, "InstanceProfiles": 0, "RolesQuota": 2000,
               "InstanceProfilesQuota": 1000}
    stubs["iam"].add_response("get_account_summary", {"SummaryMap": summary})
    _usage(stubs, summary=summary)

    plan = quotas.class_plan(cloud, 40, NOTHING_CREATED, layout="shared")
    rows = plan.quotas.set_index("code")
    assert rows.loc["L-0263D0A3", ["limit", "source"]].tolist() == [
        7.0, "DescribeAccountAttributes"]
    assert rows.loc["L-FE177D64", ["limit", "source"]].tolist() == [2000.0, "GetAccountSummary"]
    assert rows.loc["L-F678F1CE", ["limit", "source"]].tolist() == [
        5.0, "AWS default (quota not readable)"]
    assert rows.loc["L-F678F1CE", ["needed", "in_use", "fits"]].tolist() == [1, 3, True]
    # 6 vCPUs already run against the default of 5: even one shared lab needs an increase.
    assert rows.loc["L-1216C47A", ["needed", "in_use", "fits"]].tolist() == [4, 6, False]
    assert not plan.fits


@pytest.mark.parametrize("layout, students, expected", [
    ("shared", 40, {"vpcs": 1, "internet_gateways": 1, "elastic_ips": 1, "nat_gateways": 1,
                    "vcpus": 4, "instance_profiles": 1, "roles": 41, "log_groups": 80,
                    "buckets": 40}),
    ("per-student", 40, {"vpcs": 40, "internet_gateways": 40, "elastic_ips": 40,
                         "nat_gateways": 40, "vcpus": 160, "instance_profiles": 40,
                         "roles": 80, "log_groups": 80, "buckets": 40}),
    ("per-student", 5, {"vpcs": 5, "internet_gateways": 5, "elastic_ips": 5, "nat_gateways": 5,
                        "vcpus": 20, "instance_profiles": 5, "roles": 10, "log_groups": 10,
                        "buckets": 5}),
])
def test_what_a_class_needs(layout, students, expected):
    assert quotas.needs(layout, students) == expected


def test_a_lab_already_provisioned_needs_only_the_students_share():
    wanted = quotas.needs("shared", 40, shared_missing=set())
    assert wanted["vpcs"] == wanted["nat_gateways"] == wanted["vcpus"] == 0
    assert wanted["roles"] == 40


@pytest.mark.parametrize("args, words", [
    (("classroom", 40), "layout must be one of"),
    (("shared", 0), "students must be a whole number from 1"),
])
def test_bad_plan_arguments_are_explained(args, words):
    with pytest.raises(AwsSetupError, match=words):
        quotas.needs(*args)


def test_an_hour_of_the_class_lab_is_priced_with_its_sources():
    cost = hourly.hourly_cost({"nat_gateway_hour": 1, "public_ipv4_hour": 2,
                               "ec2_t3_micro_hour": 2}, "us-east-1")
    assert cost.set_index("item")["usd_per_hour"].to_dict() == {
        "nat_gateway_hour": 0.045, "public_ipv4_hour": 0.01, "ec2_t3_micro_hour": 0.0208}
    assert set(cost["region"]) == {"us-east-1"} and cost["as_of"].notna().all()
    assert cost["source"].str.startswith("https://aws.amazon.com/").all()
    with pytest.raises(CostError, match="unknown item 'nat_gateway'"):
        hourly.hourly_cost({"nat_gateway": 1})
    with pytest.raises(CostError, match="must be a count from 0"):
        hourly.hourly_cost({"nat_gateway_hour": -1})
