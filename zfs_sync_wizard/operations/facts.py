"""What is known about a job now: its last run and last success (from the
run records), whether a run holds its lock, when cron runs it next, and
what each side holds (one listing per side, read from the machines
themselves, so the lag is the destination's own).  `--status`, the wizard's
`list` and the metrics file all show these facts; status.py renders them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import ZswError
from ..jobs.job import Job
from ..planning import inventory, lag
from ..planning.inventory import Inventory
from ..running import listing, records
from ..running.execute import Executor
from ..running.lock import Holder, holder, job_lock
from ..schedule import cron
from ..schedule.cron import Entry


@dataclass(frozen=True)
class Newest:
    snapshot: str
    created: int  # epoch seconds


@dataclass
class DatasetFacts:
    destination: str
    source: str | None  # None: on the destination only (gone from the source)
    source_newest: Newest | None = None
    destination_newest: Newest | None = None
    lag: int | None = None  # seconds; None: no snapshot on the destination (or unreadable)
    source_read: bool = True  # False: that side's listing failed (see JobFacts.problems)
    destination_read: bool = True


@dataclass
class Schedule:
    expression: str | None  # the crontab line's, else the job file's
    in_crontab: bool | None  # None: the crontab could not be read
    next_run: datetime | None  # only when cron will run it


@dataclass
class JobFacts:
    job: Job
    last_run: dict | None
    last_success: str | None  # when the last successful run ended (ISO 8601)
    running: Holder | None
    schedule: Schedule
    datasets: list[DatasetFacts] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be read now

    @property
    def worst_lag(self) -> int | None:
        known = [d.lag for d in self.datasets if d.lag is not None]
        return max(known) if known and len(known) == len(self.datasets) else None


SUCCESS = ("ok", "nothing-to-do")


def last_success(state_dir, name: str) -> str | None:
    """The end of the job's last successful run, from its history of run records."""
    found = None
    try:
        with open(records.runs_dir(state_dir) / f"{name}.jsonl") as history:
            for line in history:
                try:
                    run = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if isinstance(run, dict) and run.get("result") in SUCCESS:
                    found = run.get("end") or run.get("start")
    except OSError:
        return None
    return found


def read_crontab(ex: Executor) -> dict[str, Entry] | None:
    """This tool's crontab entries, None when `crontab -l` cannot be read (no cron installed...)."""
    try:
        return cron.installed(ex)
    except (ZswError, OSError):
        return None


def schedule_of(job: Job, entries: dict[str, Entry] | None, now: datetime) -> Schedule:
    entry = entries.get(job.name) if entries is not None else None
    if entry is not None:
        return Schedule(entry.schedule, True, cron_next(entry.schedule, now))
    # without a crontab line nothing runs it; an unreadable crontab: the job file's guess
    guess = cron_next(job.schedule, now) if job.schedule and entries is None else None
    return Schedule(job.schedule, None if entries is None else False, guess)


def cron_next(expression: str, now: datetime) -> datetime | None:
    from croniter import croniter

    try:
        return croniter(expression, now).get_next(datetime)
    except (ValueError, KeyError):
        return None


def collect(
    job: Job, state_dir, now: datetime, ex: Executor, entries: dict[str, Entry] | None, sides: bool = True
) -> JobFacts:
    """Every fact of `--status` about one job (`sides=False`: skip the listings)."""
    facts = JobFacts(
        job=job,
        last_run=records.last(state_dir, job.name),
        last_success=last_success(state_dir, job.name),
        running=holder(job_lock(state_dir, job).path),
        schedule=schedule_of(job, entries, now),
    )
    if sides:
        src, dst = _listing(job, ex, "source", facts), _listing(job, ex, "destination", facts)
        facts.datasets = datasets(job, src, dst, int(now.timestamp()))
    return facts


def _listing(job: Job, ex: Executor, which: str, facts: JobFacts) -> Inventory | None:
    side = job.source if which == "source" else job.destination
    try:
        return listing.list_dataset(ex, side.endpoint, side.dataset, job.recursive)
    except ZswError as exc:
        facts.problems.append(f"cannot list the {which} {side.endpoint.label}:{side.dataset}: {exc}")
        return None


def datasets(job: Job, src: Inventory | None, dst: Inventory | None, now: int) -> list[DatasetFacts]:
    """One row per destination dataset the job has or will have (pure)."""
    src_root, dst_root = job.source.dataset, job.destination.dataset
    rows: dict[str, DatasetFacts] = {}
    for name in inventory.children(src or {}, src_root):
        target = inventory.relocate(name, src_root, dst_root)
        rows[target] = DatasetFacts(target, name, source_newest=_newest(src, name))
    for name in inventory.children(dst or {}, dst_root):
        rows.setdefault(name, DatasetFacts(name, None))
    if not rows:
        rows[dst_root] = DatasetFacts(dst_root, src_root)
    lags = lag.lags(dst or {}, now)
    for row in rows.values():
        row.source_read, row.destination_read = src is not None, dst is not None
        row.destination_newest = _newest(dst or {}, row.destination)
        row.lag = lags.get(row.destination)
    return [rows[name] for name in sorted(rows, key=lambda n: (n.count("/"), n))]


def _newest(inv: Inventory | None, name: str) -> Newest | None:
    ds = (inv or {}).get(name)
    if ds is None or not ds.snapshots:
        return None
    snap = max(ds.snapshots, key=lambda s: (s.creation, s.createtxg))
    return Newest(snap.name, snap.creation)
