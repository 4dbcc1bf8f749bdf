"""AWS for the course: one ``Cloud`` over the embedded emulator (default) or a real account.

    from helpers import aws
    cloud = aws.connect()          # local; aws.connect("aws") or COURSE_BACKEND=aws for real
    lab = cloud.lab_vpc()          # SAA-Study-VPC as a Topology
"""

from helpers.aws.cloud import BACKEND_ENV, COURSE, Cloud, connect
from helpers.aws.delivery import FlowLog
from helpers.errors import AwsSetupError

__all__ = ["BACKEND_ENV", "COURSE", "AwsSetupError", "Cloud", "FlowLog", "connect"]
