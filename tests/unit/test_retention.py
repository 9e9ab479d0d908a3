"""retention: replication snapshot names and which of them to prune.

Sides are written "name:guid,..." oldest first (createtxg follows the order).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zfs_sync_wizard.planning import naming, retention
from zfs_sync_wizard.planning.inventory import Snapshot

STEM = "zsw_job_"


def snaps(text: str) -> list[Snapshot]:
    out = []
    for txg, item in enumerate(filter(None, text.split(",")), start=1):
        name, guid = item.split(":")
        out.append(Snapshot(name, int(guid), txg * 10))
    return out


def j(n: int) -> str:
    """The job's n-th replication snapshot name."""
    return f"zsw_job_2024010{n}T000000Z"


def side(*items: tuple[str, int]) -> str:
    return ",".join(f"{name}:{guid}" for name, guid in items)


# -- snapshot_name


@pytest.mark.parametrize(
    "now, expected",
    [
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "zsw_job_20240102T030405Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 999999, tzinfo=timezone.utc), "zsw_job_20240102T030405Z"),
        # local times are converted to UTC, across the date line too
        (datetime(2024, 1, 2, 1, 0, 0, tzinfo=timezone(timedelta(hours=2))), "zsw_job_20240101T230000Z"),
        (datetime(2023, 12, 31, 20, 0, 0, tzinfo=timezone(timedelta(hours=-5))), "zsw_job_20240101T010000Z"),
    ],
)
def test_snapshot_name_is_utc(now, expected):
    assert naming.snapshot_name(STEM, now) == expected


NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
BASE = "zsw_job_20240102T030405Z"


@pytest.mark.parametrize(
    "taken, expected",
    [
        (set(), BASE),
        ({"other"}, BASE),
        ({BASE}, BASE + ".2"),
        ({BASE, BASE + ".2"}, BASE + ".3"),
        ({BASE, BASE + ".3"}, BASE + ".2"),
        ({BASE + ".2"}, BASE),
    ],
)
def test_snapshot_name_is_unique(taken, expected):
    assert naming.snapshot_name(STEM, NOW, taken) == expected


def test_snapshot_name_starts_with_the_stem():
    assert naming.snapshot_name("nightly_home_", NOW, {"nightly_home_20240102T030405Z"}).startswith(
        "nightly_home_"
    )


# -- prunable

CASES = [
    # id, source, destination, keep, (source to destroy, destination to destroy)
    ("nothing at all", "", "", 1, ([], [])),
    ("no common: nothing pruned", side((j(1), 1), (j(2), 2)), side(("x", 9)), 0, ([], [])),
    ("no common, empty destination", side((j(1), 1), (j(2), 2)), "", 0, ([], [])),
    ("only common: kept", side((j(1), 1)), side((j(1), 1)), 0, ([], [])),
    (
        "older ones go on both sides",
        side((j(1), 1), (j(2), 2), (j(3), 3)),
        side((j(1), 1), (j(2), 2), (j(3), 3)),
        1,
        ([j(1), j(2)], [j(1), j(2)]),
    ),
    (
        "keep 0 still keeps the common",
        side((j(1), 1), (j(2), 2)),
        side((j(1), 1), (j(2), 2)),
        0,
        ([j(1)], [j(1)]),
    ),
    (
        "keep honoured",
        side((j(1), 1), (j(2), 2), (j(3), 3), (j(4), 4)),
        side((j(1), 1), (j(2), 2), (j(3), 3), (j(4), 4)),
        3,
        ([j(1)], [j(1)]),
    ),
    (
        "keep larger than the count",
        side((j(1), 1), (j(2), 2)),
        side((j(1), 1), (j(2), 2)),
        10,
        ([], []),
    ),
    (
        "newest common kept even when keep would drop it",
        side((j(1), 1), (j(2), 2), (j(3), 3)),
        side((j(1), 1), (j(2), 2)),
        1,
        ([j(1)], [j(1)]),
    ),
    (
        "snapshot newer than the common is not pruned",
        side((j(1), 1), (j(2), 2), (j(3), 3), (j(4), 4)),
        side((j(1), 1), (j(2), 2)),
        0,
        ([j(1)], [j(1)]),
    ),
    (
        "user and sanoid snapshots untouched",
        side(("manual", 10), (j(1), 1), ("autosnap_2024-01-01_daily", 11), (j(2), 2)),
        side(("manual", 10), (j(1), 1), ("autosnap_2024-01-01_daily", 11), (j(2), 2)),
        0,
        ([j(1)], [j(1)]),
    ),
    (
        "another job's snapshots untouched",
        side(("zsw_other_20240101T000000Z", 20), (j(1), 1), ("zsw_other_20240102T000000Z", 21), (j(2), 2)),
        side(("zsw_other_20240101T000000Z", 20), (j(1), 1), ("zsw_other_20240102T000000Z", 21), (j(2), 2)),
        0,
        ([j(1)], [j(1)]),
    ),
    (
        "a common user snapshot is not a base for pruning",
        side((j(1), 1), ("manual", 10), (j(2), 2)),
        side((j(1), 1), ("manual", 10)),
        0,
        ([], []),
    ),
    (
        "destination side computed on its own list",
        side((j(1), 1), (j(2), 2), (j(3), 3)),
        side((j(2), 2), (j(3), 3)),
        1,
        ([j(1), j(2)], [j(2)]),
    ),
    (
        "source already pruned, destination still has old ones",
        side((j(3), 3), (j(4), 4)),
        side((j(1), 1), (j(2), 2), (j(3), 3), (j(4), 4)),
        1,
        ([j(3)], [j(1), j(2), j(3)]),
    ),
    (
        "keep counts each side separately",
        side((j(1), 1), (j(2), 2), (j(3), 3), (j(4), 4)),
        side((j(1), 1), (j(3), 3)),
        2,
        ([j(1), j(2)], []),  # the destination's two newest are j1 and j3
    ),
    (
        "matched by guid: a renamed copy is the common",
        side((j(1), 1), (j(2), 2)),
        side((j(1), 1), (j(9), 2)),
        0,
        ([j(1)], [j(1)]),
    ),
    (
        "matched by guid: same name with another guid is not common",
        side((j(1), 1), (j(2), 2)),
        side((j(1), 1), (j(2), 99)),
        0,
        ([], []),  # j1 is the common, so nothing is older than it
    ),
]


@pytest.mark.parametrize(
    "source, destination, keep, expected",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_prunable(source, destination, keep, expected):
    assert retention.prunable(STEM, snaps(source), snaps(destination), keep) == tuple(expected)


STUCK_CASES = [
    # id, source, destination, keep, (source to destroy, destination to destroy)
    (
        "in a conflict: unsent ones beyond keep go, on the source only",
        side((j(1), 1), (j(2), 2), (j(3), 3), (j(4), 4)),
        side((j(1), 1), ("made-on-backup", 9)),
        1,
        ([j(2), j(3)], []),
    ),
    (
        "in a conflict, keep 0 still keeps the newest",
        side((j(1), 1), (j(2), 2), (j(3), 3)),
        side((j(1), 1)),
        0,
        ([j(2)], []),
    ),
    (
        "in a conflict, keep 2",
        side((j(1), 1), (j(2), 2), (j(3), 3), (j(4), 4)),
        side((j(1), 1)),
        2,
        ([j(2)], []),
    ),
    ("no common at all", side((j(1), 1), (j(2), 2), (j(3), 3)), side(("x", 9)), 1, ([j(1), j(2)], [])),
    (
        "the common and older ones as usual",
        side((j(1), 1), (j(2), 2), (j(3), 3)),
        side((j(1), 1), (j(2), 2)),
        1,
        ([j(1)], [j(1)]),
    ),
]


@pytest.mark.parametrize(
    "source, destination, keep, expected",
    [case[1:] for case in STUCK_CASES],
    ids=[case[0] for case in STUCK_CASES],
)
def test_a_dataset_stuck_in_a_conflict_never_piles_up_snapshots(source, destination, keep, expected):
    assert retention.prunable(STEM, snaps(source), snaps(destination), keep, stuck=True) == tuple(expected)


def test_prunable_never_lists_the_newest_common():
    source = snaps(side(*((j(n), n) for n in range(1, 8))))
    destination = snaps(side(*((j(n), n) for n in (1, 3, 5))))
    for keep in range(0, 5):
        src, dst = retention.prunable(STEM, source, destination, keep)
        assert j(5) not in src and j(5) not in dst
        assert all(name.startswith(STEM) for name in src + dst)


def test_a_job_whose_name_extends_ours_is_left_alone():
    # two jobs replicate the same source: "job" (stem zsw_job_) and "job_offsite" (stem zsw_job_offsite_)
    other = [f"zsw_job_offsite_2024010{n}T000000Z" for n in (1, 2)]
    source = snaps(side((other[0], 20), (j(1), 1), (other[1], 21), (j(2), 2)))
    destination = snaps(side((j(1), 1), (j(2), 2)))
    src, dst = retention.prunable(STEM, source, destination, 0)
    assert src == [j(1)]  # zsw_job_offsite_... (the other job's incremental base) must stay
    assert dst == [j(1)]


def _at(name: str, guid: int, iso: str) -> Snapshot:
    stamp = int(datetime.fromisoformat(iso).replace(tzinfo=timezone.utc).timestamp())
    return Snapshot(name, guid, guid, stamp)


HOURLY_RUNS = [
    _at("zsw_j_20261101T100000Z", 1, "2026-11-01T10:00:00"),
    _at("zsw_j_20261101T103000Z", 2, "2026-11-01T10:30:00"),
    _at("zsw_j_20261101T110000Z", 3, "2026-11-01T11:00:00"),
    _at("zsw_j_20261102T090000Z", 4, "2026-11-02T09:00:00"),
    _at("zsw_j_20261109T090000Z", 5, "2026-11-09T09:00:00"),
    _at("zsw_j_20261201T090000Z", 6, "2026-12-01T09:00:00"),
]


NOW_DEC = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)  # a Tuesday; its ISO week began Mon 30 Nov


@pytest.mark.parametrize(
    "counts, kept",
    [
        ({}, set()),
        ({"hourly": 2}, set()),  # 11:00 and 12:00 on 1 Dec: no snapshot in either
        ({"hourly": 4}, {6}),  # 09:00 to 12:00
        ({"daily": 3}, {6}),  # 29 Nov to 1 Dec: a gap is not made up for by older days
        ({"daily": 40}, {6, 5, 4, 3}),  # the newest of each day: 10:30 loses to 11:00
        ({"weekly": 2}, {6}),
        ({"weekly": 5}, {6, 5, 4}),  # weeks from Mon 2 Nov; Sun 1 Nov is the week before
        ({"weekly": 6}, {6, 5, 4, 3}),
        ({"monthly": 2}, {6, 5}),  # December's, and the newest of November
        ({"yearly": 1}, {6}),
        ({"hourly": 1, "monthly": 2}, {6, 5}),
        ({"monthly": 1, "daily": 40}, {6, 5, 4, 3}),
        ({"daily": 0, "weekly": 0}, set()),
    ],
)
def test_kept_by_period_keeps_the_newest_of_each_calendar_window_back_from_now(counts, kept):
    assert {s.guid for s in retention.kept_by_period(HOURLY_RUNS, counts, NOW_DEC)} == kept


def test_a_snapshot_from_the_future_is_kept():
    early = datetime(2026, 11, 5, tzinfo=timezone.utc)
    assert {s.guid for s in retention.kept_by_period(HOURLY_RUNS, {}, early)} == {5, 6}


def test_destination_keeps_its_history_while_the_source_keeps_only_the_base():
    rules = {"source": {}, "destination": {"daily": 40}}
    src, dst = retention.prunable("zsw_j_", HOURLY_RUNS, HOURLY_RUNS, keep=1, retention=rules, now=NOW_DEC)
    assert src == [s.name for s in HOURLY_RUNS[:-1]]
    assert dst == ["zsw_j_20261101T100000Z", "zsw_j_20261101T103000Z"]


def held_snap(name: str, guid: int, refs: str) -> Snapshot:
    return Snapshot(name, guid, guid * 10, 0, {"userrefs": refs})


@pytest.mark.parametrize("refs, pruned", [("0", True), ("1", False), ("2", False), ("-", True)])
def test_a_snapshot_held_by_anyone_is_never_pruned(refs, pruned):
    both = [held_snap(j(1), 1, refs), held_snap(j(2), 2, "0"), held_snap(j(3), 3, "0")]
    src, dst = retention.prunable(STEM, both, both, keep=0)
    assert (j(1) in src, j(1) in dst) == (pruned, pruned)
    assert j(2) in src and j(3) not in src


def test_a_held_snapshot_is_not_pruned_in_a_conflict_either():
    source = [held_snap(j(1), 1, "1"), held_snap(j(2), 2, "1"), held_snap(j(3), 3, "0")]
    assert retention.prunable(STEM, source, snaps(side(("x", 9))), keep=0, stuck=True) == ([], [])


def test_the_destination_may_prune_the_jobs_patterns_while_the_source_prunes_only_its_own():
    names = ["autosnap_2026-01-01_daily", "autosnap_2026-01-02_daily", "manual", "autosnap_2026-01-03_daily"]
    both = [Snapshot(n, i, i * 10) for i, n in enumerate(names, start=1)]
    src, dst = retention.prunable(
        STEM, both, both, keep=0, dst_owned=lambda n: n.startswith("autosnap_") or naming.is_ours(STEM, n)
    )
    assert src == []  # the source's sanoid snapshots are sanoid's
    assert dst == ["autosnap_2026-01-01_daily", "autosnap_2026-01-02_daily"]  # never "manual", never the base


def test_every_count_zero_never_prunes_the_common_even_when_it_is_not_the_jobs():
    names = ["autosnap_1_daily", "autosnap_2_daily", "autosnap_3_daily"]
    source = [Snapshot(n, i, i * 10) for i, n in enumerate(names, start=1)]
    destination = source[:2]
    zero = {side: dict.fromkeys(retention.PERIODS, 0) for side in ("source", "destination")}
    src, dst = retention.prunable(lambda n: True, source, destination, keep=0, retention=zero, now=NOW_DEC)
    assert "autosnap_2_daily" not in src + dst and "autosnap_3_daily" not in src
    assert src == ["autosnap_1_daily"] and dst == ["autosnap_1_daily"]
