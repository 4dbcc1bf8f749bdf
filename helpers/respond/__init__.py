"""The auto-block response: a Lambda handler that denies an attacker in a network ACL.

``helpers.respond.handler(event, context)`` is the Lambda entry point (module
:mod:`helpers.respond.handler`, which ships alone as the function's zip and so imports nothing
from ``helpers``). ``helpers.aws.responder`` builds the zip, deploys the function on AWS, and
runs the handler in-process against the emulator offline (the emulator cannot run Lambda code).

Note that importing the package binds ``helpers.respond.handler`` to the *function*; reach the
module as ``sys.modules["helpers.respond.handler"]`` or through its file.
"""

from helpers.errors import ResponseError
from helpers.respond.handler import ConfigurationError, Settings, check_address, handler

__all__ = ["ConfigurationError", "ResponseError", "Settings", "check_address", "handler"]
