"""`zfs-sync-run --restore NAME --snapshot SNAP [--to [HOST:]DATASET]`: a backup snapshot sent back.

The job's destination sends SNAP of its backup dataset in full into a NEW
dataset, by default beside the source (`<source>-restored-YYYYMMDD`) on
the job's source host.  It never receives into an existing dataset (exit 2,
with the alternatives), never destroys anything, verifies the GUID, and
prints how to swap the restored dataset into place without doing it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ExitCode, Interrupted, UsageError, ZswError

if TYPE_CHECKING:  # the commands import them when they run: the runner's --help needs only the arguments
    from ..jobs.job import Job
    from ..planning import restore as rp
    from ..running import restore as rr


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("restore (zfs-sync-run(8), RESTORE)")
    g.add_argument(
        "--restore",
        metavar="NAME",
        help="send a snapshot of job NAME's backup back into a new dataset (never over an existing one)",
    )
    g.add_argument("--snapshot", metavar="SNAP", help="with --restore: the backup's snapshot (name after @)")
    g.add_argument(
        "--to",
        metavar="[HOST:]DATASET",
        help="with --restore: the new dataset, on HOST ([user@]host) or the job's source host; "
        "default: <source>-restored-YYYYMMDD beside the source",
    )
    g.add_argument(
        "--dataset",
        metavar="DATASET",
        help="with --restore, for recursive jobs: the backup dataset to restore (default: the job's top one)",
    )


def request(job: Job, args, now: datetime) -> rp.Request:
    """The restore the command line asks for (UsageError naming the option when it is wrong)."""
    from ..planning import restore as rp

    if not args.snapshot:
        raise UsageError("--restore needs --snapshot SNAP (the backup's snapshots: zfs-sync-run --status)")
    snap = args.snapshot.partition("@")[2] or args.snapshot
    backup = rp.backup_dataset(job, args.dataset)
    try:
        if args.to:
            endpoint, target = rp.parse_to(args.to, job)
        else:
            endpoint, target = job.source.endpoint, rp.beside(rp.original(job, backup), now)
    except ValueError as exc:
        raise UsageError(f"--to: {exc}") from None
    return rp.Request(backup, snap, target, endpoint)


def run(job: Job, args, state: Path, prog: str) -> ExitCode:
    from ..running import restore as rr
    from ..running.context import RunOptions
    from ..running.lock import job_lock

    now = datetime.now()
    try:
        req = request(job, args, now)
        if job.recursive and not args.dataset:
            print(
                f"note: {job.name} is recursive; this restores {req.dataset} alone, without the datasets "
                "below it (restore each with --dataset)"
            )
        opts = RunOptions(dry_run=args.dry_run, progress=sys.stderr.isatty(), now=now)
        if args.dry_run:  # changes nothing, so no lock
            done = rr.restore(job, req, opts)
        else:
            with job_lock(state, job):  # no run of the job prunes the snapshot meanwhile
                done = rr.restore(job, req, opts)
    except (KeyboardInterrupt, Interrupted):
        _error(prog, job, "restore interrupted; nothing was swapped, the partial dataset (if any) is new")
        return ExitCode.INTERRUPTED
    except ZswError as exc:
        _error(prog, job, exc)
        return exc.exit_code
    for error in done.outcome.errors:
        _error(prog, job, error)
    if done.outcome.errors:
        return ExitCode.FAILED
    _report(job, req, done, args.dry_run, now)
    return ExitCode.OK


def _report(job: Job, req: rp.Request, done: rr.Restored, dry_run: bool, now: datetime) -> None:
    from ..planning import restore as rp
    from ..running import restore as rr

    target = f"{req.endpoint.label}:{req.target}@{req.snapshot}"
    if dry_run:
        print(f"# afterwards: {target} must have guid {done.guid}, the backup's")
    else:
        sent = sum(s.bytes for s in done.outcome.sent)
        print(
            f"restored {job.destination.endpoint.label}:{req.dataset}@{req.snapshot} -> {target} ({sent} bytes)"
        )
        print(f"verified: {target} has guid {done.guid}, the same as the backup's")
    original = rp.original(job, req.dataset)
    if req.target != original and req.endpoint == job.source.endpoint:
        for line in rr.swap_hint(req.endpoint, original, req.target, now):
            print(("# " if dry_run else "") + line)


def _error(prog: str, job: Job, message) -> None:
    print(f"{prog}: {job.name}: {message}", file=sys.stderr)
