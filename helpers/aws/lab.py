"""The lab VPC (SAA-Study-VPC) in the emulator or a real account, as a Topology.

Built from the one specification in :data:`helpers.traffic.topology.LAB`; each resource is
found by its Name tag and the course's tags first, so running the set-up again creates nothing
new. Resources without the course's tags are never modified.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd

from helpers.aws.account import Account
from helpers.aws.ec2_resources import find
from helpers.errors import AwsSetupError
from helpers.traffic.topology import (
    ALL,
    LAB,
    Interface,
    NetworkAcl,
    SecurityGroup,
    SgRule,
    Subnet,
    Topology,
)

__all__ = ["lab_vpc", "plan"]

AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
INSTANCE_TYPE = "t3.micro"
INSTANCE_ROLE = "course-ssm"  # lets SSM Run Command reach the instances (live traffic)
SSM_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
EC2_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def plan(cloud: Account) -> pd.DataFrame:
    """One row per resource of the lab: its type, name and whether it exists already."""
    rows = []
    vpc = find(cloud, "vpc", cloud.name(LAB.vpc_name))
    rows.append(("VPC", cloud.name(LAB.vpc_name), vpc))
    for name, cidr, *_ in LAB.subnets:
        rows.append(("Subnet", f"{cloud.name(name)} ({cidr})", find(cloud, "subnet",
                                                                      cloud.name(name))))
    rows.append(("InternetGateway", cloud.name("igw"), find(cloud, "internet-gateway",
                                                             cloud.name("igw"))))
    rows.append(("NatGateway", cloud.name("nat"), find(cloud, "natgateway", cloud.name("nat"))))
    for name, *_ in LAB.security_groups:
        rows.append(("SecurityGroup", cloud.name(name), find(cloud, "security-group",
                                                              cloud.name(name))))
    for name, *_ in LAB.network_acls:
        rows.append(("NetworkAcl", cloud.name(name), find(cloud, "network-acl", cloud.name(name))))
    if cloud.backend == "aws":  # only real instances can run commands (live traffic)
        rows.append(("InstanceProfile", cloud.name(INSTANCE_ROLE),
                     _instance_profile(cloud, cloud.name(INSTANCE_ROLE))))
    for role, *_ in LAB.instances:
        rows.append(("Instance", f"{cloud.name(role)} ({INSTANCE_TYPE})",
                     find(cloud, "instance", cloud.name(role))))
    table = pd.DataFrame(rows, columns=["resource", "name", "id"])
    table["status"] = table["id"].map(lambda i: "exists" if i else "will be created")
    return table


def lab_vpc(cloud: Account, *, create: bool) -> Topology:
    """Find the lab VPC, creating what is missing when ``create`` is true."""
    vpc_name = cloud.name(LAB.vpc_name)
    vpc_id = find(cloud, "vpc", vpc_name)
    if vpc_id is None and not create:
        raise AwsSetupError(
            f"no VPC named {vpc_name!r} with the course's tags in {cloud.region}. "
            "Look at cloud.plan() (what would be created, and the cost note in the README), "
            "then call cloud.lab_vpc(create=True)")
    build = _Builder(cloud, create)
    return build.run(vpc_id)


def _instance_profile(cloud: Account, name: str) -> str | None:
    """ARN of the course's instance profile with this name, or None."""
    try:
        profile = cloud.iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    except cloud.iam.exceptions.NoSuchEntityException:
        return None
    return profile["Arn"] if cloud.owns(profile.get("Tags", [])) else None


class _Builder:
    """Find-or-create each part of the lab in order, reporting every step."""

    def __init__(self, cloud: Account, create: bool):
        self.cloud, self.ec2, self.create = cloud, cloud.ec2, create

    def ensure(self, kind: str, name: str, make) -> str:
        found = find(self.cloud, kind, name)
        if found:
            self.cloud.say("exists", f"{kind} {name} ({found})")
            return found
        if not self.create:
            raise AwsSetupError(f"the lab's {kind} {name!r} is missing; call "
                                "cloud.lab_vpc(create=True) to create what is missing")
        made = make()
        self.cloud.say("created", f"{kind} {name} ({made})")
        return made

    def spec(self, resource_type: str, name: str) -> list[dict]:
        return [{"ResourceType": resource_type, "Tags": self.cloud.tag_list(name)}]

    def run(self, vpc_id: str | None) -> Topology:
        cloud, ec2 = self.cloud, self.ec2
        vpc_id = self.ensure("vpc", cloud.name(LAB.vpc_name), lambda: ec2.create_vpc(
            CidrBlock=LAB.vpc_cidr, TagSpecifications=self.spec("vpc", cloud.name(LAB.vpc_name))
        )["Vpc"]["VpcId"])
        subnet_ids = {}
        for name, cidr, az, public in LAB.subnets:
            subnet_ids[name] = self.ensure("subnet", cloud.name(name),
                                           lambda n=name, c=cidr, a=az, p=public:
                                           self._subnet(vpc_id, n, c, a, p))
        igw = self.ensure("internet-gateway", cloud.name("igw"), lambda: self._internet_gateway(
            vpc_id))
        nat_id = self.ensure("natgateway", cloud.name("nat"), lambda: self._nat_gateway(
            subnet_ids[LAB.nat_subnet]))
        self.ensure("route-table", cloud.name("public-rt"), lambda: self._route_table(
            vpc_id, "public-rt", {"GatewayId": igw},
            [subnet_ids[n] for n, _, _, public in LAB.subnets if public]))
        self.ensure("route-table", cloud.name("private-rt"), lambda: self._route_table(
            vpc_id, "private-rt", {"NatGatewayId": nat_id},
            [subnet_ids[n] for n, _, _, public in LAB.subnets if not public]))
        group_ids = {}
        for name, description, rules in LAB.security_groups:
            group_ids[name] = self.ensure("security-group", cloud.name(name),
                                          lambda n=name, d=description, r=rules:
                                          self._security_group(vpc_id, n, d, r))
        acl_ids = {}
        for name, subnets, entries in LAB.network_acls:
            acl_ids[name] = self.ensure("network-acl", cloud.name(name),
                                        lambda n=name, s=subnets, e=entries:
                                        self._network_acl(vpc_id, n, [subnet_ids[x] for x in s],
                                                          e))
        # Real instances get an instance profile so SSM Run Command can send them lab 2's
        # commands; the emulator runs no commands, so offline they go without.
        profile = self._ensure_instance_profile() if cloud.backend == "aws" else None
        image = None
        interfaces = []
        for role, subnet, ip, group in LAB.instances:
            def launch(role=role, subnet=subnet, ip=ip, group=group):
                nonlocal image
                image = image or self._image()
                return ec2.run_instances(
                    ImageId=image, InstanceType=INSTANCE_TYPE, MinCount=1, MaxCount=1,
                    SubnetId=subnet_ids[subnet], PrivateIpAddress=ip,
                    SecurityGroupIds=[group_ids[group]],
                    TagSpecifications=self.spec("instance", cloud.name(role)),
                    **({"IamInstanceProfile": {"Arn": profile}} if profile else {}),
                )["Instances"][0]["InstanceId"]
            instance_id = self.ensure("instance", cloud.name(role), launch)
            described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
                "Instances"][0]
            eni = described["NetworkInterfaces"][0]
            interfaces.append(Interface(eni["NetworkInterfaceId"], role, eni["PrivateIpAddress"],
                                        subnet_ids[subnet], instance_id, (group_ids[group],),
                                        described.get("PublicIpAddress")))
        interfaces.append(self._nat_interface(nat_id, subnet_ids[LAB.nat_subnet]))
        return Topology(
            account_id=cloud.account_id, region=cloud.region, vpc_id=vpc_id,
            vpc_cidr=LAB.vpc_cidr,
            subnets=tuple(Subnet(subnet_ids[n], n, c, cloud.region + a, p)
                          for n, c, a, p in LAB.subnets),
            interfaces=tuple(interfaces),
            security_groups=tuple(
                SecurityGroup(group_ids[n], n, d, tuple(_resolve(r, group_ids) for r in rules))
                for n, d, rules in LAB.security_groups),
            network_acls=tuple(NetworkAcl(acl_ids[n], n, tuple(subnet_ids[x] for x in s), e)
                               for n, s, e in LAB.network_acls),
            internet_gateway_id=igw, nat_gateway_id=nat_id, admin_cidr=LAB.admin_cidr)

    # --- creators ---------------------------------------------------------------------------
    def _subnet(self, vpc_id: str, name: str, cidr: str, az: str, public: bool) -> str:
        subnet = self.ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=self.cloud.region + az,
            TagSpecifications=self.spec("subnet", self.cloud.name(name)))["Subnet"]["SubnetId"]
        if public:  # instances launched here get a public IPv4 address, as in the lesson
            self.ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        return subnet

    def _internet_gateway(self, vpc_id: str) -> str:
        igw = self.ec2.create_internet_gateway(TagSpecifications=self.spec(
            "internet-gateway", self.cloud.name("igw")))["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        return igw

    def _nat_gateway(self, subnet_id: str) -> str:
        eip = self.ec2.allocate_address(Domain="vpc", TagSpecifications=self.spec(
            "elastic-ip", self.cloud.name("nat-eip")))
        nat = self.ec2.create_nat_gateway(
            SubnetId=subnet_id, AllocationId=eip["AllocationId"],
            TagSpecifications=self.spec("natgateway", self.cloud.name("nat")))["NatGateway"]
        if self.cloud.backend == "aws":
            print("waiting for the NAT gateway to become available (a few minutes) ...")
            self.ec2.get_waiter("nat_gateway_available").wait(
                NatGatewayIds=[nat["NatGatewayId"]])
        return nat["NatGatewayId"]

    def _nat_interface(self, nat_id: str, subnet_id: str) -> Interface:
        nat = self.ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
        address = nat["NatGatewayAddresses"][0]
        # The emulator gives its NAT gateway a private IP outside the subnet; offline, the
        # simulated NAT interface takes the lab's address in the public subnet instead.
        private_ip = (address["PrivateIp"] if self.cloud.backend == "aws"
                      else LAB.nat_private_ip)
        return Interface(address["NetworkInterfaceId"], "nat", private_ip, subnet_id, None, (),
                         address.get("PublicIp"))

    def _route_table(self, vpc_id: str, name: str, target: dict, subnets: list[str]) -> str:
        table = self.ec2.create_route_table(VpcId=vpc_id, TagSpecifications=self.spec(
            "route-table", self.cloud.name(name)))["RouteTable"]["RouteTableId"]
        self.ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", **target)
        for subnet in subnets:
            self.ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        return table

    def _security_group(self, vpc_id: str, name: str, description: str, rules) -> str:
        group = self.ec2.create_security_group(
            GroupName=self.cloud.name(name), Description=description, VpcId=vpc_id,
            TagSpecifications=self.spec("security-group", self.cloud.name(name)))["GroupId"]
        ingress = [_permission(r) for r in rules if r.direction == "ingress"]
        if ingress:
            self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=ingress)
        # A new group already allows all outbound traffic; add only other egress rules.
        egress = [_permission(r) for r in rules if r.direction == "egress"
                  and not (r.protocol == ALL and r.cidr == "0.0.0.0/0")]
        if egress:
            self.ec2.authorize_security_group_egress(GroupId=group, IpPermissions=egress)
        return group

    def _network_acl(self, vpc_id: str, name: str, subnets: list[str], entries) -> str:
        acl = self.ec2.create_network_acl(VpcId=vpc_id, TagSpecifications=self.spec(
            "network-acl", self.cloud.name(name)))["NetworkAcl"]["NetworkAclId"]
        for entry in entries:
            args = dict(NetworkAclId=acl, RuleNumber=entry.rule_number, Egress=entry.egress,
                        Protocol=str(entry.protocol), RuleAction=entry.action,
                        CidrBlock=entry.cidr)
            if entry.from_port is not None:
                args["PortRange"] = {"From": entry.from_port, "To": entry.to_port}
            if entry.protocol == 1:
                args["IcmpTypeCode"] = {"Type": entry.icmp_type, "Code": entry.icmp_code}
            self.ec2.create_network_acl_entry(**args)
        for subnet in subnets:
            current = self.ec2.describe_network_acls(Filters=[
                {"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
            association = next(a["NetworkAclAssociationId"] for a in current["Associations"]
                               if a["SubnetId"] == subnet)
            self.ec2.replace_network_acl_association(AssociationId=association,
                                                     NetworkAclId=acl)
        return acl

    def _ensure_instance_profile(self) -> str:
        """An instance profile whose role has AmazonSSMManagedInstanceCore, for Run Command."""
        cloud, iam, name = self.cloud, self.cloud.iam, self.cloud.name(INSTANCE_ROLE)
        found = _instance_profile(cloud, name)
        if found:
            cloud.say("exists", f"instance profile {name}")
            return found
        if not self.create:
            raise AwsSetupError(f"the lab's instance profile {name!r} is missing; call "
                                "cloud.lab_vpc(create=True) to create what is missing")
        tags = [{"Key": k, "Value": v} for k, v in cloud.tags.items()]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                        Description="Lets SSM Run Command reach the course's instances",
                        Tags=tags)
        iam.attach_role_policy(RoleName=name, PolicyArn=SSM_POLICY)
        arn = iam.create_instance_profile(InstanceProfileName=name, Tags=tags)[
            "InstanceProfile"]["Arn"]
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        if cloud.backend == "aws":
            iam.get_waiter("instance_profile_exists").wait(InstanceProfileName=name)
        cloud.say("created", f"instance profile {name}")
        return arn

    def _image(self) -> str:
        """The latest Amazon Linux 2023 AMI, from AWS's public SSM parameter."""
        return self.cloud.ssm.get_parameter(Name=AL2023)["Parameter"]["Value"]


def _permission(rule: SgRule) -> dict:
    permission = {"IpProtocol": str(rule.protocol), "FromPort": rule.from_port,
                  "ToPort": rule.to_port}
    if rule.protocol == ALL:
        permission = {"IpProtocol": "-1"}
    if rule.cidr:
        permission["IpRanges"] = [{"CidrIp": rule.cidr, "Description": rule.description}]
    return permission


def _resolve(rule: SgRule, group_ids: dict[str, str]) -> SgRule:
    if rule.source_group is None:
        return rule
    return replace(rule, source_group=group_ids[rule.source_group])
