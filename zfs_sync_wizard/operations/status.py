"""What `zfs-sync-run --status` shows: one table of jobs (last run, result,
duration, bytes, last success, lag, next run, a run in progress), then per
job the lag and newest snapshot of each dataset on both sides, the
snapshots held as the next incremental's base and the errors of the last
run.  `as_json` gives the same facts in the stable shape documented in
zfs-sync-run(8) ("STATUS AS JSON").
"""

from __future__ import annotations

from datetime import datetime, timezone

import humanize

from ..planning.lag import format_duration
from . import notice
from .facts import DatasetFacts, JobFacts, Newest

JSON_VERSION = 1
COLUMNS = ("JOB", "LAST RUN", "RESULT", "DURATION", "SENT", "LAST SUCCESS", "LAG", "NEXT RUN", "RUNNING")


def render(all_facts: list[JobFacts], now: datetime) -> str:
    """The table, then each job's detail lines."""
    rows = [COLUMNS] + [row(f, now) for f in all_facts]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    details = [line for f in all_facts for line in detail_lines(f, now)]
    return "\n".join(table + details)


def summary_lines(f: JobFacts, now: datetime) -> list[str]:
    """The same facts as the table's row and details, a line each (the wizard's `list`)."""
    success = ago(f.last_success, now) if f.last_success else "never"
    out = [f"last run: {last_run_text(f.last_run, now)}; last success: {success}"]
    if f.running is not None:
        out.append(f"running now: {running_text(f)}")
    return out + [dataset_text(d, now) for d in f.datasets] + f.problems


def last_run_text(run: dict | None, now: datetime) -> str:
    """'ok (3 hours ago, took 2m 5s, 1.2 MiB sent)', and the first line of its first error."""
    if not run:
        return "never"
    parts = [ago(run.get("end") or run.get("start"), now)]
    if duration(run) is not None:
        parts.append(f"took {format_duration(duration(run))}")
    if run.get("bytes"):
        parts.append(f"{humanize.naturalsize(run['bytes'], binary=True)} sent")
    text = f"{run.get('result', '?')} ({', '.join(parts)})"
    if run.get("errors"):
        text += f": {run['errors'][0].splitlines()[0]}"
    return text


def row(f: JobFacts, now: datetime) -> tuple[str, ...]:
    run = f.last_run or {}
    return (
        f.job.name,
        ago(run.get("end") or run.get("start"), now) if run else "never",
        run.get("result", "-") if run else "-",
        format_duration(duration(run)) if duration(run) is not None else "-",
        humanize.naturalsize(run.get("bytes", 0), binary=True) if run else "-",
        ago(f.last_success, now) if f.last_success else "never",
        lag_text(f),
        next_run_text(f, now),
        running_text(f),
    )


def detail_lines(f: JobFacts, now: datetime) -> list[str]:
    name, job = f.job.name, f.job
    out = [f"{name}: {dataset_text(d, now)}" for d in f.datasets]
    for snap in (f.last_run or {}).get("held", []):
        out.append(
            f"{name}: {snap} is held (zfs hold {job.hold_tag}) on both sides as the next incremental's base; "
            f"'zfs destroy' refuses it (dataset is busy / it's being held) until a newer common snapshot exists "
            f"(or release it: zfs release {job.hold_tag} SNAPSHOT)"
        )
    for error in (f.last_run or {}).get("errors", []):
        out.append(f"{name}: error: {error}")
    out += [f"{name}: {line}" for line in notice.undelivered(f.last_run or {})]
    out += [f"{name}: {problem}" for problem in f.problems]
    return out


def dataset_text(d: DatasetFacts, now: datetime) -> str:
    if not d.destination_read:
        lag = "lag unknown"
    else:
        lag = "no snapshot on the destination" if d.lag is None else f"lag {format_duration(d.lag)}"
    src = (
        _newest_text(d.source_newest, d.source_read, now) if d.source is not None else "gone from the source"
    )
    dst = _newest_text(d.destination_newest, d.destination_read, now)
    return f"{d.destination}: {lag}; newest on source {src}, on destination {dst}"


def _newest_text(n: Newest | None, read: bool, now: datetime) -> str:
    if not read:
        return "unknown"
    if n is None:
        return "none"
    return f"@{n.snapshot} ({ago(_iso(n.created), now)})"


def lag_text(f: JobFacts) -> str:
    if not f.datasets or any(d.lag is None for d in f.datasets):
        return "?" if f.problems else "never"
    return format_duration(f.worst_lag)


def next_run_text(f: JobFacts, now: datetime) -> str:
    s = f.schedule
    if s.next_run is not None:
        when = in_words(s.next_run, now)
        return when if s.in_crontab else f"{when} (crontab unreadable)"
    if s.expression and s.in_crontab is False:
        return "not in crontab"
    return "not scheduled"


def running_text(f: JobFacts) -> str:
    if f.running is None:
        return "no"
    since = f" since {f.running.since}" if f.running.since else ""
    return f"pid {f.running.pid}{since}"


def as_json(all_facts: list[JobFacts], now: datetime) -> dict:
    """The facts for scripts: the shape is documented and only ever grows."""
    return {
        "version": JSON_VERSION,
        "now": now.isoformat(timespec="seconds"),
        "jobs": [job_json(f) for f in all_facts],
    }


def job_json(f: JobFacts) -> dict:
    job, run = f.job, f.last_run
    return {
        "job": job.name,
        "source": {"host": job.source.endpoint.label, "dataset": job.source.dataset},
        "destination": {"host": job.destination.endpoint.label, "dataset": job.destination.dataset},
        "last_run": None
        if not run
        else {
            "start": run.get("start"),
            "end": run.get("end") or None,
            "result": run.get("result"),
            "exit_code": run.get("exit_code"),
            "duration_seconds": duration(run),
            "bytes": run.get("bytes", 0),
            "held": run.get("held", []),
            "errors": run.get("errors", []),
        },
        "last_success": f.last_success,
        "running": None if f.running is None else {"pid": f.running.pid, "since": f.running.since or None},
        "schedule": {
            "expression": f.schedule.expression,
            "in_crontab": f.schedule.in_crontab,
            "next_run": f.schedule.next_run.isoformat(timespec="seconds") if f.schedule.next_run else None,
        },
        "lag_seconds": f.worst_lag,
        "datasets": [
            {
                "source": d.source,
                "destination": d.destination,
                "source_newest": _newest_json(d.source_newest),
                "destination_newest": _newest_json(d.destination_newest),
                "lag_seconds": d.lag,
            }
            for d in f.datasets
        ],
        "problems": f.problems,
    }


def _newest_json(n: Newest | None) -> dict | None:
    return None if n is None else {"snapshot": n.snapshot, "created": _iso(n.created)}


def duration(run: dict | None) -> int | None:
    """Seconds from a run record's start to its end."""
    try:
        start, end = datetime.fromisoformat(run["start"]), datetime.fromisoformat(run["end"])
    except (TypeError, KeyError, ValueError):
        return None
    return max(0, int((end - start).total_seconds()))


def ago(iso: str | None, now: datetime) -> str:
    """'3 hours ago' for an ISO 8601 time (with its offset)."""
    try:
        return in_words(datetime.fromisoformat(iso), now)
    except (TypeError, ValueError):
        return iso or "?"


def in_words(moment: datetime, now: datetime) -> str:
    """'in 5 hours', '3 hours ago', 'just now'."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    delta = (moment - now).total_seconds()
    if abs(delta) < 1:
        return "just now"
    words = humanize.naturaldelta(abs(delta))
    return f"in {words}" if delta > 0 else f"{words} ago"


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone().isoformat(timespec="seconds")
