"""AWS for the course: one ``Cloud`` over the embedded emulator (default) or a real account.

    from helpers import aws
    cloud = aws.connect()          # local; aws.connect("aws") or COURSE_BACKEND=aws for real
    lab = cloud.lab_vpc()          # SAA-Study-VPC as a Topology

Every boto3 client and call of the course lives in this package, one adapter module per
service family (``lab``, ``flow_log_setup``, ``transport``, ``cloudwatch``, ``logs_insights``,
``athena``, ``run_command``, ``teardown``); notebooks reach them through the ``Cloud``'s
methods. The computing packages (``flowlogs``, ``traffic``, ``insights``, ``monitoring``) never
import this one.
"""

from helpers.aws.cloud import BACKEND_ENV, COURSE, Cloud, connect
from helpers.errors import AwsSetupError
from helpers.flowlogs.delivery import FlowLog

__all__ = ["BACKEND_ENV", "COURSE", "AwsSetupError", "Cloud", "FlowLog", "connect"]
