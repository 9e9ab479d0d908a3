"""What a year of runs leaves on each side (pure): the job's schedule and
retention counts played forward, pruning after every run exactly as
retention.py prunes, so the wizard, zfs-sync-job(5) and the tests show the
same figures the runner will produce."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from . import retention
from .inventory import Snapshot


def run_times(schedule: str, end: datetime, days: int = 365) -> list[datetime]:
    """Every time cron starts `schedule` in the `days` before `end` (UTC)."""
    from croniter import croniter

    start = end - timedelta(days=days)
    times, it = [], croniter(schedule, start)
    while True:
        when = it.get_next(datetime)
        if when > end:
            return times
        times.append(when)


def left_after(times: Sequence[datetime], counts: Mapping[str, int], keep: int = 1) -> list[datetime]:
    """When the snapshots that survive were taken, newest first, after one snapshot and
    one prune at each of `times` (the newest snapshot stands for the common one)."""
    snaps: list[Snapshot] = []
    for n, when in enumerate(sorted(times), start=1):
        stamp = int(when.replace(tzinfo=when.tzinfo or timezone.utc).timestamp())
        snaps.append(Snapshot(str(n), n, n, stamp))
        gone = set(retention.older(snaps, snaps[-1], snaps[-1].guid, keep, counts, _utc(when)))
        snaps = [s for s in snaps if s.name not in gone]
    return [datetime.fromtimestamp(s.creation, timezone.utc) for s in reversed(snaps)]


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def summary(schedule: str, rules: Mapping[str, Mapping[str, int]], keep: int, end: datetime) -> list[str]:
    """One line per side: how many snapshots a year of runs leaves and how far back they reach."""
    times = run_times(schedule, end)
    lines = []
    for side in ("source", "destination"):
        left = left_after(times, rules.get(side, {}), keep)
        reach = (end - left[-1]).days if left else 0
        lines.append(f"{side}: {len(left)} snapshots, the oldest {reach} days old")
    return lines
