"""tree: a whole tree in one `zfs send -R` where every dataset shares one plan (planning/tree.py).

Each side is written "dataset=snap:guid:txg,...;dataset=..." (datasets relative to the job's
root, "" for the root itself); the plans come from plan_datasets as the runner makes them.
"""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import plan as planning
from zfs_sync_wizard.planning import tree
from zfs_sync_wizard.planning.inventory import Dataset, Snapshot

NEWEST = planning.Policy(initial="newest")
ROLLBACK = planning.Policy(rollback=True)
DEFAULT = planning.Policy()


def side(root: str, text: str) -> dict:
    out = {}
    for item in filter(None, text.split(";")):
        name, _, snaps = item.partition("=")
        full = root + name
        out[full] = Dataset(
            full,
            snapshots=[
                Snapshot(n, int(g), int(t))
                for n, g, t in (s.split(":") for s in filter(None, snaps.split(",")))
            ],
        )
    return out


def decide(src: str, dst: str, policy=DEFAULT, planned=None, flags=None, modified=()) -> str:
    src_inv, dst_inv = side("tank/m", src), side("backup/m", dst)
    for name in modified:  # written to since its newest snapshot (OpenZFS `written`)
        dst_inv[name].props["written"] = "4096"
    pairs = planning.plan_datasets(src_inv, dst_inv, "tank/m", "backup/m", policy, planned=planned)
    given = {p.source: ("-c",) for p in pairs}
    given.update(flags or {})
    found = tree.plan_tree(pairs, src_inv, "tank/m", "backup/m", given)
    if isinstance(found, str):
        return found
    send = found.send
    base = f"-{'I' if send.intermediate else 'i'} @{send.base} " if send.base else ""
    return f"{found.datasets} datasets: -R {base}@{send.target}"


CASES = [
    # id, source, destination, keywords, what the tree gets (or why not)
    ("a first run: one full -R stream", "=a:1:1;/x=a:2:1;/x/y=a:3:1", "", {}, "3 datasets: -R @a"),
    (
        "a first run with older snapshots: full of the oldest then -I is one -R of the newest",
        "=a:1:1,b:4:2;/x=a:2:1,b:5:2",
        "",
        {},
        "2 datasets: -R @b",
    ),
    (
        "a first run of the planned snapshot",
        "=;/x=",
        "",
        {"planned": "zsw_1"},
        "2 datasets: -R @zsw_1",
    ),
    (
        "an incremental of the whole tree",
        "=a:1:1,b:4:2;/x=a:2:1,b:5:2",
        "=a:1:1;/x=a:2:1",
        {},
        "2 datasets: -R -I @a @b",
    ),
    (
        "a direct incremental",
        "=a:1:1,b:4:2,c:6:3;/x=a:2:1,b:5:2,c:7:3",
        "=a:1:1;/x=a:2:1",
        {"policy": planning.Policy(incremental="direct")},
        "2 datasets: -R -i @a @c",
    ),
    ("one dataset goes on its own", "=a:1:1", "", {}, "one dataset"),
    (
        "a child new on the source is planned otherwise",
        "=a:1:1,b:4:2;/new=b:5:2",
        "=a:1:1",
        {},
        "tank/m/new is planned otherwise than tank/m",
    ),
    (
        "a child up to date",
        "=a:1:1,b:4:2;/x=a:2:1",
        "=a:1:1;/x=a:2:1",
        {},
        "tank/m/x: UpToDate",
    ),
    (
        "a diverged child",
        "=a:1:1,b:4:2;/x=a:2:1,b:5:2",
        "=a:1:1;/x=a:2:1,z:9:5",
        {},
        "tank/m/x: Diverged",
    ),
    (
        "a rollback needs -F",
        "=a:1:1,b:4:2;/x=a:2:1,b:5:2",
        "=a:1:1;/x=a:2:1,z:9:5",
        {"policy": ROLLBACK},
        "tank/m/x: needs zfs receive -F",
    ),
    (
        "a modified destination needs -F",
        "=a:1:1,b:4:2;/x=a:2:1,b:5:2",
        "=a:1:1;/x=a:2:1",
        {"policy": ROLLBACK, "modified": ["backup/m/x"]},
        "tank/m/x: needs zfs receive -F",
    ),
    (
        "other flags on a child (encrypted, raw)",
        "=a:1:1;/x=a:2:1",
        "",
        {"flags": {"tank/m/x": ("-w",)}},
        "tank/m/x is sent with other flags than tank/m",
    ),
    (
        "initial newest would send fewer snapshots than -R carries",
        "=a:1:1,b:4:2;/x=a:2:1,b:5:2",
        "",
        {"policy": NEWEST},
        "tank/m has snapshots older than the first one planned (transfer.initial: newest)",
    ),
    (
        "initial newest with one snapshot is the same stream",
        "=b:4:2;/x=b:5:2",
        "",
        {"policy": NEWEST},
        "2 datasets: -R @b",
    ),
]


@pytest.mark.parametrize(("src", "dst", "kw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_plan_tree(src, dst, kw, expected):
    assert decide(src, dst, **kw) == expected


def test_a_tree_with_a_dataset_not_planned_this_run_goes_dataset_by_dataset():
    src_inv = side("tank/m", "=a:1:1;/x=a:2:1;/y=a:3:1")
    pairs = planning.plan_datasets(src_inv, {}, "tank/m", "backup/m", planning.Policy())
    waiting = [p for p in pairs if p.source != "tank/m/y"]  # its partial receive waits
    flags = {p.source: () for p in pairs}
    assert tree.plan_tree(waiting, src_inv, "tank/m", "backup/m", flags) == (
        "not every dataset of the tree is planned this run"
    )


LOCAL = "tank/m\tmountpoint\ntank/m/x\tquota\ntank/m/x\trecordsize\n"


@pytest.mark.parametrize(
    ("listing", "can_exclude", "options", "expected"),
    [
        ("", False, [], []),
        ("", True, ["-x", "sharenfs"], []),
        (LOCAL, True, [], ["-x", "mountpoint", "-x", "quota"]),
        (LOCAL, True, ["-o", "mountpoint=none"], ["-x", "quota"]),  # the job's own -o wins
        (LOCAL, True, ["-x", "quota"], ["-x", "mountpoint"]),
        (LOCAL, False, [], "tank/m sets mountpoint, and this zfs receive has no -x to keep it off"),
    ],
)
def test_placement_properties_are_kept_off_or_keep_the_tree_apart(listing, can_exclude, options, expected):
    assert tree.receive_excludes(tree.local_placement(listing), can_exclude, options) == expected


def test_a_tree_stream_is_never_received_with_F_nor_sends_more_than_planned():
    src_inv = side("tank/m", "=a:1:1,b:4:2;/x=a:2:1,b:5:2")
    pairs = planning.plan_datasets(
        src_inv, side("backup/m", "=a:1:1;/x=a:2:1"), "tank/m", "backup/m", planning.Policy()
    )
    found = tree.plan_tree(pairs, src_inv, "tank/m", "backup/m", {p.source: () for p in pairs})
    assert not found.send.force
    assert planning.arriving(src_inv["tank/m"].snapshots, [found.send]) == planning.arriving(
        src_inv["tank/m"].snapshots, pairs[0].plan.sends
    )
