"""Creating and editing a job: the questions, the preview, the atomic save.

Nothing is written before the person has seen the job file and the dry-run
plan and said yes; a cancel at any prompt leaves no file behind.
"""

from __future__ import annotations

import yaml

from ..errors import ConfigError, ExitCode, UsageError
from ..jobs import job as jobmod
from ..jobs import names, paths, store
from . import draft, manage, preview, questions, sanoidconf, schedule, summary
from .context import Context


def _defaults(ctx: Context) -> dict:
    return jobmod.load_defaults(paths.defaults_path(ctx.config_dir))


def _check_new_name(ctx: Context, answer: str) -> str:
    name = names.job_name(answer)
    if paths.job_path(ctx.config_dir, name).exists():
        raise ValueError(f"a job named {name!r} exists already (change it with: zfs-sync-wizard edit {name})")
    return name


def create(ctx: Context, name: str | None = None) -> int:
    ui = ctx.ui
    if name is not None:
        try:
            _check_new_name(ctx, name)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    defaults = _defaults(ctx)
    s = questions.Answers(draft.start({}, defaults))
    ui.heading("New replication job")
    questions.ask_job(ctx, s)
    if name is None:
        suggestion = s.values["source"]["dataset"].rsplit("/", 1)[-1].replace(" ", "-")
        ui.heading("Name")
        name = ui.text(
            "Job name",
            default=suggestion if _free(ctx, suggestion) else "",
            check=lambda a: _check_new_name(ctx, a),
            instruction="(letters, digits, _ . -)",
        )
    ui.heading("Schedule")
    s.values["schedule"] = schedule.ask(ui, ctx.now(), s.values.get("schedule"))
    mapping = draft.finalize(s.values, {}, defaults, full=True)
    return _review_and_save(ctx, name, s, mapping, defaults, old_text=None)


def _free(ctx: Context, name: str) -> bool:
    try:
        _check_new_name(ctx, name)
    except ValueError:
        return False
    return True


def edit(ctx: Context, name: str) -> int:
    ui = ctx.ui
    path = paths.job_path(ctx.config_dir, names.job_name(name))
    if not path.exists():
        raise UsageError(
            f"no job {name!r} in {paths.jobs_dir(ctx.config_dir)} (create it with: zfs-sync-wizard create {name})"
        )
    old_text = path.read_text()
    try:
        base = yaml.safe_load(old_text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(
            str(path), f"not valid YAML ({exc}); fix it by hand, or remove it and create the job again"
        ) from None
    if not isinstance(base, dict):
        base = {}
    defaults = _defaults(ctx)
    try:
        jobmod.load_job(path, defaults)
    except ConfigError as exc:
        ui.warn(f"the file is not valid now: {exc}; the answers below replace what is wrong")
    s = questions.Answers(draft.start(base, defaults), editing=True)
    ui.heading(f"Edit job {name} ({path})")
    questions.ask_job(ctx, s)
    ui.heading("Schedule")
    s.values["schedule"] = schedule.ask(ui, ctx.now(), s.values.get("schedule"))
    mapping = draft.finalize(s.values, base, defaults, full=False)
    if mapping == base:
        ui.say("No changes: the job file stays as it is.")
        return ExitCode.OK
    return _review_and_save(ctx, name, s, mapping, defaults, old_text=old_text)


def _review_and_save(ctx: Context, name: str, s, mapping: dict, defaults: dict, old_text: str | None) -> int:
    ui = ctx.ui
    path = paths.job_path(ctx.config_dir, name)
    job = jobmod.from_mapping(
        mapping, name, str(path), defaults
    )  # every answer was checked; this checks them together
    text = jobmod.dump(mapping)
    ui.heading("Preview")
    if old_text is None:
        ui.say(f"  {path}:")
        ui.block(text)
    else:
        ui.say("  changes to the job file:")
        ui.block(preview.diff(old_text, text, str(path)))
        if "#" in old_text:
            ui.warn("comments in the file are not kept when the wizard rewrites it")
    count, size, resumed = questions.facts(s)
    runs, capped = schedule.year_of_runs(job.schedule, ctx.now())
    words = summary.Facts(count, size, resumed, runs, capped, schedule.label(job.schedule), s.rate)
    ui.say("  what it does:")
    for line in summary.describe(job, words):
        ui.note(line)
    sanoid_changes = [] if job.take_snapshots else sanoidconf.preview_sides(ctx, job)
    ui.say("  dry run (nothing is changed; the listings are real):")
    ok, plan = preview.plan_text(job, ctx.preview_plan)
    preview.show(ui, plan)
    if not ok:
        ui.warn("the dry run found a problem (above): runs of this job fail until it is fixed")
    pending = [c for c in sanoid_changes if c.new != c.old]
    also = " and the sanoid.conf changes above" if pending else ""
    if not ui.confirm(f"Save {path}{also}?", default=ok):
        ui.say("Nothing was saved.")
        return ExitCode.OK
    store.write(path, text)
    ui.ok(f"saved {path}")
    sanoidconf.write_sides(ctx, pending)
    manage.offer_schedule(ctx, name, job.schedule)
    return ExitCode.OK
