"""`zfs-sync-run`: run replication jobs headless, for cron.

Prints nothing on success; errors go to stderr naming what failed, where,
and what to do; the exit status says what happened (zfs-sync-run(8)).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from .. import __version__
from ..errors import ConfigError, ExitCode, Interrupted, UsageError, ZswError
from ..jobs import delegation, names, paths
from ..jobs.job import Job, check_destinations, load_defaults, load_job
from ..operations import status
from ..planning import capabilities
from ..running import records, runner
from ..running.check import check
from ..running.execute import Executor
from ..running.lock import destination_lock, job_lock

log = logging.getLogger("zfs_sync_wizard")
PROG = "zfs-sync-run"
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
# which status wins when several jobs end differently
_SEVERITY = [ExitCode.OK, ExitCode.LOCKED, ExitCode.FAILED, ExitCode.USAGE, ExitCode.INTERRUPTED]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Replicate ZFS datasets as described by job files (see zfs-sync-job(5)).",
        epilog="exit status: 0 success or nothing to do, 1 a job failed, 2 usage or job file error, "
        "3 skipped because the job is already running, 130 interrupted",
    )
    p.add_argument("jobs", nargs="*", metavar="NAME", help="job names (files <config dir>/jobs/NAME.yaml)")
    p.add_argument("--all", action="store_true", help="run every job in the config dir")
    p.add_argument("--job-file", metavar="PATH", action="append", default=[], help="run the job in this file")
    p.add_argument(
        "--config-dir", metavar="DIR", help="default: $ZFS_SYNC_CONFIG_DIR, /etc/zfs-sync-wizard for root"
    )
    p.add_argument(
        "--state-dir", metavar="DIR", help="default: $ZFS_SYNC_STATE_DIR, /var/lib/zfs-sync-wizard for root"
    )
    p.add_argument(
        "-n", "--dry-run", action="store_true", help="print the plan and the exact commands; change nothing"
    )
    p.add_argument("--check", action="store_true", help="only check prerequisites and ssh on every side")
    p.add_argument(
        "--status", action="store_true", help="show each job's last run and the snapshots it holds"
    )
    p.add_argument(
        "--rollback",
        action="store_true",
        help="allow rolling the destination back to the last common snapshot, destroying newer destination snapshots (names them first)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every command on stderr")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def main(argv: list | None = None) -> int:
    args = parser().parse_args(argv)
    _setup_environment()
    _setup_logging(args.verbose)
    try:
        jobs = _select_jobs(args)
    except ZswError as exc:
        _error(exc)
        return int(exc.exit_code)
    state = paths.state_dir(args.state_dir)
    worst = ExitCode.OK
    for job in jobs:
        if args.status:
            code = _status(job, state)
        elif args.check:
            code = _check_job(job)
        else:
            code = _run_job(job, args, state)
        worst = max(worst, code, key=_SEVERITY.index)
        if code == ExitCode.INTERRUPTED:
            break
    return int(worst)


def _setup_environment() -> None:
    # cron's PATH lacks /usr/sbin and /sbin, where zfs lives
    have = os.environ.get("PATH", "").split(":")
    os.environ["PATH"] = ":".join(have + [d for d in SYSTEM_PATH if d not in have]).strip(":")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.default_int_handler)


def _setup_logging(verbose: bool) -> None:
    log.setLevel(logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    log.addHandler(handler)


def _select_jobs(args) -> list:
    if not (args.jobs or args.all or args.job_file):
        raise UsageError("name a job, give --job-file PATH, or use --all (see --help)")
    conf = paths.config_dir(args.config_dir)
    defaults = load_defaults(paths.defaults_path(conf))
    files = [Path(f) for f in args.job_file]
    if args.all:
        files += sorted(paths.jobs_dir(conf).glob("*.yaml"))
        if not files:
            raise UsageError(f"no job files in {paths.jobs_dir(conf)}")
    for name in args.jobs:
        try:
            names.job_name(name)  # before it becomes a path: "../x" must not reach outside jobs/
        except ValueError as exc:
            raise UsageError(f"job name: {exc}") from None
        path = paths.job_path(conf, name)
        if not path.exists():
            raise ConfigError(str(path), f"no such job '{name}' (job files live in {paths.jobs_dir(conf)})")
        files.append(path)
    jobs = [load_job(f, defaults) for f in files]  # every file valid before anything runs
    check_destinations(jobs, _other_jobs(conf, defaults, jobs))
    return jobs


def _other_jobs(conf: Path, defaults: dict, jobs: list) -> list:
    """The config dir's other valid jobs (an invalid one fails when it is run itself)."""
    chosen = {job.path for job in jobs}
    others = []
    for path in sorted(paths.jobs_dir(conf).glob("*.yaml")):
        if path in chosen:
            continue
        try:
            others.append(load_job(path, defaults))
        except ConfigError:
            continue
    return jobs + others


def _check_job(job: Job) -> ExitCode:
    ex = Executor()
    try:
        found = check(job, ex)
    except ZswError as exc:
        _error(exc, job)
        return exc.exit_code
    for endpoint, (programs, _) in found.items():
        print(f"{job.name}: {endpoint.label}: ok ({', '.join(programs)})")
    src, dst = found[job.source.endpoint][1], found[job.destination.endpoint][1]
    print(f"{job.name}: transfers: {', '.join(capabilities.describe(src, dst))}")
    try:  # destination.properties: what this receiver can honour
        _, note = capabilities.receive_options(
            dst, job.receive_set, job.receive_exclude, job.destination.endpoint.label
        )
        print(f"{job.name}: receive properties: {note or 'set and excluded as the job says'}")
    except ZswError as exc:  # the job would fail before sending: so does the check
        _error(exc, job)
        return exc.exit_code
    for line in delegation.allow_lines(job):
        print(f"{job.name}: to run without root, {line}")
    for line in delegation.gate_lines(job):
        print(f"{job.name}: to restrict the job's key in authorized_keys, {line} KEY")
    return ExitCode.OK


def _status(job: Job, state: Path) -> ExitCode:
    for line in status.lines(job, state):
        print(line)
    return ExitCode.OK


def _run_job(job: Job, args, state: Path) -> ExitCode:
    record = records.RunRecord(job=job.name, start=_now(), dry_run=args.dry_run)
    handler = records.file_handler(state, job.name) if not args.dry_run else None
    if handler:
        log.addHandler(handler)
    try:
        # a dry run changes nothing, so it needs no lock (the wizard previews while cron runs)
        locks = contextlib.ExitStack()
        if not args.dry_run:
            locks.enter_context(job_lock(state, job))
            locks.enter_context(destination_lock(state, job))
        with locks:
            log.info("run started%s", " (dry run)" if args.dry_run else "")
            opts = runner.RunOptions(
                dry_run=args.dry_run, rollback=args.rollback, progress=sys.stderr.isatty()
            )
            outcome = runner.run(job, opts)
            record.sent = [asdict(sent) for sent in outcome.sent]
            record.bytes, record.estimated = outcome.bytes, outcome.estimated
            record.retries, record.aborted, record.held = outcome.retries, outcome.aborted, outcome.held
            record.destroyed = outcome.destroyed
            for warning in outcome.warnings:
                log.warning("%s: %s", job.name, warning)
            for error in outcome.errors:
                _error(error, job)
            record.errors = list(outcome.errors)
            code = ExitCode.FAILED if outcome.errors else ExitCode.OK
            record.result = "failed" if outcome.errors else ("ok" if outcome.sent else "nothing-to-do")
    except (KeyboardInterrupt, Interrupted):
        code, record.result = ExitCode.INTERRUPTED, "interrupted"
        _error("interrupted; the next run continues from here", job)
    except ZswError as exc:
        code = exc.exit_code
        record.result = "skipped" if code == ExitCode.LOCKED else "failed"
        record.errors.append(str(exc))
        _error(exc, job)
    finally:
        if handler:
            log.removeHandler(handler)
            handler.close()
    record.end, record.exit_code = _now(), int(code)
    if args.dry_run:
        record.result = "dry-run"
    elif code != ExitCode.LOCKED:
        records.save(state, record)
    return code


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _error(exc, job: Job | None = None) -> None:
    prefix = f"{PROG}: {job.name}: " if job else f"{PROG}: "
    print(prefix + str(exc), file=sys.stderr)
    log.debug("error: %s", exc)


if __name__ == "__main__":
    sys.exit(main())
