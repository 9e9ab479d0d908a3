"""ordering: which transfer waits for which when datasets go at once (planning/ordering.py).

A tree is written "destination=plan ..." where a plan is `full` (the first
send is full), `inc` (incremental), `full+inc`, `up` (up to date), `conflict`
or `none` (a transfer with no sends).
"""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import ordering
from zfs_sync_wizard.planning import plan as planning

PLANS = {
    "full": planning.Transfer((planning.Send("a"),)),
    "inc": planning.Transfer((planning.Send("b", base="a"),)),
    "full+inc": planning.Transfer((planning.Send("a"), planning.Send("c", base="a"))),
    "up": planning.UpToDate("a"),
    "conflict": planning.Diverged("diverged", ("a",), ("x",)),
    "none": planning.Transfer(()),
}


def pairs(text: str) -> list[planning.Pair]:
    out = []
    for item in text.split():
        destination, _, kind = item.partition("=")
        out.append(planning.Pair("tank/" + destination.partition("/")[2], destination, PLANS[kind]))
    return out


CASES = [
    # id, tree (parents first, as plan_datasets lists them), {child: parent it waits for}
    ("one dataset", "b/m=full", {}),
    (
        "a first run: every child waits for its parent",
        "b/m=full b/m/x=full b/m/y=full+inc",
        {"b/m/x": "b/m", "b/m/y": "b/m"},
    ),
    (
        "grandchildren wait for their own parent, not the root",
        "b/m=full b/m/x=full b/m/x/1=full",
        {"b/m/x": "b/m", "b/m/x/1": "b/m/x"},
    ),
    ("incrementals wait for nothing", "b/m=inc b/m/x=inc b/m/y=inc", {}),
    ("a new child of an existing parent waits for nothing", "b/m=inc b/m/new=full", {}),
    ("nor under an up-to-date parent", "b/m=up b/m/new=full", {}),
    (
        "nor under a parent in conflict (its destination exists or never will)",
        "b/m=conflict b/m/new=full",
        {},
    ),
    (
        "a parent's full first send makes even its full+inc child wait",
        "b/m=full+inc b/m/x=full+inc",
        {"b/m/x": "b/m"},
    ),
    (
        "the nearest ancestor among the pairs (one left out between)",
        "b/m=full b/m/x/1=full",
        {"b/m/x/1": "b/m"},
    ),
    ("a root without an ancestor among the pairs", "b/m/x=full b/m/y=full", {}),
    ("a name that only starts like the parent's is no child", "b/m=full b/media=full", {}),
    ("a transfer with no sends waits for nothing", "b/m=full b/m/x=none", {}),
    ("a mixed tree", "b/m=inc b/m/x=full b/m/x/1=full b/m/y=inc b/m/y/1=full", {"b/m/x/1": "b/m/x"}),
]


@pytest.mark.parametrize("tree, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_waits_for(tree, expected):
    assert ordering.waits_for(pairs(tree)) == expected


@pytest.mark.parametrize(
    "kind, expected",
    [("full", True), ("full+inc", True), ("inc", False), ("up", False), ("conflict", False), ("none", False)],
)
def test_first_full(kind, expected):
    (pair,) = pairs(f"b/m={kind}")
    assert ordering.first_full(pair) is expected
