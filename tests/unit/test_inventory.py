"""inventory: parsing `zfs get -Hp -o name,property,value guid,createtxg,creation`."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.commands import zfs
from zfs_sync_wizard.planning import inventory
from zfs_sync_wizard.planning.inventory import Dataset, Snapshot


def zfs_get(*rows: tuple[str, str, str]) -> str:
    return "".join("\t".join(row) + "\n" for row in rows)


# What `zfs get -Hp -r` prints for a small tree; snapshots deliberately out of
# createtxg order (zfs sorts by name), plus a bookmark and an empty line.
REALISTIC = (
    zfs_get(
        ("tank/data", "guid", "11111111111111111111"),
        ("tank/data", "createtxg", "5"),
        ("tank/data", "creation", "1700000000"),
        ("tank/data@zsw_job_20240102T000000Z", "guid", "202"),
        ("tank/data@zsw_job_20240102T000000Z", "createtxg", "300"),
        ("tank/data@zsw_job_20240102T000000Z", "creation", "1704153600"),
        ("tank/data@autosnap_daily", "guid", "201"),
        ("tank/data@autosnap_daily", "createtxg", "250"),
        ("tank/data@autosnap_daily", "creation", "1704100000"),
        ("tank/data@zsw_job_20240101T000000Z", "guid", "200"),
        ("tank/data@zsw_job_20240101T000000Z", "createtxg", "100"),
        ("tank/data@zsw_job_20240101T000000Z", "creation", "1704067200"),
        ("tank/data#zsw_bm", "guid", "200"),
        ("tank/data#zsw_bm", "createtxg", "100"),
        ("tank/data/home", "guid", "12"),
        ("tank/data/home", "createtxg", "7"),
        ("tank/data/home", "creation", "1700000100"),
        ("tank/data/home@zsw_job_20240101T000000Z", "guid", "300"),
        ("tank/data/home@zsw_job_20240101T000000Z", "createtxg", "100"),
        ("tank/data/home@zsw_job_20240101T000000Z", "creation", "1704067200"),
        ("tank/data/home/alice", "guid", "13"),
        ("tank/data/home/alice", "createtxg", "9"),
        ("tank/data/home/alice", "creation", "1700000200"),
        ("tank/data/my vm", "guid", "14"),
        ("tank/data/my vm", "createtxg", "8"),
        ("tank/data/my vm", "creation", "1700000150"),
    )
    + "\n"
)


def test_parse_realistic_output():
    inv = inventory.parse(REALISTIC)
    assert list(inv) == ["tank/data", "tank/data/home", "tank/data/home/alice", "tank/data/my vm"]
    data = inv["tank/data"]
    assert data.guid == 11111111111111111111
    assert data.props == {"createtxg": "5", "creation": "1700000000"}
    assert data.snapshots == [
        Snapshot("zsw_job_20240101T000000Z", 200, 100, 1704067200),
        Snapshot("autosnap_daily", 201, 250, 1704100000),
        Snapshot("zsw_job_20240102T000000Z", 202, 300, 1704153600),
    ]
    assert inv["tank/data/home"].snapshots == [Snapshot("zsw_job_20240101T000000Z", 300, 100, 1704067200)]
    assert inv["tank/data/home/alice"].snapshots == []
    assert inv["tank/data/my vm"].guid == 14


def test_bookmarks_are_skipped():
    inv = inventory.parse(REALISTIC)
    assert not any("#" in name for name in inv)
    assert [s.guid for s in inv["tank/data"].snapshots].count(200) == 1


def test_lookup_helpers():
    data = inventory.parse(REALISTIC)["tank/data"]
    assert data.snapshot("autosnap_daily") == Snapshot("autosnap_daily", 201, 250, 1704100000)
    assert data.snapshot("nope") is None
    assert sorted(data.by_guid()) == [200, 201, 202]
    assert data.by_guid()[202].name == "zsw_job_20240102T000000Z"


def test_equal_createtxg_sorts_by_name():
    # `zfs snapshot -r` or two snapshots in one txg: ties broken by name, deterministically
    text = zfs_get(
        ("p/x@b", "guid", "2"),
        ("p/x@b", "createtxg", "10"),
        ("p/x@a", "guid", "1"),
        ("p/x@a", "createtxg", "10"),
    )
    assert [s.name for s in inventory.parse(text)["p/x"].snapshots] == ["a", "b"]


def test_snapshot_without_its_dataset_line_still_creates_the_dataset():
    text = zfs_get(("p/x@a", "guid", "1"), ("p/x@a", "createtxg", "3"))
    inv = inventory.parse(text)
    assert inv["p/x"].guid == 0
    assert inv["p/x"].snapshots == [Snapshot("a", 1, 3, 0)]


@pytest.mark.parametrize("value", ["-", "", "not-a-number"])
def test_unparsable_values_become_zero(value):
    text = zfs_get(("p/x", "guid", value), ("p/x@a", "guid", value), ("p/x@a", "createtxg", "3"))
    inv = inventory.parse(text)
    assert inv["p/x"].guid == 0
    assert inv["p/x"].snapshots[0].guid == 0


def test_extra_properties_are_kept_as_text():
    text = zfs_get(("p/x", "guid", "1"), ("p/x", "written", "4096"))
    assert inventory.parse(text)["p/x"].props == {"written": "4096"}


@pytest.mark.parametrize("text", ["", "\n\n", "   \n"])
def test_empty_output(text):
    assert inventory.parse(text) == {}


@pytest.mark.parametrize(
    "line",
    [
        "p/x guid 1",  # spaces, not tabs: `-H` was forgotten
        "p/x\tguid",
        "p/x\tguid\t1\textra",
    ],
)
def test_malformed_line_raises(line):
    with pytest.raises(ValueError, match="unexpected line from zfs get"):
        inventory.parse(line + "\n")


def test_children_lists_parents_first():
    names = ["tank/b/x", "tank/a", "tank/b", "tank", "tank/a/y/z", "tank/a/y", "other", "tankx/a"]
    inv = {n: inventory.Dataset(n) for n in names}
    assert inventory.children(inv, "tank") == [
        "tank",
        "tank/a",
        "tank/b",
        "tank/a/y",
        "tank/b/x",
        "tank/a/y/z",
    ]
    assert inventory.children(inv, "tank/a") == ["tank/a", "tank/a/y", "tank/a/y/z"]
    assert inventory.children(inv, "missing") == []


def test_children_never_lists_a_child_before_its_parent():
    inv = inventory.parse(REALISTIC)
    order = inventory.children(inv, "tank/data")
    for i, name in enumerate(order):
        parent = name.rpartition("/")[0]
        if parent in order:
            assert order.index(parent) < i


@pytest.mark.parametrize(
    "name, src_root, dst_root, expected",
    [
        ("tank/data", "tank/data", "backup/data", "backup/data"),
        ("tank/data/home", "tank/data", "backup/data", "backup/data/home"),
        ("tank/data/home/alice", "tank/data", "backup", "backup/home/alice"),
        ("tank/data/my vm", "tank/data", "b/x/y", "b/x/y/my vm"),
        ("tank", "tank", "backup/hosts/nas", "backup/hosts/nas"),
    ],
)
def test_relocate(name, src_root, dst_root, expected):
    assert inventory.relocate(name, src_root, dst_root) == expected


@pytest.mark.parametrize(
    "dataset, recursive, extra, expected",
    [
        (
            "tank/data",
            True,
            (),
            ["zfs", "get", "-Hp", "-r", "-o", "name,property,value", "guid,createtxg,creation", "tank/data"],
        ),
        (
            "tank/my data",
            False,
            (),
            [
                "zfs",
                "get",
                "-Hp",
                "-d",
                "1",
                "-o",
                "name,property,value",
                "guid,createtxg,creation",
                "tank/my data",
            ],
        ),
        (
            "tank",
            True,
            ("written",),
            [
                "zfs",
                "get",
                "-Hp",
                "-r",
                "-o",
                "name,property,value",
                "guid,createtxg,creation,written",
                "tank",
            ],
        ),
    ],
)
def test_get_argv(dataset, recursive, extra, expected):
    assert zfs.listing(dataset, recursive, extra) == expected


@pytest.mark.parametrize(
    "lines, name, bare",
    [
        (["backup/m\tguid\t5"], "backup/m", True),
        (["backup/m\tguid\t5", "backup/m@s\tguid\t1"], "backup/m", False),  # has a snapshot
        (["backup/m\tguid\t5", "backup/m/c\tguid\t6"], "backup/m", False),  # has a child
        ([], "backup/m", False),  # does not exist
    ],
)
def test_bare(lines, name, bare):
    assert inventory.bare(inventory.parse("\n".join(lines)), name) is bare


def _ds(props: dict, newest: dict | None) -> Dataset:
    snaps = [Snapshot("s", 1, 10, 0, newest)] if newest is not None else []
    return Dataset("backup/m", 1, snaps, props)


@pytest.mark.parametrize(
    ("props", "newest", "modified"),
    [
        ({"written": "0"}, {}, False),  # OpenZFS says it exactly
        ({"written": "4096"}, {}, True),
        ({"written": "4096"}, None, False),  # no snapshot: nothing to compare with (planning decides)
        ({"referenced": "1000"}, {"referenced": "1000", "used": "0"}, False),  # zfs-fuse: unchanged
        ({"referenced": "5096"}, {"referenced": "1000", "used": "0"}, True),  # a file added
        ({"referenced": "1000"}, {"referenced": "1000", "used": "4096"}, True),  # a file overwritten
        ({}, {}, False),  # nothing listed: unknown, the receive will tell
    ],
)
def test_modified(props, newest, modified):
    assert inventory.modified(_ds(props, newest)) is modified


def test_parse_keeps_a_snapshots_other_properties():
    text = "b/m\tguid\t1\nb/m@s\tguid\t2\nb/m@s\tcreatetxg\t5\nb/m@s\tused\t0\nb/m@s\treferenced\t99\n"
    (snap,) = inventory.parse(text)["b/m"].snapshots
    assert snap.props == {"used": "0", "referenced": "99"} and snap == Snapshot("s", 2, 5)
