"""The account's quotas a class needs, read before anything is created, and the hourly cost.

A lab VPC per student runs into the Region's default quotas at the fifth or sixth student
(5 VPCs, 5 internet gateways, 5 Elastic IPs per Region; 5 NAT gateways per Availability Zone;
a small On-Demand vCPU quota on new accounts). :func:`class_plan` counts what a class of N
students needs in either layout (``shared``: one lab for the class, provisioned by the
instructor; ``per-student``: one lab each), reads each quota's current value and what is in
use, and prices one class hour, so the instructor sees both before creating anything.

Where each value comes from, in order: Service Quotas ``GetServiceQuota`` (the applied
value), EC2 ``DescribeAccountAttributes`` (Elastic IPs), IAM ``GetAccountSummary`` (roles,
instance profiles), else the documented default (said so in the ``source`` column). The
emulator answers Service Quotas for the ``vpc`` service only; the aws path uses the documented
API shapes (tested with botocore's Stubber).

Quota codes and defaults:
https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html (VPCs L-F678F1CE,
internet gateways L-A4707A72, NAT gateways per AZ L-FE5A380F "count in the pending, active
and deleting states", Elastic IPs L-0263D0A3 of service ec2);
https://docs.aws.amazon.com/general/latest/gr/ec2-service.html (Running On-Demand Standard
(A, C, D, H, I, M, R, T, Z) instances, in vCPUs, L-1216C47A; its default differs by account);
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (roles
L-FE177D64, instance profiles L-6E65F664: 1,000 each);
https://docs.aws.amazon.com/general/latest/gr/cwl_region.html (log groups: 1,000,000 per
Region); https://docs.aws.amazon.com/AmazonS3/latest/userguide/BucketRestrictions.html
(general purpose buckets L-DC2B2D3D: 10,000). VPC flow logs have no quota of their own on
the VPC quotas page, so the plan lists none.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from helpers.aws.account import Account
from helpers.cost import hourly
from helpers.errors import AwsSetupError, CostError

__all__ = ["LAYOUTS", "QUOTAS", "ClassPlan", "Quota", "class_plan", "needs", "read_limits",
           "read_usage"]

LAYOUTS = ("shared", "per-student")
INSTANCE_VCPUS = 2  # t3.micro
LAB_INSTANCES = 2  # web and private
LOG_GROUPS_PER_STUDENT = 2  # the flow-log group and one variant (실습 3's custom format)
STANDARD_FAMILIES = tuple("acdhimrtz")  # the On-Demand "Standard" vCPU quota's families


@dataclass(frozen=True)
class Quota:
    """One quota the lab counts against."""

    key: str
    name: str
    service: str  # the Service Quotas service code
    code: str  # the Service Quotas quota code
    default: float  # AWS's documented default
    scope: str  # "Region", "Availability Zone" or "account"


QUOTAS: tuple[Quota, ...] = (
    Quota("vpcs", "VPCs per Region", "vpc", "L-F678F1CE", 5, "Region"),
    Quota("internet_gateways", "Internet gateways per Region", "vpc", "L-A4707A72", 5,
          "Region"),
    Quota("elastic_ips", "EC2-VPC Elastic IPs", "ec2", "L-0263D0A3", 5, "Region"),
    Quota("nat_gateways", "NAT gateways per Availability Zone", "vpc", "L-FE5A380F", 5,
          "Availability Zone"),
    Quota("vcpus", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances (vCPUs)",
          "ec2", "L-1216C47A", 5, "Region"),
    Quota("roles", "IAM roles per account", "iam", "L-FE177D64", 1000, "account"),
    Quota("instance_profiles", "IAM instance profiles per account", "iam", "L-6E65F664", 1000,
          "account"),
    Quota("log_groups", "CloudWatch Logs log groups per Region", "logs", "", 1_000_000,
          "Region"),
    Quota("buckets", "S3 general purpose buckets per account", "s3", "L-DC2B2D3D", 10_000,
          "account"),
)
"""Every quota a class's set-up counts against."""


@dataclass(frozen=True)
class ClassPlan:
    """What a class needs, against the account, before anything is created.

    ``quotas``: one row per quota (``needed``, ``in_use``, ``limit``, ``free``, ``fits``,
    where the limit was read). ``cost``: one row per hourly item of a class hour (region,
    source and as-of date of each price). ``resources``: what the lab set-up would create.
    """

    layout: str
    students: int
    quotas: pd.DataFrame
    cost: pd.DataFrame
    resources: pd.DataFrame

    @property
    def fits(self) -> bool:
        """Whether every quota has room for what the class needs."""
        return bool(self.quotas["fits"].all())

    @property
    def usd_per_hour(self) -> float:
        """What the running resources of the class cost per hour (data charges on top)."""
        return round(float(self.cost["usd_per_hour"].sum()), 4)

    def summary(self) -> str:
        """One line per quota that does not fit, then the hourly cost, in plain text."""
        lines = [f"{self.layout} lab, {self.students} students: "
                 + ("every quota fits" if self.fits else "quota increase needed")]
        for row in self.quotas[~self.quotas["fits"]].itertuples():
            lines.append(f"  {row.quota}: needs {row.needed}, {row.in_use} in use of "
                         f"{row.limit:g} ({row.code or 'no code'}; {row.source})")
        region = self.cost["region"].iloc[0] if len(self.cost) else "?"
        lines.append(f"  running cost ≈ ${self.usd_per_hour:.3f} per class hour in {region} "
                     "(NAT data and flow-log delivery per GB on top)")
        return "\n".join(lines)


def needs(layout: str, students: int, *, shared_missing: set[str] | None = None,
          instance_profile: bool = True) -> dict[str, int]:
    """How many of each quota's resource a class's set-up creates (pure arithmetic).

    Args:
        layout: ``"shared"`` (one lab for the class) or ``"per-student"`` (a lab each).
        students: the class size.
        shared_missing: shared layout: the lab's resource kinds not created yet ("VPC",
            "InternetGateway", "NatGateway", "Instance", "InstanceProfile"); None: all.
        instance_profile: whether the lab's instances get an instance profile (aws).

    >>> needs("shared", 40)["vpcs"], needs("per-student", 40)["vpcs"]
    (1, 40)
    >>> needs("shared", 40)["roles"]   # 40 flow-log roles and the lab's SSM role
    41
    """
    if layout not in LAYOUTS:
        raise AwsSetupError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    if isinstance(students, bool) or not isinstance(students, int) or students < 1:
        raise AwsSetupError(f"students must be a whole number from 1, not {students!r}")
    lab = {"vpcs": 1, "internet_gateways": 1, "elastic_ips": 1, "nat_gateways": 1,
           "vcpus": LAB_INSTANCES * INSTANCE_VCPUS, "instance_profiles": int(instance_profile)}
    if layout == "shared" and shared_missing is not None:
        kinds = {"vpcs": "VPC", "internet_gateways": "InternetGateway",
                 "elastic_ips": "NatGateway", "nat_gateways": "NatGateway",
                 "vcpus": "Instance", "instance_profiles": "InstanceProfile"}
        lab = {k: v if kinds[k] in shared_missing else 0 for k, v in lab.items()}
    labs = 1 if layout == "shared" else students
    total = {k: labs * v for k, v in lab.items()}
    total["roles"] = students + total["instance_profiles"]  # flow-log roles + the SSM roles
    total["log_groups"] = LOG_GROUPS_PER_STUDENT * students
    total["buckets"] = students  # 실습 1's S3 destination
    return total


def read_limits(cloud: Account) -> dict[str, tuple[float, str]]:
    """Each quota's current value and where it was read (see the module's docstring)."""
    found: dict[str, tuple[float, str]] = {}
    service_quotas = cloud.client("service-quotas")
    for quota in QUOTAS:
        if quota.code:
            try:
                value = service_quotas.get_service_quota(
                    ServiceCode=quota.service, QuotaCode=quota.code)["Quota"]["Value"]
                found[quota.key] = (float(value), "Service Quotas")
                continue
            except (ClientError, BotoCoreError, KeyError):
                pass  # not readable here (the emulator, or no permission): the fallbacks
        found[quota.key] = (float(quota.default), "AWS default (quota not readable)")
    if found["elastic_ips"][1] != "Service Quotas":
        value = _account_attribute(cloud, "vpc-max-elastic-ips")
        if value is not None:
            found["elastic_ips"] = (value, "DescribeAccountAttributes")
    summary = _account_summary(cloud)
    for key, name in (("roles", "RolesQuota"), ("instance_profiles", "InstanceProfilesQuota")):
        if found[key][1] != "Service Quotas" and name in summary:
            found[key] = (float(summary[name]), "GetAccountSummary")
    return found


def read_usage(cloud: Account, zone: str) -> dict[str, int]:
    """How many of each quota's resources the account (Region) holds now.

    NAT gateways count in ``zone`` only, in the states AWS counts (pending, available,
    deleting); vCPUs of pending and running instances of the standard families.
    """
    ec2 = cloud.ec2
    vpcs = _count(ec2, "describe_vpcs", "Vpcs")
    igws = _count(ec2, "describe_internet_gateways", "InternetGateways")
    eips = len(ec2.describe_addresses().get("Addresses", []))
    nats = [n for page in ec2.get_paginator("describe_nat_gateways").paginate(
        Filters=[{"Name": "state", "Values": ["pending", "available", "deleting"]}])
        for n in page["NatGateways"]]
    subnets = {n["SubnetId"] for n in nats}
    zones = {}
    if subnets:
        zones = {s["SubnetId"]: s["AvailabilityZone"] for s in ec2.describe_subnets(
            SubnetIds=sorted(subnets))["Subnets"]}
    nat_in_zone = sum(1 for n in nats if zones.get(n["SubnetId"]) == zone)
    vcpus = 0
    for page in ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}]):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                if instance["InstanceType"][0] in STANDARD_FAMILIES:
                    cpu = instance.get("CpuOptions") or {}
                    vcpus += (cpu.get("CoreCount", 1) * cpu.get("ThreadsPerCore", 2)
                              if cpu else INSTANCE_VCPUS)
    summary = _account_summary(cloud)
    log_groups = sum(len(page["logGroups"]) for page in
                     cloud.logs.get_paginator("describe_log_groups").paginate())
    buckets = len(cloud.s3.list_buckets().get("Buckets", []))
    return {"vpcs": vpcs, "internet_gateways": igws, "elastic_ips": eips,
            "nat_gateways": nat_in_zone, "vcpus": vcpus,
            "roles": int(summary.get("Roles", 0)),
            "instance_profiles": int(summary.get("InstanceProfiles", 0)),
            "log_groups": log_groups, "buckets": buckets}


def class_plan(cloud: Account, students: int, resources: pd.DataFrame,
               layout: str = "shared") -> ClassPlan:
    """Quotas and hourly cost of a class of ``students`` in ``layout``.

    ``resources`` is the lab's resource table (:func:`helpers.aws.lab.plan`): in the shared
    layout only what it says "will be created" still counts against the quotas.
    """
    zone = cloud.region + "a"  # the lab's NAT gateway lives in public-a
    missing = set(resources.loc[resources["status"] == "will be created", "resource"])
    wanted = needs(layout, students, shared_missing=missing if layout == "shared" else None,
                   instance_profile=cloud.backend == "aws")
    limits, usage = read_limits(cloud), read_usage(cloud, zone)
    rows = []
    for quota in QUOTAS:
        limit, source = limits[quota.key]
        in_use, need = usage[quota.key], wanted[quota.key]
        rows.append({"quota": quota.name, "code": quota.code, "scope": quota.scope,
                     "needed": need, "in_use": in_use, "limit": limit,
                     "free": max(0.0, limit - in_use), "fits": in_use + need <= limit,
                     "source": source})
    labs = 1 if layout == "shared" else students
    try:
        cost = hourly.hourly_cost({"nat_gateway_hour": labs,
                                   "public_ipv4_hour": 2 * labs,  # NAT's EIP, web's public IP
                                   "ec2_t3_micro_hour": LAB_INSTANCES * labs}, cloud.region)
    except CostError as err:  # a region the course's price table does not cover
        raise AwsSetupError(f"no hourly prices for {cloud.region}: {err}") from err
    return ClassPlan(layout, students, pd.DataFrame(rows), cost, resources)


def _count(ec2, method: str, key: str) -> int:
    return sum(len(page[key]) for page in ec2.get_paginator(method).paginate())


def _account_attribute(cloud: Account, name: str) -> float | None:
    try:
        attributes = cloud.ec2.describe_account_attributes(AttributeNames=[name])
    except (ClientError, BotoCoreError):
        return None
    for attribute in attributes.get("AccountAttributes", []):
        if attribute["AttributeName"] == name and attribute.get("AttributeValues"):
            return float(attribute["AttributeValues"][0]["AttributeValue"])
    return None


def _account_summary(cloud: Account) -> dict:
    try:
        return cloud.iam.get_account_summary()["SummaryMap"]
    except (ClientError, BotoCoreError):
        return {}
