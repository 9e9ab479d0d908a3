"""Commands on saved jobs: run now, schedule, unschedule, list, logs, check.

Cron entries live in the invoking user's crontab (cron.py), one marked line
per job; the job file's `schedule` is what the wizard proposes, the crontab
is what runs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml

from ..errors import ExitCode, UsageError, ZswError
from ..jobs import job as jobmod
from ..jobs import names, paths, store
from ..operations import facts, logview, status
from ..running import records
from ..schedule import cron
from . import preview, schedule
from .context import Context

LOG_TAIL = 30


def load(ctx: Context, name: str) -> jobmod.Job:
    path = paths.job_path(ctx.config_dir, names.job_name(name))
    if not path.exists():
        raise UsageError(f"no job {name!r} in {paths.jobs_dir(ctx.config_dir)} (see: zfs-sync-wizard list)")
    return jobmod.load_job(path, jobmod.load_defaults(paths.defaults_path(ctx.config_dir)))


def _run_argv(ctx: Context, name: str) -> list[str]:
    """The runner's command line for job `name`, once it is known to start as cron starts it."""
    program = ctx.run_program or cron.runner_program()
    cron.check_runner(ctx.executor, program)
    state = ctx.state_dir if ctx.state_dir_given else None
    return cron.run_argv(name, ctx.config_dir, state, program)


def install(ctx: Context, name: str, expression: str) -> None:
    line = cron.install(ctx.executor, name, expression, _run_argv(ctx, name))
    ctx.ui.ok("installed in your crontab (crontab -l shows it):")
    ctx.ui.block(line)
    first = schedule.next_runs(expression, ctx.now(), 1)[0]
    ctx.ui.note(f"next run: {schedule.when(first, ctx.now())}; cron mails you only when a run fails")


def offer_schedule(ctx: Context, name: str, expression: str | None) -> None:
    ui = ctx.ui
    if expression is None:
        if name in cron.installed(ctx.executor) and ui.confirm("Remove its old crontab entry?", default=True):
            cron.remove(ctx.executor, name)
            ui.ok("removed from your crontab")
        else:
            ui.note(f"not scheduled; run it with: zfs-sync-wizard run {name}")
        return
    if ui.confirm(f"Install the schedule ({expression}) in your crontab now?", default=True):
        install(ctx, name, expression)
    else:
        ui.note(f"not installed; later: zfs-sync-wizard schedule {name}")


def run(ctx: Context, name: str) -> int:
    ui = ctx.ui
    job = load(ctx, name)
    ui.heading(f"Run {name}")
    ui.say("  dry run (nothing is changed; the listings are real):")
    ok, plan = preview.plan_text(job, ctx.preview_plan)
    preview.show(ui, plan)
    if not ok:
        ui.warn("the dry run found a problem (above)")
    if not ui.confirm("Run it now?", default=ok):
        ui.say("Not run.")
        return ExitCode.OK
    argv = _run_argv(ctx, name)
    first = records.last(ctx.state_dir, name) is None  # before this run writes its record
    ui.say(f"Running {name} as cron would; its progress and any failure show below as they happen ...")
    status = ctx.executor.attached(argv)  # on this terminal: pv's line per dataset, live
    if status == 0:
        ui.ok(f"{name} finished")
        _offer_verify(ctx, name, argv, first)
    else:
        ui.problem(
            f"{name} ended with exit status {status} (its messages are above; "
            f"the log: zfs-sync-wizard logs {name})"
        )
    lines = _status_lines(ctx, job, None)  # as `zfs-sync-run --status` has it now
    ui.say(f"  {name}: {lines[0]}")
    for line in lines[1:]:
        ui.say(f"    {line}")
    return status


def _offer_verify(ctx: Context, name: str, argv: list[str], first: bool) -> None:
    """`zfs-sync-run --verify NAME` on this terminal, when asked (the default after a first run)."""
    ui = ctx.ui
    if not ui.confirm(
        f"Verify it now (zfs-sync-run --verify {name}: both sides' snapshots compared by GUID)?",
        default=first,
    ):
        return
    status = ctx.executor.attached([*argv[:-1], "--verify", argv[-1]])
    if status == 0:
        ui.ok("verified: the destination has the source's snapshots (same GUIDs)")
    else:
        ui.problem(f"the verification ended with exit status {status} (its report is above)")


def _status_lines(ctx: Context, job: jobmod.Job, entries: dict | None) -> list[str]:
    """What `zfs-sync-run --status` says of the job: last run, lag read from the destination, next run."""
    now = ctx.now()
    return status.summary_lines(facts.collect(job, ctx.state_dir, now, ctx.executor, entries), now)


def schedule_job(ctx: Context, name: str) -> int:
    ui = ctx.ui
    job = load(ctx, name)
    entry = cron.installed(ctx.executor).get(name)
    current = entry.schedule if entry else job.schedule
    ui.heading(f"Schedule {name}")
    ui.say(f"  now: {schedule.label(entry.schedule) + ' (installed)' if entry else 'not in your crontab'}")
    expression = schedule.ask(ui, ctx.now(), current)
    if expression is None:
        return unschedule(ctx, name)
    if expression != job.schedule and job.path is not None:
        _save_schedule(ctx, job.path, expression)
    install(ctx, name, expression)
    return ExitCode.OK


def _save_schedule(ctx: Context, path: Path, expression: str) -> None:
    old = path.read_text()
    data = yaml.safe_load(old) or {}
    data["schedule"] = expression
    new = jobmod.dump(data)
    ctx.ui.say("  job file:")
    ctx.ui.block(preview.diff(old, new, str(path)))
    store.write(path, new)


def unschedule(ctx: Context, name: str) -> int:
    names.job_name(name)
    if cron.remove(ctx.executor, name):
        ctx.ui.ok(
            f"removed {name} from your crontab; the job file stays (run it by hand, or schedule it again)"
        )
    else:
        ctx.ui.say(f"{name} is not in your crontab; nothing changed.")
    return ExitCode.OK


def list_jobs(ctx: Context) -> int:
    ui, now = ctx.ui, ctx.now()
    files = sorted(paths.jobs_dir(ctx.config_dir).glob("*.yaml"))
    try:
        entries = cron.installed(ctx.executor)
    except ZswError as exc:
        ui.warn(f"cannot read your crontab: {exc}")
        entries = {}
    if not files and not entries:
        ui.say(f"No jobs in {paths.jobs_dir(ctx.config_dir)}. Create one with: zfs-sync-wizard create")
        return ExitCode.OK
    for path in files:
        ui.say(_describe(ctx, path, entries, now))
    for name in sorted(set(entries) - {p.stem for p in files}):
        ui.say(
            f"{name}: in your crontab but no job file ({entries[name].schedule}); remove: zfs-sync-wizard unschedule {name}"
        )
    return ExitCode.OK


def _describe(ctx: Context, path: Path, entries: dict, now: datetime) -> str:
    name = path.stem
    entry = entries.get(name)
    try:
        job = jobmod.load_job(path, jobmod.load_defaults(paths.defaults_path(ctx.config_dir)))
        route = (
            f"{job.source.endpoint.label}:{job.source.dataset} -> "
            f"{job.destination.endpoint.label}:{job.destination.dataset}"
        )
    except ZswError as exc:
        route, job = f"INVALID: {exc}", None
    if entry:
        when = f"schedule {schedule.label(entry.schedule)}, next {schedule.in_words(schedule.next_runs(entry.schedule, now, 1)[0], now)}"
    elif job is not None and job.schedule:
        when = f"not in crontab (job file says {job.schedule}; install: zfs-sync-wizard schedule {name})"
    else:
        when = "not scheduled"
    if job is None:
        shown = [f"last run: {_last(ctx, name, now)}"]
    else:  # what `zfs-sync-run --status` shows: the lag read from the destination, a run in progress
        shown = _status_lines(ctx, job, entries)
    return "\n    ".join([f"{name}: {route}", when, *shown])


def _last(ctx: Context, name: str, now: datetime) -> str:
    return status.last_run_text(records.last(ctx.state_dir, name), now)


def logs(ctx: Context, name: str) -> int:
    """The last run, then recent runs to pick from, each shown with its errors highlighted."""
    ui = ctx.ui
    names.job_name(name)
    ui.say(f"{name}: last run: {_last(ctx, name, ctx.now())}")
    entries = logview.recent(ctx.state_dir, name)
    if not entries:  # no run history (an older version's runs): the end of the log
        return _log_tail(ctx, name)
    choices = [(entry.title, entry) for entry in entries] + [("Done", "done")]
    while True:
        entry = ui.select("Which run's log?", choices, instruction="(newest first; Done to leave)")
        if entry == "done":
            return ExitCode.OK
        _show_run(ctx, name, entry)


def _show_run(ctx: Context, name: str, entry: logview.Entry) -> None:
    ui = ctx.ui
    lines = logview.lines_of(ctx.state_dir, name, entry.id) if entry.id else []
    ui.heading(f"{name}: run of {entry.title.strip()}")
    if not lines:
        for error in entry.record.get("errors", []):
            ui.marked(f"error: {error}", "error")
        ui.say("  its log lines are no longer in the log (rotated away: logs.max_bytes, logs.keep)")
        return
    for line in lines:
        kind = "error" if line.is_error else "warning" if line.is_warning else None
        ui.marked(line.text, kind)


def _log_tail(ctx: Context, name: str) -> int:
    ui = ctx.ui
    path = records.log_path(ctx.state_dir, name)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        ui.say(f"  no log yet ({path})")
        return ExitCode.OK
    ui.say(f"  last {min(LOG_TAIL, len(lines))} lines of {path}:")
    ui.block("\n".join(lines[-LOG_TAIL:]))
    return ExitCode.OK
