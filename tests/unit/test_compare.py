"""compare: which snapshots `--verify` finds missing, extra or different.

Sides are written "name:guid,..." oldest first (createtxg and creation follow
the order); `j1`... are the job's own replication snapshots, other names
are the user's or sanoid's.
"""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import compare
from zfs_sync_wizard.planning.compare import Rules
from zfs_sync_wizard.planning.inventory import Dataset, Snapshot

STEM = "zsw_job_"
ALL = Rules(STEM, every_snapshot=True)
OURS = Rules(STEM, every_snapshot=False)
KEEP_ALL = Rules(STEM, every_snapshot=True, keep=100, retention={})
PRUNING = Rules(STEM, every_snapshot=True, keep=1, retention={})


def name(short: str) -> str:
    return f"zsw_job_2024010{short[1:]}T000000Z" if short.startswith("j") else short


def snaps(text: str | None) -> list[Snapshot] | None:
    if text is None:
        return None
    out = []
    for txg, item in enumerate(filter(None, text.split(",")), start=1):
        short, guid = item.split(":")
        out.append(Snapshot(name(short), int(guid), txg * 10, 1_700_000_000 + txg * 3600))
    return out


def names(text: str) -> list[str]:
    return [name(n) for n in filter(None, text.split(","))]


# (rules, source, destination, findings): findings name the snapshots in each list (the
# others empty) and "ok"; lists are missing, mismatched, extra, pruned, only (on the
# destination) and pending
CASES = {
    "equal": (ALL, "a:1,j1:2,b:3,j2:4", "a:1,j1:2,b:3,j2:4", "ok"),
    "never replicated: the destination does not exist": (ALL, "a:1", None, "pending=a"),
    "empty destination": (ALL, "a:1", "", "pending=a"),
    "a user snapshot destroyed on the destination": (
        KEEP_ALL,
        "a:1,j1:2,b:3,j2:4",
        "a:1,j1:2,j2:4",
        "missing=b",
    ),
    "a user snapshot missing is fine when only the job's own are sent (-i)": (
        OURS,
        "a:1,j1:2,b:3,j2:4",
        "j1:2,j2:4",
        "ok",
    ),
    "a job snapshot missing where the job prunes nothing (take: false)": (
        ALL,
        "j1:1,j2:2,j3:3",
        "j1:1,j3:3",
        "missing=j2",
    ),
    "a job snapshot kept by the destination's retention but gone": (
        KEEP_ALL,
        "j1:1,j2:2,j3:3",
        "j1:1,j3:3",
        "missing=j2",
    ),
    "a job snapshot the destination's retention prunes is a note": (
        PRUNING,
        "j1:1,j2:2,j3:3",
        "j1:1,j3:3",
        "pruned=j2 ok",
    ),
    "same name, different GUID": (ALL, "a:1,j1:2", "a:1,j1:9", "mismatched=j1"),
    "a different source: every name differs, nothing in common": (
        ALL,
        "a:1,j1:2",
        "a:7,j1:8",
        "mismatched=a,j1",
    ),
    "pruned on the source, kept on the destination: a note": (
        ALL,
        "j2:2,j3:3",
        "old:9,j1:1,j2:2,j3:3",
        "only=old,j1 ok",
    ),
    "a snapshot taken on the destination after the common one": (
        ALL,
        "a:1,j1:2",
        "a:1,j1:2,mine:5",
        "extra=mine",
    ),
    "newer source snapshots are not replicated yet": (
        ALL,
        "a:1,j1:2,b:3,j2:4",
        "a:1,j1:2",
        "pending=b,j2 ok",
    ),
    "older than the oldest common one: not judged (initial: newest)": (ALL, "a:1,b:2,j1:3", "j1:3", "ok"),
    "no common snapshot, other data on the destination": (ALL, "a:1", "x:5", "only=x pending=a"),
}


@pytest.mark.parametrize("rules, source, destination, findings", list(CASES.values()), ids=list(CASES))
def test_compare(rules, source, destination, findings):
    report = compare.compare(snaps(source), snaps(destination), rules)
    expected = dict(item.partition("=")[::2] for item in findings.split())
    found = {
        "missing": report.missing,
        "mismatched": [m[0] for m in report.mismatched],
        "extra": report.extra,
        "pruned": report.pruned,
        "only": report.only_destination,
        "pending": report.pending,
    }
    for kind, got in found.items():
        assert got == names(expected.get(kind, "")), kind
    assert report.ok is ("ok" in expected)


def test_a_mismatch_names_both_guids():
    report = compare.compare(snaps("a:1,j1:2"), snaps("a:1,j1:9"), ALL)
    assert report.mismatched == [(name("j1"), 2, 9)]
    assert any("source guid 2, destination guid 9" in line for line in compare.lines("job", [report]))


# -- a recursive job: (source children, destination children) -> not ok / ok per dataset


def inv(**datasets: str | None) -> dict[str, Dataset]:
    return {
        n.replace("__", "/"): Dataset(n.replace("__", "/"), 0, snaps(t))
        for n, t in datasets.items()
        if t is not None
    }


def test_a_child_that_missed_the_parents_last_run_is_a_failure():
    src = inv(tank__m="j1:1,j2:2", tank__m__c="j1:11,j2:12")
    dst = inv(backup__m="j1:1,j2:2", backup__m__c="j1:11")
    root, child = compare.compare_job(src, dst, "tank/m", "backup/m", KEEP_ALL)
    assert root.ok and root.common == name("j2")
    assert not child.ok and child.missing == [name("j2")]


def test_a_child_created_since_the_last_run_is_only_pending():
    src = inv(tank__m="j1:1,j2:2", tank__m__new="j3:23")
    dst = inv(backup__m="j1:1,j2:2")
    root, child = compare.compare_job(src, dst, "tank/m", "backup/m", ALL)
    assert root.ok and child.ok and child.problem is None and child.pending == [name("j3")]


def test_a_child_whose_destination_is_gone_is_a_failure():
    src = inv(tank__m="j1:1", tank__m__c="j1:11")
    dst = inv(backup__m="j1:1")
    _, child = compare.compare_job(src, dst, "tank/m", "backup/m", ALL)
    assert child.problem == "the destination dataset does not exist" and child.missing == [name("j1")]


def test_a_destination_child_without_a_source_is_listed_as_a_note():
    src = inv(tank__m="j1:1")
    dst = inv(backup__m="j1:1", backup__m__gone="j1:31")
    reports = compare.compare_job(src, dst, "tank/m", "backup/m", ALL)
    assert [(r.source, r.destination, r.ok) for r in reports] == [
        ("tank/m", "backup/m", True),
        (None, "backup/m/gone", True),
    ]
    assert "only on the destination" in compare.lines("m", reports)[1]


@pytest.mark.parametrize(
    "source, destination, expected",
    [
        ("a:1,b:2", "a:1,b:2", "b"),
        ("a:1,b:2,c:3", "a:1,b:2", "b"),
        ("a:1,b:2", "a:7,b:8", "b"),  # by name: --deep compares a different source's content too
        ("a:1", "x:2", None),
        ("a:1", None, None),
    ],
)
def test_newest_shared(source, destination, expected):
    assert compare.newest_shared(snaps(source), snaps(destination)) == expected


def test_lines_list_findings_under_the_dataset():
    report = compare.compare(snaps("a:1,b:2,j1:3"), snaps("a:1,j1:3,mine:4"), KEEP_ALL)
    report.source, report.destination = "tank/m", "backup/m"
    assert compare.lines("m", [report]) == [
        "m: tank/m -> backup/m: DIFFERENT",
        "  missing on the destination: @b",
        f"  only on the destination, newer than @{name('j1')}: @mine",
    ]


def test_lines_cut_long_lists():
    report = compare.compare(snaps(",".join(f"s{i}:{i}" for i in range(1, 13))), snaps(""), ALL)
    text = "\n".join(compare.lines("m", [report]))
    assert "@s8 and 4 more" in text
