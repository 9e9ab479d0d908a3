"""The plan as people read it (pure): the dry run's summary before the exact
commands, a conflict with both sides' newest snapshots and the way out, and
a failed stage with what to do about it."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import StageFailed
from ..jobs.job import Job
from . import sizes
from .plan import ROLLBACK_HINT, Conflict, Pair, Plan, UpToDate


def summary(job: Job, pairs: Sequence[Pair], planned: str | None, notes: Sequence[str] = ()) -> str:
    """`notes`: lines about what the job selects and leaves out (snapshots, datasets, properties)."""
    src, dst = job.source.endpoint, job.destination.endpoint
    lines = [f"job {job.name}: {src.label}:{job.source.dataset} -> {dst.label}:{job.destination.dataset}"]
    if planned:
        lines.append(f"  replication snapshot: @{planned}{' (recursive)' if job.recursive else ''}")
    lines += [f"  {note}" for note in notes]
    for pair in pairs:
        lines.append(f"  {pair.source} -> {pair.destination}: {plan_text(pair.plan)}")
    lines.append("commands:")
    return "\n".join(lines)


def plan_text(plan: Plan) -> str:
    if isinstance(plan, UpToDate):
        return f"up to date (@{plan.common})"
    if isinstance(plan, Conflict):
        return f"CONFLICT {plan.kind}: {plan.message}"
    parts = []
    if plan.rollback:
        destroyed = ", ".join("@" + n for n in plan.rollback.destroys)
        parts.append(f"roll back to @{plan.rollback.to} destroying {destroyed}")
    for step in plan.sends:
        if step.base is None:
            parts.append(f"full @{step.target}")
        else:
            parts.append(
                f"incremental @{step.base} -> @{step.target} ({'-I' if step.intermediate else '-i'})"
            )
    return "; ".join(parts)


def conflict(conflict: Conflict, dataset: str, destination: str, shown: int = 5) -> str:
    """A conflict as the user reads it: both sides' newest snapshots and the way out."""

    def tail(names: Sequence[str]) -> str:
        if not names:
            return "(none)"
        more = f"... {len(names) - shown} older, " if len(names) > shown else ""
        return more + ", ".join("@" + n for n in names[-shown:])

    return (
        f"{dataset} -> {destination}: {conflict.message}\n"
        f"  source snapshots:      {tail(conflict.source)}\n"
        f"  destination snapshots: {tail(conflict.destination)}"
    )


def out_of_space(exc: StageFailed) -> bool:
    return exc.stage == "zfs receive" and "out of space" in exc.stderr.lower()


def space_needed(pool: str, available: int | None, needed: int | None) -> str:
    """What a receive that ran out of space needed, as far as both sides can tell."""
    have = f"{sizes.human(available)} free" if available is not None else "too little free"
    want = f"; this stream needs about {sizes.human(needed)}" if needed else ""
    return (
        f"\n  the destination pool {pool} has {have}{want}. Free space there (or grow the pool), "
        "then run again"
    )


def stage_failure(exc: StageFailed, space: str = "") -> str:
    """A failed stage, with the way out where there is one (`space`: see space_needed)."""
    text = str(exc) + (space if out_of_space(exc) else "")
    if exc.stage == "zfs receive" and "modified" in exc.stderr:
        text += (
            "\n  the destination changed since the last common snapshot; to discard those changes, "
            + ROLLBACK_HINT
        )
    return text
