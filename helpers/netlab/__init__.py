"""The live-packet lab: the lab VPC built from Linux network namespaces and nftables, and VPC
Flow Logs records made from the packets its interfaces really send and receive.

Optional, and only for Linux as root with nftables (``apt-get install nftables iproute2``);
every other notebook works without it. A notebook needs only what is listed here::

    from helpers import netlab
    netlab.require()                       # says what is missing, and how to install it
    with netlab.Lab(interval=60) as lab:
        lab.run_scenario("lab2")
        lab.run("scanner", "nmap -p 22,80,3306 web")
    records = lab.records(explain=True)    # canonical columns, like traffic.generate()
    netlab.agreement(records)              # the kernel's ACCEPT/REJECT against the rule evaluator

``python -m helpers.netlab run lab2 --out DIR`` writes the records as a flow-log file;
``python -m helpers.netlab cleanup`` removes what an interrupted run left behind.
"""

from helpers.errors import NetlabError
from helpers.netlab.commands import SCAN_PORTS, SCENARIOS, connections, parse
from helpers.netlab.compare import agreement, agreement_summary, predict, predicted_actions
from helpers.netlab.lab import Lab, Result
from helpers.netlab.plan import INTERNET_HOSTS, PUBLIC_ADDRESSES
from helpers.netlab.records import tcp_flags, to_records
from helpers.netlab.system import cleanup, lab_namespaces, missing, require

__all__ = [
    "INTERNET_HOSTS",
    "Lab",
    "NetlabError",
    "PUBLIC_ADDRESSES",
    "Result",
    "SCAN_PORTS",
    "SCENARIOS",
    "agreement",
    "agreement_summary",
    "cleanup",
    "connections",
    "lab_namespaces",
    "missing",
    "parse",
    "predict",
    "predicted_actions",
    "require",
    "tcp_flags",
    "to_records",
]
