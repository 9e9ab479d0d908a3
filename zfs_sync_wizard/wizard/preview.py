"""What the person sees before anything is saved: the file, the plan, the change.

The plan is the runner's own dry run against the real hosts: read-only
commands run, so it shows what the first run would send and the exact
commands it would start.
"""

from __future__ import annotations

import difflib

from ..errors import ZswError
from ..jobs.job import Job
from ..running import runner
from . import datasets, summary


def dry_run(job: Job) -> str:
    """The runner's dry-run text for `job` (raises ZswError when it cannot plan)."""
    lines: list[str] = []
    outcome = runner.run(job, runner.RunOptions(dry_run=True), echo=lines.append)
    estimated = getattr(outcome, "estimated", 0)
    if estimated:
        lines.append(f"estimated size (zfs send -nvP): {datasets.size(estimated)}")
    for error in outcome.errors:
        lines.append(f"error: {error}")
    for warning in outcome.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def plan_text(job: Job, plan=None) -> tuple[bool, str]:
    """(ok, text) of the dry run, or of the reason it could not be made."""
    try:
        text = (plan or dry_run)(job)
    except ZswError as exc:
        return False, str(exc)
    return "\nerror: " not in "\n" + text, text


def show(ui, plan: str) -> None:
    """The dry run's readable lines; its exact commands only when asked for."""
    overview, commands = summary.split_plan(plan)
    ui.block(overview)
    if commands and ui.confirm("Show the exact commands?", default=False):
        ui.block(commands)


def diff(old: str, new: str, path: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"{path} (now)", f"{path} (new)"
    )
    return "".join(lines)
