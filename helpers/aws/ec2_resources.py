"""The EC2 resource kinds the course creates: how each is described, identified and found.

One table (:data:`KINDS`) that ``plan``, the lab set-up and ``teardown`` all use, so a kind
is looked up the same way everywhere: by the course's tags (and a Name tag), skipping the
states that mean it is gone or going.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.aws.account import Account

__all__ = ["KINDS", "Ec2Kind", "find", "find_all"]


@dataclass(frozen=True)
class Ec2Kind:
    """How to list one kind of EC2 resource and read its ID and state."""

    describe: str  # the client method, e.g. "describe_vpcs"
    items: str  # the list in its response, e.g. "Vpcs"
    id_key: str  # e.g. "VpcId"
    gone: tuple[str, ...] = ()  # states that mean deleted or being deleted
    filter_arg: str = "Filters"  # DescribeFlowLogs alone calls it "Filter"


KINDS: dict[str, Ec2Kind] = {
    "vpc": Ec2Kind("describe_vpcs", "Vpcs", "VpcId"),
    "subnet": Ec2Kind("describe_subnets", "Subnets", "SubnetId"),
    "internet-gateway": Ec2Kind("describe_internet_gateways", "InternetGateways",
                                "InternetGatewayId"),
    "natgateway": Ec2Kind("describe_nat_gateways", "NatGateways", "NatGatewayId",
                          gone=("deleting", "deleted", "failed")),
    "elastic-ip": Ec2Kind("describe_addresses", "Addresses", "AllocationId"),
    "route-table": Ec2Kind("describe_route_tables", "RouteTables", "RouteTableId"),
    "security-group": Ec2Kind("describe_security_groups", "SecurityGroups", "GroupId"),
    "network-acl": Ec2Kind("describe_network_acls", "NetworkAcls", "NetworkAclId"),
    "instance": Ec2Kind("describe_instances", "Reservations", "InstanceId",
                        gone=("shutting-down", "terminated")),
    "flow-log": Ec2Kind("describe_flow_logs", "FlowLogs", "FlowLogId", filter_arg="Filter"),
}
"""Every EC2 kind the course creates, by its ``TagSpecifications`` resource type."""


def find_all(cloud: Account, kind: str, name: str | None = None) -> list[dict]:
    """The descriptions of the course's resources of this kind (with this Name tag), in
    ID order, leaving out those deleted or being deleted."""
    spec = KINDS[kind]
    filters = cloud.tag_filters() + ([{"Name": "tag:Name", "Values": [name]}] if name else [])
    response = getattr(cloud.ec2, spec.describe)(**{spec.filter_arg: filters})
    items = response[spec.items]
    if kind == "instance":
        items = [i for reservation in items for i in reservation["Instances"]]
    # The tags are checked here too, not only by the filters: an answer that ignored a
    # filter (the emulator's DescribeNatGateways does) must not hand over another's resource.
    found = [item for item in items if _state(item) not in spec.gone
             and cloud.owns(item.get("Tags", []))
             and (name is None or _tag(item, "Name") == name)]
    return sorted(found, key=lambda item: item[spec.id_key])


def find(cloud: Account, kind: str, name: str) -> str | None:
    """ID of the course's resource of this kind with this Name tag, or None."""
    found = find_all(cloud, kind, name)
    return found[0][KINDS[kind].id_key] if found else None


def _tag(item: dict, key: str) -> str | None:
    return next((t["Value"] for t in item.get("Tags", []) if t["Key"] == key), None)


def _state(item: dict) -> str | None:
    state = item.get("State")
    return state.get("Name") if isinstance(state, dict) else state
