"""The command line of the live lab (``python -m helpers.netlab``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from helpers import flowlogs
from helpers.errors import NetlabError
from helpers.netlab import commands, system
from helpers.netlab.compare import agreement, agreement_summary
from helpers.netlab.lab import Lab

__all__ = ["main"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.netlab",
        description="The live-packet lab: the lab VPC in network namespaces, flow-log records "
                    "from real packets (Linux, root, nftables).")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="say whether this machine can run the lab")
    run = sub.add_parser("run", help="run a scenario and write its flow-log records")
    run.add_argument("scenario", choices=sorted(commands.SCENARIOS))
    run.add_argument("--out", default="netlab-flowlogs", help="folder for the records")
    run.add_argument("--interval", type=int, default=60,
                     help="aggregation interval in seconds (default 60)")
    sub.add_parser("cleanup", help="remove the namespaces of an interrupted run")
    args = parser.parse_args(argv)
    if args.command == "cleanup":
        removed = system.cleanup()
        print(f"removed {len(removed)} namespace(s)" + (f": {', '.join(removed)}"
                                                        if removed else ""))
        return 0
    problems = system.missing()
    if args.command == "check":
        print("the lab can run here" if not problems else "cannot run: " + "; ".join(problems))
        return 0 if not problems else 1
    try:
        with Lab(interval=args.interval) as lab:
            for host, command in commands.scenario_steps(args.scenario):
                print(f"running {host}$ {command}", flush=True)
                print(f"  {lab.run(host, command)!r}", flush=True)
        records = lab.records(explain=True)
    except NetlabError as err:
        print(f"error: {err}")
        return 2
    except KeyboardInterrupt:
        print("interrupted: the lab's namespaces, links and rules were removed", flush=True)
        return 130
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = flowlogs.write_text(records, out / f"netlab-{args.scenario}.log")
    print(f"wrote {len(records)} records to {path}")
    print(agreement_summary(agreement(records)).to_string(index=False))
    return 0
