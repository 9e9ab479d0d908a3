"""`zfs-sync-run`: run replication jobs headless, for cron.

Prints nothing on success; errors go to stderr naming what failed, where,
and what to do; the exit status says what happened (zfs-sync-run(8)).

Each command imports what it needs when it runs: `--version` and `--help`
import no YAML, no `sh`, no croniter (tests/unit/test_startup.py).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import ConfigError, ExitCode, Interrupted, UsageError, ZswError
from ..jobs import names, paths
from . import restore, watch

if TYPE_CHECKING:
    from ..jobs.job import Job

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
        "3 skipped because the job is already running, 130 interrupted; --monitor: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
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
        "--status",
        action="store_true",
        help="one table of the jobs: last run, result, duration, bytes, last success, lag per dataset "
        "(read from the destination), next run, a run in progress; held snapshots and errors",
    )
    watch.add_arguments(p)
    p.add_argument(
        "--log", action="store_true", help="print the log of each named job's latest run (logs/NAME.log)"
    )
    p.add_argument(
        "--rollback",
        action="store_true",
        help="allow rolling the destination back to the last common snapshot, destroying newer destination snapshots (names them first)",
    )
    # --verify: compare both sides (operations/verification.py)
    p.add_argument(
        "--verify",
        action="store_true",
        help="compare both sides' snapshots by GUID, per dataset; exit 0 when equal, 1 otherwise",
    )
    p.add_argument(
        "--deep",
        action="store_true",
        help="with --verify: also compare every file's checksum in the newest snapshot both sides have",
    )
    restore.add_arguments(p)
    p.add_argument("-v", "--verbose", action="store_true", help="log every command on stderr")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def main(argv: list | None = None) -> int:
    args = parser().parse_args(argv)
    _setup_environment()
    _setup_logging(args.verbose)
    if args.restore or args.snapshot or args.to or args.dataset:
        return _restore(args)
    if args.monitor:
        return watch.monitor(args, _select_jobs)
    if args.status:
        watch.every_job_by_default(args)
    try:
        jobs = _select_jobs(args)
    except ZswError as exc:
        _error(exc)
        return int(exc.exit_code)
    state = paths.state_dir(args.state_dir)
    if args.status:
        return watch.status(jobs, state, args.json)
    worst = ExitCode.OK
    for job in jobs:
        if args.verify:
            code = _verify_job(job, args.deep, state)
        elif args.log:
            from ..operations import logview

            code = logview.print_latest(job, state)
        elif args.check:
            code = _check_job(job)
        else:
            code = _run_job(job, args, state)
        worst = max(worst, code, key=_SEVERITY.index)
        if code == ExitCode.INTERRUPTED:
            break
    return int(worst)


def _restore(args) -> int:
    """--restore NAME: one job, in reverse (cli/restore.py)."""
    try:
        if not args.restore:
            raise UsageError("--snapshot, --to and --dataset go with --restore NAME")
        if args.jobs or args.all or args.job_file or args.check or args.status or args.rollback:
            raise UsageError(
                "--restore NAME takes no other job names and no --all, --check, --status or --rollback"
            )
        args.jobs = [args.restore]
        job = _select_jobs(args)[0]
    except ZswError as exc:
        _error(exc)
        return int(exc.exit_code)
    return int(restore.run(job, args, paths.state_dir(args.state_dir), PROG))


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
    handler.addFilter(lambda record: not getattr(record, "log_file_only", False))
    log.addHandler(handler)


def _select_jobs(args) -> list:
    from ..jobs.job import check_destinations, load_defaults, load_job

    if args.deep and not args.verify:
        raise UsageError("--deep goes with --verify")
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
    from ..jobs.job import load_job

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
    from ..jobs import delegation
    from ..planning import capabilities, unchanged
    from ..running.check import check
    from ..running.execute import Executor

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
    if job.take_snapshots:  # nothing new, nothing done: where the source can tell
        said = unchanged.describe(job.when_unchanged, src.written, job.source.endpoint.label)
        print(f"{job.name}: unchanged source: {said}")
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


def _verify_job(job: Job, deep: bool, state: Path) -> ExitCode:
    from ..operations import verification
    from ..running.lock import job_lock

    try:
        # --deep clones a snapshot for a while: not while a run of the job prunes or receives
        with job_lock(state, job) if deep else contextlib.nullcontext():
            equal = verification.verify(job, deep)
    except (KeyboardInterrupt, Interrupted):
        _error("verification interrupted", job)
        return ExitCode.INTERRUPTED
    except ZswError as exc:
        _error(exc, job)
        return exc.exit_code
    if not equal:
        _error("the destination differs from the source (see above)", job)
    return ExitCode.OK if equal else ExitCode.FAILED


def _run_job(job: Job, args, state: Path) -> ExitCode:
    from ..operations import metrics, notify
    from ..running import logfile, records, runner
    from ..running.lock import destination_lock, job_lock

    run_id = logfile.run_id(datetime.now(), os.getpid())
    record = records.RunRecord(job=job.name, start=_now(), id=run_id, dry_run=args.dry_run)
    outcome = None
    handler = logfile.handler(state, job.name, run_id, job.logs) if not args.dry_run else None
    if handler:
        log.addHandler(handler)
    started, code = time.monotonic(), ExitCode.FAILED
    log.info("%s (%s %s)", logfile.START, PROG, __version__)
    notifier = None if args.dry_run else notify.Notifier(job)  # a dry run notifies nobody
    previous = records.last(state, job.name)  # for "recovery": the run before this one
    try:
        # a dry run changes nothing, so it needs no lock (the wizard previews while cron runs)
        locks = contextlib.ExitStack()
        if not args.dry_run:
            locks.enter_context(job_lock(state, job))
            locks.enter_context(destination_lock(state, job))
        with locks:
            if notifier:
                notifier.started()
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
        if notifier and record.result not in ("running", "skipped"):
            try:
                record.notifications = notifier.finished(asdict(record), previous)
            except KeyboardInterrupt:  # the run's own record stands; stop telling others
                code = ExitCode.INTERRUPTED
                _error("interrupted while sending notifications", job)
        log.info("%s", logfile.end_line(record.result, int(code), record.bytes, time.monotonic() - started))
        if handler:
            log.removeHandler(handler)
            handler.close()
    record.end, record.exit_code = _now(), int(code)
    if args.dry_run:
        record.result = "dry-run"
    elif code != ExitCode.LOCKED:
        records.save(state, record, job.logs["runs"])
        listed = outcome.destination if outcome else None
        metrics.after_run(job, state, asdict(record), listed, int(datetime.now().timestamp()))
    return code


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _error(exc, job: Job | None = None) -> None:
    prefix = f"{PROG}: {job.name}: " if job else f"{PROG}: "
    print(prefix + str(exc), file=sys.stderr)
    log.error("%s", exc, extra={"log_file_only": True})  # printed just above


if __name__ == "__main__":
    sys.exit(main())
