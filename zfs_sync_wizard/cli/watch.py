"""`zfs-sync-run --status` and `--monitor`: looking at jobs, never running them.

Without job names both look at every job in the config dir.  `--monitor`
follows the Nagios plugin convention to the letter, including for its own
errors: a bad threshold or an invalid job file is UNKNOWN (exit 3) with one
line of output, never a traceback or exit 2.  Only the arguments are defined
at import time (for the runner's --help); the commands import what they use.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from ..errors import ExitCode, ZswError

DEFAULT_WARN, DEFAULT_CRIT = "26h", "50h"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json", action="store_true", help="with --status: the same facts as JSON (zfs-sync-run(8))"
    )
    p.add_argument(
        "--monitor",
        action="store_true",
        help="a Nagios/Icinga check of the lag read from each destination: exit 0 OK, 1 WARNING, "
        "2 CRITICAL, 3 UNKNOWN, one line with performance data; the worst job decides",
    )
    p.add_argument(
        "--warn",
        metavar="DURATION",
        default=DEFAULT_WARN,
        help=f"with --monitor: WARNING past this lag (90m, 26h, 3d, seconds; default {DEFAULT_WARN})",
    )
    p.add_argument(
        "--crit",
        metavar="DURATION",
        default=DEFAULT_CRIT,
        help=f"with --monitor: CRITICAL past this lag (default {DEFAULT_CRIT})",
    )


def every_job_by_default(args) -> None:
    if not (args.jobs or args.all or args.job_file):
        args.all = True


def status(jobs: list, state: Path, as_json: bool) -> int:
    from ..operations import facts
    from ..operations import status as report
    from ..running.execute import Executor

    now = datetime.now().astimezone()
    ex = Executor()
    entries = facts.read_crontab(ex)
    found = [facts.collect(job, state, now, ex, entries) for job in jobs]
    if as_json:
        print(json.dumps(report.as_json(found, now), indent=2))
    else:
        print(report.render(found, now))
    return ExitCode.OK


def monitor(args, select_jobs) -> int:
    """Print the plugin's one line; return its Nagios state as the exit status."""
    from ..operations import monitor as nagios
    from ..planning.lag import Thresholds
    from ..running.execute import Executor

    every_job_by_default(args)
    try:
        limits = Thresholds.parse(args.warn, args.crit)
        jobs = select_jobs(args)
    except (ValueError, ZswError) as exc:
        state, line = nagios.unknown(str(exc))
    else:
        ex, now = Executor(), int(datetime.now().timestamp())
        state, line = nagios.verdict([nagios.check_job(job, ex, now) for job in jobs], limits)
    print(line)
    return int(state)
