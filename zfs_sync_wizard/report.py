"""The plan as `--dry-run` prints it, before the exact commands."""

from __future__ import annotations

from . import planning
from .job import Job


def describe(job: Job, pairs, taken: str | None) -> str:
    src, dst = job.source.endpoint, job.destination.endpoint
    lines = [f"job {job.name}: {src.label}:{job.source.dataset} -> {dst.label}:{job.destination.dataset}"]
    if taken:
        lines.append(f"  replication snapshot: @{taken}{' (recursive)' if job.recursive else ''}")
    for pair in pairs:
        lines.append(f"  {pair.source} -> {pair.destination}: {plan_text(pair.plan)}")
    lines.append("commands:")
    return "\n".join(lines)


def plan_text(plan) -> str:
    if isinstance(plan, planning.UpToDate):
        return f"up to date (@{plan.common})"
    if isinstance(plan, planning.Conflict):
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
