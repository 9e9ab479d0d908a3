"""unchanged: nothing new on the source, nothing done (planning/unchanged.py).

Sides in test_planning's notation, "name:guid:createtxg,..." oldest first;
a dataset's `written` after a "|" ("" where zfs lists none: zfs-fuse), a
destination's own `written` likewise (modified since its newest snapshot).
"""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import plan as planning
from zfs_sync_wizard.planning import unchanged
from zfs_sync_wizard.planning.inventory import Dataset, Snapshot
from zfs_sync_wizard.planning.plan import Policy

AB = "a:1:10,b:2:20"


def side(**datasets: str | None) -> dict:
    out = {}
    for key, spec in datasets.items():
        if spec is None:
            continue
        name = key.replace("__", "/")
        snaps_text, _, written = spec.partition("|")
        snaps = []
        for item in filter(None, snaps_text.split(",")):
            snap, guid, txg = item.split(":")
            snaps.append(Snapshot(snap, int(guid), int(txg)))
        out[name] = Dataset(name, snapshots=snaps, props={"written": written} if written else {})
    return out


def daily(name: str) -> bool:
    return name.startswith("daily")


CASES = [
    # id, source, destination, carried, nothing new (skip the snapshot)
    ("unchanged, destination has the newest", dict(tank__m=AB + "|0"), dict(backup__m=AB), None, True),
    (
        "destination's newest is the only one it has",
        dict(tank__m=AB + "|0"),
        dict(backup__m="b:2:5"),
        None,
        True,
    ),
    ("written since the newest snapshot", dict(tank__m=AB + "|4096"), dict(backup__m=AB), None, False),
    ("zfs-fuse: no written, cannot tell", dict(tank__m=AB), dict(backup__m=AB), None, False),
    ("written unknown (-)", dict(tank__m=AB + "|-"), dict(backup__m=AB), None, False),
    (
        "destination behind: the newest is not sent yet",
        dict(tank__m=AB + "|0"),
        dict(backup__m="a:1:5"),
        None,
        False,
    ),
    ("new destination: a first send", dict(tank__m=AB + "|0"), dict(), None, False),
    ("no source snapshot", dict(tank__m="|0"), dict(backup__m=""), None, False),
    (
        "diverged destination: its conflict is still said",
        dict(tank__m=AB + "|0"),
        dict(backup__m=AB + ",x:9:30"),
        None,
        False,
    ),
    (
        "modified destination: its conflict is still said",
        dict(tank__m=AB + "|0"),
        dict(backup__m=AB + "|512"),
        None,
        False,
    ),
    (
        "unmodified destination (OpenZFS written 0)",
        dict(tank__m=AB + "|0"),
        dict(backup__m=AB + "|0"),
        None,
        True,
    ),
    (
        "tree, all unchanged",
        dict(tank__m=AB + "|0", tank__m__c="a:3:10|0"),
        dict(backup__m=AB, backup__m__c="a:3:5"),
        None,
        True,
    ),
    (
        "tree, a child written to: the whole tree gets its snapshot",
        dict(tank__m=AB + "|0", tank__m__c="a:3:10|8192"),
        dict(backup__m=AB, backup__m__c="a:3:5"),
        None,
        False,
    ),
    ("tree, a new child", dict(tank__m=AB + "|0", tank__m__c="a:3:10|0"), dict(backup__m=AB), None, False),
    # snapshots.source: existing with take_at_end: a newer snapshot the job does not carry may hold changes
    (
        "existing: newest not carried",
        dict(tank__m="daily1:1:10,hourly2:2:20|0"),
        dict(backup__m="daily1:1:5"),
        daily,
        False,
    ),
    (
        "existing: newest carried and sent",
        dict(tank__m="hourly1:1:10,daily2:2:20|0"),
        dict(backup__m="daily2:2:5"),
        daily,
        True,
    ),
]


@pytest.mark.parametrize("src, dst, carried, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_nothing_new(src, dst, carried, expected):
    src_inv, dst_inv = side(**src), side(**dst)
    unplanned = planning.plan_datasets(src_inv, dst_inv, "tank/m", "backup/m", Policy(), carried=carried)
    assert unchanged.nothing_new(src_inv, dst_inv, unplanned) is expected


def test_a_job_with_no_datasets_is_not_skipped():
    assert not unchanged.nothing_new({}, {}, [])


@pytest.mark.parametrize(
    "when, written, fragment",
    [
        ("skip", True, "no snapshot taken and nothing sent when nothing was written"),
        ("skip", False, "zfs on nas cannot tell (no `written` property, e.g. zfs-fuse): a snapshot is taken"),
        ("take", True, "a snapshot is taken and sent every run (snapshots.when_unchanged: take)"),
        ("take", False, "snapshots.when_unchanged: take"),
    ],
)
def test_describe_for_check(when, written, fragment):
    assert fragment in unchanged.describe(when, written, "nas")
