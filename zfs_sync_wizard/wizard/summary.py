"""The job in words, for the preview: what is sent, how much, what stays on each side (pure).

The exact commands (the runner's own dry run) stay one keypress away;
`split_plan` separates the dry run's readable lines from its commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import humanize

from ..jobs.job import Job
from ..planning import outlook

PERIODS = (
    ("hourly", "hours"),
    ("daily", "days"),
    ("weekly", "weeks"),
    ("monthly", "months"),
    ("yearly", "years"),
)


@dataclass(frozen=True)
class Facts:
    datasets: int  # datasets the job sends: 1, plus the children when recursive
    size: int | None = None  # their referenced bytes, as the dataset listing showed them
    resumed_from: str | None = None  # the newest common snapshot when the destination has this source's
    runs: Sequence[int] = ()  # epoch seconds of the scheduled runs to come (a year's, or `capped` of them)
    capped: bool = False
    schedule: str = ""  # the schedule in words, e.g. "nightly at 02:00"
    rate: float | None = None  # bytes per second the ssh check measured (None: not measured, or local)


def describe(job: Job, facts: Facts) -> list[str]:
    """Sentences, each one line of the preview."""
    src, dst = job.source, job.destination
    lines = [_what(job, facts), _how(job)]
    if facts.resumed_from:
        lines.append(f"Next run: continues from @{facts.resumed_from}, sending only what changed since.")
    elif facts.size is not None:
        lines.append(
            f"First run: sends everything, about {size_words(facts.size)} (the datasets' referenced size)"
            f"{_at_rate(facts.size, facts.rate)}; later runs send only what changed."
        )
    else:
        lines.append("First run: sends everything; later runs send only what changed.")
    if job.take_snapshots:
        lines.append(
            f"Snapshots: each run takes @{job.snapshot_stem}<time> on {src.endpoint.label}:{src.dataset}"
            f"{' and its children' if job.recursive else ''}, sends it, and prunes only the runner's own."
        )
        for side, label in (("source", src.endpoint.label), ("destination", dst.endpoint.label)):
            lines.append(f"Kept on the {side} ({label}): {_kept(job.keep, job.retention[side])}.")
        lines += _year(job, facts)
    else:
        lines.append(
            "Snapshots: sanoid's, taken on the source by sanoid; each run sends the new ones and takes none."
        )
        for side in ("source", "destination"):
            lines.append(
                f"sanoid keeps on the {side}: {_periods(job.retention[side]) or 'nothing by period'}."
            )
    if job.readonly:
        lines.append("The destination stays read-only (a change there would block the next incremental).")
    return lines


def _what(job: Job, facts: Facts) -> str:
    src, dst = job.source, job.destination
    children = facts.datasets - 1
    also = f" and its {children} child dataset{'' if children == 1 else 's'}" if children > 0 else ""
    at_once = f"up to {job.parallel} at a time" if job.parallel > 1 else "one after another"
    if facts.datasets == 1:
        streams = "one stream"
    elif job.tree_stream == "never":
        streams = f"{facts.datasets} streams, one per dataset, {at_once}"
    else:
        streams = f"one stream for all {facts.datasets} (zfs send -R), else one per dataset, {at_once}"
    return (
        f"Sends {src.endpoint.label}:{src.dataset}{also} to {dst.endpoint.label}:{dst.dataset}: "
        f"{streams}, each run."
    )


def _how(job: Job) -> str:
    remote = not (job.source.endpoint.is_local and job.destination.endpoint.is_local)
    parts = ["over ssh" if remote else "on this machine"]
    wire = job.wire_compression
    parts.append(f"{wire}-compressed" if wire else "uncompressed")
    if job.buffer:
        parts.append(f"through a {job.buffer} mbuffer")
    if job.bandwidth_limit:
        parts.append(f"limited to {job.bandwidth_limit} per second")
    incremental = (
        "every snapshot in between (-I)"
        if job.incremental == "intermediate"
        else "one stream per snapshot (-i)"
    )
    return f"How: {', '.join(parts)}; incrementals carry {incremental}."


def _kept(keep: int, counts: dict) -> str:
    newest = (
        "the newest one both sides share"
        if keep <= 1
        else f"the newest {keep} (with the newest one both sides share)"
    )
    periods = _periods(counts, newest_of=True)
    return f"{newest}, plus {periods}" if periods else newest


def _periods(counts: dict, newest_of: bool = False) -> str:
    parts = [f"{counts[p]} {p}" for p, _ in PERIODS if counts.get(p)]
    if not parts:
        return ""
    if not newest_of:
        return ", ".join(parts)
    last = [f"{counts[p]} {unit}" for p, unit in PERIODS if counts.get(p)]
    return (
        "the newest of each of the last "
        + ", ".join(last)
        + " (UTC calendar periods: one without a snapshot keeps none)"
    )


def _year(job: Job, facts: Facts) -> list[str]:
    if not facts.runs:
        return []
    times = [datetime.fromtimestamp(t, timezone.utc) for t in facts.runs]
    src = len(outlook.left_after(times, job.retention["source"], job.keep))
    dst = len(outlook.left_after(times, job.retention["destination"], job.keep))
    when = "a year of runs" if not facts.capped else f"{len(facts.runs)} runs"
    return [
        f"After {when} on the schedule {facts.schedule}: {src} of the runner's snapshots stay on the source, "
        f"{dst} on the destination (per dataset)."
    ]


def size_words(n: float) -> str:
    """'2.0 GiB', '8.0 MiB'."""
    return humanize.naturalsize(n, binary=True)


def rate_words(rate: float) -> str:
    """Bytes per second as a person says them: '11 MiB/s', '3.4 MiB/s', '640 KiB/s'."""
    value, unit = float(rate), "B"
    for bigger in ("KiB", "MiB", "GiB"):
        if value < 1024 * 0.95:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}/s" if value < 10 else f"{value:.0f} {unit}/s"


def duration_words(seconds: float) -> str:
    """A transfer's estimated time: 'under a minute', 'about 3 minutes', 'about 5 hours', 'about 2 days'."""
    minutes = seconds / 60
    if minutes < 1:
        return "under a minute"
    if minutes < 90:
        return "about a minute" if round(minutes) == 1 else f"about {round(minutes)} minutes"
    hours = minutes / 60
    if hours < 36:
        return f"about {round(hours)} hours"
    return f"about {round(hours / 24)} days"


def _at_rate(size: int, rate: float | None) -> str:
    if not rate:
        return ""
    return f": {duration_words(size / rate)} at the {rate_words(rate)} the ssh check measured"


_OVERVIEW = ("estimated size", "error:", "warning:")


def split_plan(text: str) -> tuple[str, str]:
    """(the dry run's readable lines, its commands): the commands follow its 'commands:' line."""
    lines = text.splitlines()
    if "commands:" not in lines:
        return text, ""
    at = lines.index("commands:")
    rest = lines[at + 1 :]
    overview = lines[:at] + [line for line in rest if line.startswith(_OVERVIEW)]
    commands = [line for line in rest if not line.startswith(_OVERVIEW)]
    return "\n".join(overview), "\n".join(commands)
