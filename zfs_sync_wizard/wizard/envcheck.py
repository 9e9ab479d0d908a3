"""`zfs-sync-wizard check`: is this machine, and is every job, ready to run?"""

from __future__ import annotations

import os

from ..commands import probes, zfs
from ..errors import CommandFailed, ExitCode, ZswError
from ..jobs import job as jobmod
from ..jobs import paths
from ..jobs.endpoint import Endpoint
from ..running.blame import SSH_ERROR
from ..running.check import check as check_job
from ..schedule import cron
from . import sshcheck
from .context import Context

LOCAL = Endpoint()
PROGRAMS = ("zfs", "zpool", "ssh", "pv", "mbuffer", "zstd", "crontab")


def check(ctx: Context) -> int:
    ui = ctx.ui
    problems = 0
    ui.heading("This machine")
    missing = probes.missing_locally(set(PROGRAMS))
    found = [p for p in PROGRAMS if p not in missing]
    ui.ok("found " + ", ".join(found))
    if missing:
        problems += 1
        ui.problem(probes.message("localhost", missing))
    if "zpool" not in missing:
        result = ctx.executor.run(LOCAL, zfs.pools(), changes=False, check=False)
        if result.status == 0:
            ui.ok("ZFS answers; pools: " + (", ".join(result.stdout.split()) or "none"))
        else:
            problems += 1
            ui.problem(f"'zpool list' failed: {result.stderr.strip()}")
    problems += _check_dirs(ctx)
    program = ctx.run_program or cron.runner_program()
    try:
        cron.check_runner(ctx.executor, program)
        ui.ok("cron runs: " + cron.cron_quote(program))
    except ZswError as exc:
        problems += 1
        ui.problem(str(exc))
    try:
        count = len(cron.installed(ctx.executor))
        ui.ok(f"your crontab is readable ({count} job(s) of this tool in it)")
    except ZswError as exc:
        problems += 1
        ui.problem(str(exc))
    problems += _check_jobs(ctx)
    if problems:
        ui.say(f"{problems} problem(s) found.")
        return ExitCode.FAILED
    ui.say("Everything is ready.")
    return ExitCode.OK


def _check_dirs(ctx: Context) -> int:
    ui = ctx.ui
    jobs = paths.jobs_dir(ctx.config_dir)
    probe = jobs if jobs.exists() else ctx.config_dir if ctx.config_dir.exists() else ctx.config_dir.parent
    if os.access(probe, os.W_OK):
        ui.ok(f"job files go to {jobs}")
        return 0
    ui.problem(f"cannot write job files in {jobs} (run as the user who owns it, or pass --config-dir)")
    return 1


def _check_jobs(ctx: Context) -> int:
    ui = ctx.ui
    files = sorted(paths.jobs_dir(ctx.config_dir).glob("*.yaml"))
    if not files:
        return 0
    ui.heading("Jobs")
    problems = 0
    for path in files:
        try:
            job = jobmod.load_job(path, jobmod.load_defaults(paths.defaults_path(ctx.config_dir)))
            for endpoint, found in check_job(job, ctx.executor).items():
                programs = found[0] if isinstance(found, tuple) else found
                ui.ok(f"{path.stem}: {getattr(endpoint, 'label', endpoint)}: {', '.join(programs)}")
        except CommandFailed as exc:
            problems += 1
            ui.problem(f"{path.stem}: {_explain(exc, job)}")
        except ZswError as exc:
            problems += 1
            ui.problem(f"{path.stem}: {exc}")
    return problems


def _explain(exc: CommandFailed, job: jobmod.Job) -> str:
    """An ssh failure in the terms of its fix (as the create questions give it)."""
    if exc.status != SSH_ERROR:
        return str(exc)
    for endpoint in (job.source.endpoint, job.destination.endpoint):
        if not endpoint.is_local and exc.host.startswith(endpoint.label):
            problem = sshcheck.classify(endpoint, exc.status, exc.stderr)
            if problem:
                return problem.message
    return str(exc)
