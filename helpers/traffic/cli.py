"""Command line: generate flow-log records and write them as files or an S3-style tree.

    python -m helpers.traffic --seed 1 --duration 1d \\
        --scenarios web_baseline,port_scan_inbound --format parquet --out out/ --hive --per-hour

``--out`` names a folder (an ``AWSLogs/...`` tree is written under it, plain or with ``--hive``
Hive-compatible prefixes, daily or with ``--per-hour`` hourly partitions) or a single file
ending in ``.parquet``, ``.log.gz`` or ``.log``.

A mistake in the arguments (including one that only :func:`helpers.traffic.generate` can see,
such as an unknown scenario or a duration too long for memory) prints the usage line and
``error: …`` to stderr and exits with status 2, as argparse does, and so does an ``--out``
that cannot be written; never a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from helpers import flowlogs
from helpers.errors import CourseError
from helpers.flowlogs.tree import DEFAULT_FLOW_LOG_ID, check_flow_log_id, write_tree
from helpers.traffic.generator import generate
from helpers.traffic.scenarios import DEFAULT_SCENARIOS, SCENARIOS

__all__ = ["main"]

_SINGLE_FILE = (".parquet", ".log.gz", ".log")
_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")


def _flow_log_id(text: str) -> str:
    """``--flow-log-id``: AWS's form only, so the ID cannot lead a file name out of ``--out``."""
    try:
        return check_flow_log_id(text)
    except CourseError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a flow-log ID: expected 'fl-' followed by 8 or 17 lowercase "
            f"hexadecimal digits, e.g. {DEFAULT_FLOW_LOG_ID!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.traffic",
        description="Generate VPC Flow Logs records of the lab VPC and write them to files.")
    parser.add_argument("--scenarios", default=None,
                        help="comma-separated scenario names, or 'all' (default: "
                             f"{','.join(DEFAULT_SCENARIOS)}); see --list")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default=None,
                        help="first second: ISO 8601 or epoch seconds (default 2021-12-20T00:00Z)")
    parser.add_argument("--duration", default="1h", help="e.g. 90s, 30m, 1h, 1d (default 1h)")
    parser.add_argument("--aggregation", type=int, default=60, choices=(60, 600),
                        help="maximum aggregation interval in seconds (default 60)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every scenario's number of connections (default 1)")
    parser.add_argument("--format", dest="file_format", choices=("parquet", "plain-text"),
                        default="parquet", help="file format of a tree (default parquet)")
    parser.add_argument("--out", help="output folder for a tree, or a .parquet/.log.gz file")
    parser.add_argument("--hive", action="store_true", help="Hive-compatible S3 prefixes")
    parser.add_argument("--per-hour", action="store_true", help="hourly partitions")
    parser.add_argument("--flow-log-id", type=_flow_log_id, default=DEFAULT_FLOW_LOG_ID,
                        help=f"the flow log's ID in file names: fl- and 8 or 17 hex digits "
                             f"(default {DEFAULT_FLOW_LOG_ID})")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    argparse's own errors exit with status 2 (``SystemExit``); errors found later, by the
    generator or the writer (including an ``--out`` that cannot be written), print the same
    usage line and ``error:`` message and return 2.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        width = max(map(len, SCENARIOS))
        for name, text in SCENARIOS.items():
            print(f"{name:<{width}}  {text}")
        return 0
    if not args.out:
        parser.error("--out is required: a folder for an S3-style tree, or a file name")
    out = Path(args.out)
    if not out.name.endswith(_SINGLE_FILE) and out.exists() and not out.is_dir():
        parser.error(f"--out {args.out!r} is a file: name a folder for an S3-style tree, or "
                     f"a file ending in {', '.join(_SINGLE_FILE)}")
    start = args.start
    if start is not None and _NUMBER.fullmatch(start.strip()):
        start = float(start) if "." in start else int(start)  # epoch seconds
    try:
        df = generate(args.scenarios, seed=args.seed, start=start, duration=args.duration,
                      aggregation=args.aggregation, scale=args.scale)
        print(f"generated {len(df):,} records")
        if out.name.endswith(_SINGLE_FILE):
            write = flowlogs.write_parquet if out.name.endswith(".parquet") else \
                flowlogs.write_text
            print(f"wrote {write(df, out)}")
        else:
            paths = write_tree(df, out, file_format=args.file_format, hive=args.hive,
                               per_hour=args.per_hour, flow_log_id=args.flow_log_id)
            print(f"wrote {len(paths)} file{'s' if len(paths) != 1 else ''} under "
                  f"{out / 'AWSLogs'}")
    except (CourseError, OSError) as err:
        if isinstance(err, OSError):
            err = f"cannot write --out {args.out!r}: {err.strerror or err}"
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    return 0
