"""outlook: a simulated year of runs, pruned after every run as the runner prunes.

The figures are what zfs-sync-job(5) and the README promise for the default
counts (source 24 hourly, 7 daily, 4 weekly; destination 30 daily, 8 weekly,
12 monthly), on 31 Dec 2026 23:00 UTC (a Thursday).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zfs_sync_wizard.jobs.schema import schema_defaults
from zfs_sync_wizard.planning import outlook, retention
from zfs_sync_wizard.planning.inventory import Snapshot

END = datetime(2026, 12, 31, 23, 0, tzinfo=timezone.utc)
RULES = schema_defaults()["retention"]


def irregular() -> list[datetime]:
    """Nightly at 02:00, but the machine was off for three weeks in August and every 5th night."""
    nights = outlook.run_times("0 2 * * *", END)
    return [t for n, t in enumerate(nights) if n % 5 and not (t.month == 8 and 3 <= t.day <= 24)]


@pytest.mark.parametrize(
    "times, side, count, oldest",
    [
        # hourly: the last 24 hours, then one a day for the week, then one a week
        (outlook.run_times("0 * * * *", END), "source", 32, "2026-12-13"),
        (outlook.run_times("0 * * * *", END), "destination", 44, "2026-01-31"),
        # nightly: the hourly count keeps just last night's (no 24 nights reaching back 24 days)
        (outlook.run_times("0 2 * * *", END), "source", 9, "2026-12-13"),
        (outlook.run_times("0 2 * * *", END), "destination", 44, "2026-01-31"),
        # weekly on Sunday: four weeks; on the destination eight weeks then month ends
        (outlook.run_times("0 3 * * 0", END), "source", 4, "2026-12-06"),
        (outlook.run_times("0 3 * * 0", END), "destination", 18, "2026-01-25"),
        # gaps are not made up for by older snapshots: fewer survive, none older than the windows
        (irregular(), "source", 8, "2026-12-13"),
        (irregular(), "destination", 38, "2026-01-30"),
    ],
    ids=[
        "hourly-src",
        "hourly-dst",
        "nightly-src",
        "nightly-dst",
        "weekly-src",
        "weekly-dst",
        "gaps-src",
        "gaps-dst",
    ],
)
def test_a_year_of_runs_leaves(times, side, count, oldest):
    left = outlook.left_after(times, RULES[side], keep=1)
    assert len(left) == count
    assert left[-1].date().isoformat() == oldest
    assert left[0] == max(times)  # the newest (the common one) always survives


def test_pruning_every_run_leaves_what_one_prune_at_the_end_leaves():
    times = irregular()
    snaps = [Snapshot(str(n), n, n, int(t.timestamp())) for n, t in enumerate(times, start=1)]
    once = retention.older(snaps, snaps[-1], snaps[-1].guid, 1, RULES["destination"], times[-1])
    survivors = [datetime.fromtimestamp(s.creation, timezone.utc) for s in snaps if s.name not in once]
    assert sorted(survivors, reverse=True) == outlook.left_after(times, RULES["destination"], keep=1)


def test_every_count_zero_leaves_the_newest_only():
    zero = dict.fromkeys(retention.PERIODS, 0)
    assert outlook.left_after(outlook.run_times("0 2 * * *", END), zero, keep=0) == [
        datetime(2026, 12, 31, 2, 0, tzinfo=timezone.utc)
    ]


def test_keep_adds_the_newest_n_on_top_of_the_windows():
    nights = outlook.run_times("0 2 * * *", END)
    assert len(outlook.left_after(nights, {"daily": 3}, keep=5)) == 5
    assert len(outlook.left_after(nights, {"daily": 3}, keep=2)) == 3


def test_yearly_keeps_the_newest_of_each_year():
    nights = outlook.run_times("0 2 * * *", END, days=3 * 365)
    left = outlook.left_after(nights, {"yearly": 3}, keep=0)
    assert [d.year for d in left] == [2026, 2025, 2024]
    assert left[1] == datetime(2025, 12, 31, 2, 0, tzinfo=timezone.utc)


def test_summary_says_how_many_and_how_far_back():
    assert outlook.summary("0 2 * * *", RULES, 1, END) == [
        "source: 9 snapshots, the oldest 18 days old",
        "destination: 44 snapshots, the oldest 334 days old",
    ]


def test_run_times_follow_cron():
    times = outlook.run_times("0 2 * * *", END, days=3)
    assert times == [END.replace(hour=2) - timedelta(days=d) for d in (2, 1, 0)]
