"""What stays after a year of runs, by the retention counts (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zfs_sync_wizard.planning import forecast

START = datetime(2026, 1, 1, 2, 0, tzinfo=timezone.utc)


def every(step: timedelta, count: int) -> list[int]:
    return [int((START + i * step).timestamp()) for i in range(count)]


NONE = {"hourly": 0, "daily": 0, "weekly": 0, "monthly": 0}
NIGHTLY = every(timedelta(days=1), 365)
HOURLY = every(timedelta(hours=1), 365 * 24)


@pytest.mark.parametrize(
    "times, keep, counts, kept",
    [
        ([], 1, NONE, 0),
        (NIGHTLY, 1, NONE, 1),  # only the newest common one
        (NIGHTLY, 0, NONE, 1),  # which stays even with keep 0
        (NIGHTLY, 5, NONE, 5),
        (NIGHTLY, 1, {**NONE, "daily": 7}, 7),
        # nightly runs: each of the "last 24 hours that have one" is a different day
        (NIGHTLY, 1, {**NONE, "hourly": 24}, 24),
        (NIGHTLY, 1, {**NONE, "daily": 7, "weekly": 4, "monthly": 6}, 7 + 2 + 5),  # overlaps counted once
        # yesterday 23:00 is one of the last 24 hours, and a week's last one may be one of the 7 days
        (HOURLY, 1, {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0}, 31),
        (HOURLY, 1, {"hourly": 0, "daily": 30, "weekly": 8, "monthly": 12}, 43),
    ],
)
def test_kept_after(times, keep, counts, kept):
    assert forecast.kept_after(times, keep, counts) == kept
