"""exclusion: which children of a recursive job are left out, and why."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import exclusion
from zfs_sync_wizard.planning.inventory import Dataset


def listing(*names: str, on: tuple[str, ...] = ()) -> dict[str, Dataset]:
    return {n: Dataset(n, props={exclusion.PROPERTY: "on" if n in on else "-"}) for n in names}


TREE = (
    "tank/media",
    "tank/media/cache",
    "tank/media/photos",
    "tank/media/photos/cache",
    "tank/media/photos/raw",
)


@pytest.mark.parametrize(
    "patterns, on, expected",
    [
        ((), (), {}),
        (
            ("cache",),
            (),
            {"tank/media/cache": "source.exclude 'cache'"},
        ),
        (
            ("*cache",),
            (),
            {
                "tank/media/cache": "source.exclude '*cache'",
                "tank/media/photos/cache": "source.exclude '*cache'",
            },
        ),
        (
            ("photos",),
            (),
            {
                "tank/media/photos": "source.exclude 'photos'",
                "tank/media/photos/cache": "below tank/media/photos",
                "tank/media/photos/raw": "below tank/media/photos",
            },
        ),
        (
            (),
            ("tank/media/photos/raw",),
            {"tank/media/photos/raw": "zfs-sync:exclude=on"},
        ),
        # inherited by the children, as ZFS lists it: the parent's reason names it
        (
            (),
            ("tank/media/photos", "tank/media/photos/cache", "tank/media/photos/raw"),
            {
                "tank/media/photos": "zfs-sync:exclude=on",
                "tank/media/photos/cache": "below tank/media/photos",
                "tank/media/photos/raw": "below tank/media/photos",
            },
        ),
        # the job's own dataset is never left out
        (
            ("*",),
            ("tank/media",),
            {n: "source.exclude '*'" for n in TREE[1:3]}
            | {
                "tank/media/photos/cache": "below tank/media/photos",
                "tank/media/photos/raw": "below tank/media/photos",
            },
        ),
        (("media",), (), {}),  # matched below the job's dataset, never against its own name
    ],
)
def test_excluded(patterns, on, expected):
    assert exclusion.excluded(listing(*TREE, on=on), "tank/media", patterns) == expected


def test_a_dataset_whose_name_only_starts_like_a_left_out_one_stays():
    inv = listing("tank/media", "tank/media/photos", "tank/media/photos2")
    assert exclusion.excluded(inv, "tank/media", ["photos"]) == {
        "tank/media/photos": "source.exclude 'photos'"
    }


def test_without():
    inv = listing(*TREE)
    left = exclusion.without(inv, exclusion.excluded(inv, "tank/media", ["photos"]))
    assert sorted(left) == ["tank/media", "tank/media/cache"]
