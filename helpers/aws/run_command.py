"""Lab 2's traffic on real instances: the live scripts sent with SSM Run Command (aws only).

Offline there are no instances to run commands on; ``helpers.traffic.generate`` makes the
same traffic as records instead.
"""

from __future__ import annotations

import shlex

from helpers import traffic
from helpers.aws import lab as lab_setup
from helpers.aws.account import Account
from helpers.errors import AwsSetupError
from helpers.traffic.topology import Topology

__all__ = ["HOSTS", "run_live_traffic"]

HOSTS = {"normal": "web", "blocked": "web", "bulk": "private"}
"""The lab instance each live script runs on."""


def run_live_traffic(cloud: Account, name: str, *, topology: Topology | None = None,
                     env: dict[str, str] | None = None, timeout: int = 600) -> str:
    """Run a live script (``normal``, ``blocked``, ``bulk``) on its instance; return its output.

    Uses ``AWS-RunShellScript`` through SSM Run Command, so the instances need the lab's
    instance profile (``cloud.lab_vpc`` attaches it) and a moment after launch to register.
    ``PRIVATE_IP`` is set for the scripts; ``env`` adds or overrides variables. ``topology``
    is the lab (found in the account when omitted).
    """
    if cloud.backend != "aws":
        raise AwsSetupError("live traffic runs on real EC2 instances (aws backend). Offline, "
                            "traffic.generate(topology=lab, ...) makes the same traffic")
    script = traffic.live_script(name)  # checks the name
    lab = topology or lab_setup.lab_vpc(cloud, create=False)
    instance = lab.interface(HOSTS[name]).instance_id
    variables = {"PRIVATE_IP": lab.interface("private").private_ip, **(env or {})}
    commands = [f"export {k}={shlex.quote(str(v))}" for k, v in variables.items()] + [script]
    command = cloud.ssm.send_command(
        InstanceIds=[instance], DocumentName="AWS-RunShellScript",
        Parameters={"commands": commands, "executionTimeout": [str(timeout)]},
        Comment=f"course {name} traffic")["Command"]["CommandId"]
    cloud.say("sent", f"live script {name} to {HOSTS[name]} instance {instance}")
    cloud.ssm.get_waiter("command_executed").wait(
        CommandId=command, InstanceId=instance,
        WaiterConfig={"Delay": 5, "MaxAttempts": max(1, timeout // 5)})
    result = cloud.ssm.get_command_invocation(CommandId=command, InstanceId=instance)
    return result.get("StandardOutputContent", "")
