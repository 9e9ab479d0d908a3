"""destroys: which prunes one `zfs destroy -r ROOT@NAME` does exactly (planning/destroys.py).

A side is written "dataset=snap,snap;..." relative to the root ("" for the root itself);
a snapshot written "snap!" is held by someone (userrefs 1).
"""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import destroys
from zfs_sync_wizard.planning.inventory import Dataset, Snapshot

ROOT = "tank/m"


def side(text: str) -> dict:
    out = {}
    for item in filter(None, text.split(";")):
        name, _, snaps = item.partition("=")
        listed = []
        for i, snap in enumerate(filter(None, snaps.split(","))):
            held = snap.endswith("!")
            listed.append(Snapshot(snap.rstrip("!"), i + 1, i + 1, props={"userrefs": "1" if held else "0"}))
        out[ROOT + name] = Dataset(ROOT + name, snapshots=listed)
    return out


def doomed(text: str) -> dict:
    """ "dataset=snap,snap;..." of what retention lets go."""
    return {
        ROOT + name: snaps.split(",") for name, _, snaps in (i.partition("=") for i in text.split(";") if i)
    }


CASES = [
    # id, the side's listing, what retention lets go, recursive names, left dataset by dataset
    ("the whole tree lets a name go", "=a,b;/x=a,b;/x/y=a,b", "=a;/x=a;/x/y=a", ["a"], {}),
    ("two names", "=a,b,c;/x=a,b,c", "=a,b;/x=a,b", ["a", "b"], {}),
    (
        "a child keeps it (its own retention, or a conflict): dataset by dataset",
        "=a,b;/x=a,b",
        "=a",
        [],
        {"tank/m": ["a"]},
    ),
    (
        "a child left out of the job has it: -r would take it too",
        "=a;/x=a;/out=a",
        "=a;/x=a",
        [],
        {"tank/m": ["a"], "tank/m/x": ["a"]},
    ),
    ("a child that never had it does not matter", "=a;/x=a;/new=", "=a;/x=a", ["a"], {}),
    ("someone holds it on a child", "=a;/x=a!", "=a;/x=a", [], {"tank/m": ["a"], "tank/m/x": ["a"]}),
    ("the root does not have it", "=b;/x=a;/y=a", "/x=a;/y=a", [], {"tank/m/x": ["a"], "tank/m/y": ["a"]}),
    ("one dataset alone goes as before", "=a", "=a", [], {"tank/m": ["a"]}),
    (
        "mixed: one name recursive, another per dataset",
        "=a,b;/x=a,b",
        "=a,b;/x=a",
        ["a"],
        {"tank/m": ["b"]},
    ),
]


@pytest.mark.parametrize(
    ("listing", "gone", "whole", "rest"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_recursive(listing, gone, whole, rest):
    assert destroys.recursive(doomed(gone), side(listing), ROOT) == (whole, rest)
