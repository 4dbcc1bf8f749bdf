"""The lab VPC (SAA-Study-VPC) in the emulator or a real account, as a Topology.

Built from the one specification in :data:`helpers.traffic.topology.LAB`; each resource is
found by its Name tag and the course's tags first, so running the set-up again creates nothing
new. Resources without the course's tags are never modified.

Running the set-up again also repairs what an interrupted run left half-made: a found public
subnet gets its public-IP setting back, a found internet gateway its attachment, a found route
table its default route and subnet associations, a found security group its missing rules, a
found network ACL its missing entries and associations, a found instance profile its role and
policy; a NAT gateway being made again reuses the course's Elastic IP instead of allocating
another. These checks run only when the VPC already existed, so a first set-up makes exactly
the calls it always made (the emulator's seeded IDs depend on them).

AWS is eventually consistent: a resource just created can be unknown for a moment, and an
instance profile just created is "invalid" to RunInstances for seconds. Those calls go through
:func:`helpers.aws.retry.call`.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd

from helpers.aws import retry
from helpers.aws.account import Account
from helpers.aws.ec2_resources import KINDS, find, find_all
from helpers.aws.steps import Steps
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


def lab_vpc(cloud: Account, *, create: bool, report: str = "steps",
            missing: str | None = None) -> Topology:
    """Find the lab VPC, creating (and repairing) what is missing when ``create`` is true.

    Args:
        create: create what is missing; False only finds (and raises when a part is missing).
        report: ``"steps"`` (a line per resource, the default), ``"summary"`` (one line of
            counts) or ``"none"``.
        missing: the message when the VPC is missing and ``create`` is false (default: how to
            create it); given (a class student's look-up), a missing part also says to ask
            for the set-up to be run again.
    """
    vpc_name = cloud.name(LAB.vpc_name)
    vpc_id = find(cloud, "vpc", vpc_name)
    if vpc_id is None and not create:
        raise AwsSetupError(missing or (
            f"no VPC named {vpc_name!r} with the course's tags in {cloud.region}. "
            "Look at cloud.plan() (what would be created, and the cost note in the README), "
            "then call cloud.lab_vpc(create=True)"))
    with Steps(cloud, report) as steps:
        build = _Builder(cloud, create, repair=vpc_id is not None and create,
                         by_kind=vpc_id is not None)
        if vpc_id is not None:
            build.listed["vpc"] = {vpc_name: {"VpcId": vpc_id}}
        if missing:
            build.missing_part = ("ask your instructor to run the class set-up again "
                                  "(cloud.setup_class(...) completes a half-made lab)")
        topology = build.run(vpc_id)
    steps.summary(f"lab {vpc_name} ({topology.vpc_id})")
    return topology


def _instance_profile(cloud: Account, name: str) -> str | None:
    """ARN of the course's instance profile with this name, or None."""
    try:
        profile = cloud.iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    except cloud.iam.exceptions.NoSuchEntityException:
        return None
    return profile["Arn"] if cloud.owns(profile.get("Tags", [])) else None


class _Builder:
    """Find-or-create each part of the lab in order, reporting every step.

    With ``repair``, each part found is checked for what it should hold and completed.
    """

    def __init__(self, cloud: Account, create: bool, repair: bool = False,
                 by_kind: bool = False):
        self.cloud, self.ec2, self.create, self.repair = cloud, cloud.ec2, create, repair
        self.sleep = retry.sleeper(cloud)
        # With the VPC found, each kind is listed once (not once per name): a class of 40
        # looking up one lab makes 8 requests each, not 16. A first set-up keeps the calls
        # it always made, one per name (the emulator's seeded IDs depend on them).
        self.by_kind = by_kind
        self.listed: dict[str, dict[str, dict]] = {}  # kind → Name → description
        self.missing_part = "call cloud.lab_vpc(create=True) to create what is missing"

    def find(self, kind: str, name: str) -> str | None:
        if not self.by_kind:
            return find(self.cloud, kind, name)
        found = self.described(kind, name)
        return found[KINDS[kind].id_key] if found else None

    def described(self, kind: str, name: str) -> dict | None:
        """The description of the course's ``kind`` named ``name``, from one listing."""
        if kind not in self.listed:
            self.listed[kind] = {}
            for item in find_all(self.cloud, kind):
                tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
                self.listed[kind].setdefault(tags.get("Name"), item)
        return self.listed[kind].get(name)

    def say(self, verb: str, what: str) -> None:
        self.cloud.say(verb, what)

    def call(self, fn, what: str, **kwargs):
        """An EC2 call on something just created: retried while it is not known yet."""
        return retry.call(fn, retry_on=retry.NOT_FOUND_YET, what=what, sleep=self.sleep,
                          **kwargs)

    def ensure(self, kind: str, name: str, make, fix=None) -> str:
        found = self.find(kind, name)
        if found:
            self.say("exists", f"{kind} {name} ({found})")
            if self.repair and fix is not None:
                for change in fix(found):
                    self.say("repaired", f"{kind} {name} ({found}): {change}")
            return found
        if not self.create:
            raise AwsSetupError(f"the lab's {kind} {name!r} is missing; {self.missing_part}")
        made = make()
        self.say("created", f"{kind} {name} ({made})")
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
                                           self._subnet(vpc_id, n, c, a, p),
                                           fix=self._fix_subnet if public else None)
        igw = self.ensure("internet-gateway", cloud.name("igw"), lambda: self._internet_gateway(
            vpc_id), fix=lambda found: self._fix_internet_gateway(found, vpc_id))
        nat_id = self.ensure("natgateway", cloud.name("nat"), lambda: self._nat_gateway(
            subnet_ids[LAB.nat_subnet]))
        public = [subnet_ids[n] for n, _, _, is_public in LAB.subnets if is_public]
        private = [subnet_ids[n] for n, _, _, is_public in LAB.subnets if not is_public]
        self.ensure("route-table", cloud.name("public-rt"), lambda: self._route_table(
            vpc_id, "public-rt", {"GatewayId": igw}, public),
            fix=lambda found: self._fix_route_table(found, {"GatewayId": igw}, public))
        self.ensure("route-table", cloud.name("private-rt"), lambda: self._route_table(
            vpc_id, "private-rt", {"NatGatewayId": nat_id}, private),
            fix=lambda found: self._fix_route_table(found, {"NatGatewayId": nat_id}, private))
        group_ids = {}
        for name, description, rules in LAB.security_groups:
            group_ids[name] = self.ensure("security-group", cloud.name(name),
                                          lambda n=name, d=description, r=rules:
                                          self._security_group(vpc_id, n, d, r),
                                          fix=lambda found, r=rules:
                                          self._fix_security_group(found, r))
        acl_ids = {}
        for name, subnets, entries in LAB.network_acls:
            acl_ids[name] = self.ensure("network-acl", cloud.name(name),
                                        lambda n=name, s=subnets, e=entries:
                                        self._network_acl(vpc_id, n, [subnet_ids[x] for x in s],
                                                          e),
                                        fix=lambda found, s=subnets, e=entries:
                                        self._fix_network_acl(found, [subnet_ids[x] for x in s],
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
                # A new instance profile is "invalid" to RunInstances until IAM has propagated.
                return retry.call(
                    ec2.run_instances, what=f"launch the {role} instance", sleep=self.sleep,
                    **retry.INSTANCE_PROFILE,
                    ImageId=image, InstanceType=INSTANCE_TYPE, MinCount=1, MaxCount=1,
                    SubnetId=subnet_ids[subnet], PrivateIpAddress=ip,
                    SecurityGroupIds=[group_ids[group]],
                    TagSpecifications=self.spec("instance", cloud.name(role)),
                    **({"IamInstanceProfile": {"Arn": profile}} if profile else {}),
                )["Instances"][0]["InstanceId"]
            instance_id = self.ensure("instance", cloud.name(role), launch)
            described = self.by_kind and self.described("instance", cloud.name(role))
            if not described or described["InstanceId"] != instance_id:
                described = self.call(ec2.describe_instances, f"describe the {role} instance",
                                      InstanceIds=[instance_id])["Reservations"][0][
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
        self.call(self.ec2.attach_internet_gateway, f"attach {igw} to {vpc_id}",
                  InternetGatewayId=igw, VpcId=vpc_id)
        return igw

    def _nat_gateway(self, subnet_id: str) -> str:
        allocation = self._free_nat_address() if self.repair else None
        if allocation is None:
            allocation = self.ec2.allocate_address(Domain="vpc", TagSpecifications=self.spec(
                "elastic-ip", self.cloud.name("nat-eip")))["AllocationId"]
        else:
            self.say("reused", f"elastic-ip {self.cloud.name('nat-eip')} ({allocation})")
        nat = self.call(
            self.ec2.create_nat_gateway, f"create the NAT gateway in {subnet_id}",
            SubnetId=subnet_id, AllocationId=allocation,
            TagSpecifications=self.spec("natgateway", self.cloud.name("nat")))["NatGateway"]
        if self.cloud.backend == "aws":
            print("waiting for the NAT gateway to become available (a few minutes) ...")
            self.ec2.get_waiter("nat_gateway_available").wait(
                NatGatewayIds=[nat["NatGatewayId"]])
        return nat["NatGatewayId"]

    def _nat_interface(self, nat_id: str, subnet_id: str) -> Interface:
        nat = self.by_kind and self.described("natgateway", self.cloud.name("nat"))
        if not nat or nat["NatGatewayId"] != nat_id or not nat.get("NatGatewayAddresses"):
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
        self.call(self.ec2.create_route, f"add the default route to {table}",
                  RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", **target)
        for subnet in subnets:
            self.call(self.ec2.associate_route_table, f"associate {table} with {subnet}",
                      RouteTableId=table, SubnetId=subnet)
        return table

    def _security_group(self, vpc_id: str, name: str, description: str, rules) -> str:
        group = self.ec2.create_security_group(
            GroupName=self.cloud.name(name), Description=description, VpcId=vpc_id,
            TagSpecifications=self.spec("security-group", self.cloud.name(name)))["GroupId"]
        ingress = [_permission(r) for r in rules if r.direction == "ingress"]
        if ingress:
            self.call(self.ec2.authorize_security_group_ingress, f"add rules to {group}",
                      GroupId=group, IpPermissions=ingress)
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
            self._acl_entry(acl, entry)
        for subnet in subnets:
            self._associate_acl(acl, subnet)
        return acl

    def _acl_entry(self, acl: str, entry) -> None:
        args = dict(NetworkAclId=acl, RuleNumber=entry.rule_number, Egress=entry.egress,
                    Protocol=str(entry.protocol), RuleAction=entry.action,
                    CidrBlock=entry.cidr)
        if entry.from_port is not None:
            args["PortRange"] = {"From": entry.from_port, "To": entry.to_port}
        if entry.protocol == 1:
            args["IcmpTypeCode"] = {"Type": entry.icmp_type, "Code": entry.icmp_code}
        self.call(self.ec2.create_network_acl_entry, f"add entry {entry.rule_number} to {acl}",
                  **args)

    def _associate_acl(self, acl: str, subnet: str) -> None:
        current = self.ec2.describe_network_acls(Filters=[
            {"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
        association = next(a["NetworkAclAssociationId"] for a in current["Associations"]
                           if a["SubnetId"] == subnet)
        self.ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)

    # --- repairs of what an interrupted run left half-made (each returns what it changed) ---
    def _fix_subnet(self, subnet_id: str) -> list[str]:
        subnet = self.ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
        if subnet.get("MapPublicIpOnLaunch"):
            return []
        self.ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
        return ["public IPv4 on launch turned on"]

    def _fix_internet_gateway(self, igw: str, vpc_id: str) -> list[str]:
        gateway = self.ec2.describe_internet_gateways(InternetGatewayIds=[igw])[
            "InternetGateways"][0]
        if any(a.get("VpcId") == vpc_id for a in gateway.get("Attachments", [])):
            return []
        self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        return [f"attached to {vpc_id}"]

    def _free_nat_address(self) -> str | None:
        """The course's NAT Elastic IP left by an earlier attempt, if not in use."""
        for address in find_all(self.cloud, "elastic-ip", self.cloud.name("nat-eip")):
            if not address.get("AssociationId") and not address.get("NetworkInterfaceId"):
                return address["AllocationId"]
        return None

    def _fix_route_table(self, table_id: str, target: dict, subnets: list[str]) -> list[str]:
        table = self.ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        changes = []
        default = next((r for r in table.get("Routes", [])
                        if r.get("DestinationCidrBlock") == "0.0.0.0/0"), None)
        (key, value), = target.items()
        if default is None:
            self.ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0",
                                  **target)
            changes.append(f"default route to {value} added")
        elif default.get(key) != value or default.get("State") == "blackhole":
            self.ec2.replace_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0",
                                   **target)
            changes.append(f"default route pointed to {value}")
        associated = {a.get("SubnetId") for a in table.get("Associations", [])}
        for subnet in subnets:
            if subnet in associated:
                continue
            elsewhere = self.ec2.describe_route_tables(Filters=[
                {"Name": "association.subnet-id", "Values": [subnet]}])["RouteTables"]
            current = [a for t in elsewhere for a in t.get("Associations", [])
                       if a.get("SubnetId") == subnet]
            if current:
                self.ec2.replace_route_table_association(
                    AssociationId=current[0]["RouteTableAssociationId"], RouteTableId=table_id)
            else:
                self.ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet)
            changes.append(f"associated with {subnet}")
        return changes

    def _fix_security_group(self, group_id: str, rules) -> list[str]:
        group = self.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        changes = []
        for direction, key, authorize in (
                ("ingress", "IpPermissions", self.ec2.authorize_security_group_ingress),
                ("egress", "IpPermissionsEgress", self.ec2.authorize_security_group_egress)):
            present = {k for p in group.get(key, []) for k in _permission_keys(p)}
            missing = [_permission(r) for r in rules if r.direction == direction
                       and not set(_permission_keys(_permission(r))) <= present]
            if missing:
                authorize(GroupId=group_id, IpPermissions=missing)
                changes.append(f"{len(missing)} {direction} rule(s) added")
        return changes

    def _fix_network_acl(self, acl_id: str, subnets: list[str], entries) -> list[str]:
        acl = self.ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"][0]
        present = {(e["RuleNumber"], e["Egress"]) for e in acl.get("Entries", [])}
        changes = []
        missing = [e for e in entries if (e.rule_number, e.egress) not in present]
        for entry in missing:
            self._acl_entry(acl_id, entry)
        if missing:
            changes.append(f"{len(missing)} entr{'y' if len(missing) == 1 else 'ies'} added")
        associated = {a.get("SubnetId") for a in acl.get("Associations", [])}
        for subnet in subnets:
            if subnet not in associated:
                self._associate_acl(acl_id, subnet)
                changes.append(f"associated with {subnet}")
        return changes

    def _ensure_instance_profile(self) -> str:
        """An instance profile whose role has AmazonSSMManagedInstanceCore, for Run Command.

        A run interrupted between its steps is completed: the role is made or reused (if the
        course tagged it), its policy attached, the profile made and the role added to it.
        """
        cloud, iam, name = self.cloud, self.cloud.iam, self.cloud.name(INSTANCE_ROLE)
        found = _instance_profile(cloud, name)
        if found and {r["RoleName"] for r in iam.get_instance_profile(
                InstanceProfileName=name)["InstanceProfile"].get("Roles", [])} == {name}:
            self.say("exists", f"instance profile {name}")
            return found
        if not self.create:
            raise AwsSetupError(f"the lab's instance profile {name!r} is missing; call "
                                "cloud.lab_vpc(create=True) to create what is missing")
        tags = [{"Key": k, "Value": v} for k, v in cloud.tags.items()]
        try:
            role_tags = iam.list_role_tags(RoleName=name)["Tags"]
        except iam.exceptions.NoSuchEntityException:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                            Description="Lets SSM Run Command reach the course's instances",
                            Tags=tags)
        else:
            if not cloud.owns(role_tags):
                raise AwsSetupError(f"IAM role {name!r} exists but was not created by the "
                                    "course; the course will not change it")
        attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)[
            "AttachedPolicies"]}
        if SSM_POLICY not in attached:
            iam.attach_role_policy(RoleName=name, PolicyArn=SSM_POLICY)
        if found is None:
            try:
                found = iam.create_instance_profile(InstanceProfileName=name, Tags=tags)[
                    "InstanceProfile"]["Arn"]
            except iam.exceptions.EntityAlreadyExistsException:
                raise AwsSetupError(f"instance profile {name!r} exists but was not created "
                                    "by the course; the course will not change it") from None
        roles = {r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName=name)[
            "InstanceProfile"].get("Roles", [])}
        if name not in roles:
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        if cloud.backend == "aws":
            iam.get_waiter("instance_profile_exists").wait(InstanceProfileName=name)
        self.say("created", f"instance profile {name}")
        return found

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


_PROTOCOLS = {"tcp": "6", "udp": "17", "icmp": "1", "all": "-1"}


def _permission_keys(permission: dict) -> list[tuple]:
    """One comparable key per address range of an ``IpPermissions`` item (as AWS returns
    it, protocol names or numbers alike)."""
    protocol = str(permission.get("IpProtocol", "-1")).lower()
    protocol = _PROTOCOLS.get(protocol, protocol)
    ports = (None, None) if protocol == "-1" else (permission.get("FromPort"),
                                                   permission.get("ToPort"))
    return [(protocol, *ports, r.get("CidrIp")) for r in permission.get("IpRanges", [])]


def _resolve(rule: SgRule, group_ids: dict[str, str]) -> SgRule:
    if rule.source_group is None:
        return rule
    return replace(rule, source_group=group_ids[rule.source_group])
