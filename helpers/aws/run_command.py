"""Lab 2's traffic on real instances: the live scripts sent with SSM Run Command (aws only).

Offline there are no instances to run commands on; ``helpers.traffic.generate`` makes the
same traffic as records instead.
"""

from __future__ import annotations

import shlex

from botocore.exceptions import ClientError, WaiterError

from helpers import traffic
from helpers.aws import lab as lab_setup
from helpers.aws import retry
from helpers.aws.account import Account, describe_error
from helpers.errors import AwsSetupError
from helpers.traffic.topology import Topology

__all__ = ["HOSTS", "run_live_traffic", "wait_until_online"]

AGENT_ATTEMPTS = 12  # about 3 minutes of backoff: an instance's agent registers within ~1-2

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
    wait = retry.sleeper(cloud)
    wait_until_online(cloud, instance, sleep=wait)
    try:
        command = retry.call(
            cloud.ssm.send_command, **retry.SSM_NOT_REGISTERED,
            what=f"send the {name} script to instance {instance}", sleep=wait,
            InstanceIds=[instance], DocumentName="AWS-RunShellScript",
            Parameters={"commands": commands, "executionTimeout": [str(timeout)]},
            Comment=f"course {name} traffic")["Command"]["CommandId"]
    except ClientError as err:
        raise AwsSetupError(f"SSM did not accept the {name} script for instance {instance}: "
                            f"{describe_error(err)}") from err
    cloud.say("sent", f"live script {name} to {HOSTS[name]} instance {instance}")
    try:
        cloud.ssm.get_waiter("command_executed").wait(
            CommandId=command, InstanceId=instance,
            WaiterConfig={"Delay": 5, "MaxAttempts": max(1, timeout // 5)})
    except WaiterError as err:
        # The command failed, timed out or was cancelled: keep what it printed.
        result = cloud.ssm.get_command_invocation(CommandId=command, InstanceId=instance)
        raise AwsSetupError(_failed(name, instance, command, result)) from err
    result = cloud.ssm.get_command_invocation(CommandId=command, InstanceId=instance)
    return result.get("StandardOutputContent", "")


def wait_until_online(cloud: Account, instance: str, *, sleep=None,
                      attempts: int = AGENT_ATTEMPTS) -> dict:
    """Wait until the instance's SSM agent is ``Online``; its ``DescribeInstanceInformation``.

    An instance reaches Run Command only once its agent has registered with Systems Manager,
    which takes a minute or two after launch (and needs the lab's instance profile); until
    then ``SendCommand`` answers ``InvalidInstanceId``
    (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html,
    ``PingStatus``: Online | ConnectionLost | Inactive).

    Raises:
        AwsRetryError: the agent did not come online in time (what to check is said).
    """
    def online():
        found = cloud.ssm.describe_instance_information(
            Filters=[{"Key": "InstanceIds", "Values": [instance]}])["InstanceInformationList"]
        return found[0] if found and found[0].get("PingStatus") == "Online" else None

    return retry.wait_for(
        online, what=f"the SSM agent of instance {instance} is Online", attempts=attempts,
        max_delay=30.0, sleep=sleep or retry.sleeper(cloud),
        hint="Check that the instance is running, has the lab's instance profile "
             "(cloud.lab_vpc() attaches it) and can reach SSM (the NAT gateway for the "
             "private instance); Fleet Manager in the Systems Manager console lists the "
             "managed instances")


def _failed(name: str, instance: str, command: str, result: dict) -> str:
    """A message for a command that did not succeed, with the output it left."""
    status = result.get("StatusDetails") or result.get("Status") or "unknown"
    parts = [f"the {name} script did not succeed on instance {instance} (command {command}, "
             f"status {status}, exit code {result.get('ResponseCode', '?')})"]
    for label, key in (("its output", "StandardOutputContent"),
                       ("its errors", "StandardErrorContent")):
        text = (result.get(key) or "").strip()
        if text:
            parts.append(f"{label}:\n{text}")
    if len(parts) == 1:
        parts.append("it printed nothing; see the command in the Systems Manager console "
                     "(Run Command → Command history)")
    return "\n".join(parts)
