"""planning: a table of snapshot situations in a tiny notation (after zrepl's diff_test.go).

A side is written "name:guid:createtxg,..." oldest first; None is an absent
destination dataset, "" one without snapshots.  A plan is summarised as
  "full @a; -I @a @c"                    sends, in order
  "rollback @a destroying x,y; -I @a @c -F"
  "up to date @b"
  or the conflict class name.
"""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import plan as planning
from zfs_sync_wizard.planning import text
from zfs_sync_wizard.planning.inventory import Dataset, Snapshot
from zfs_sync_wizard.planning.plan import Policy

DEFAULT = Policy()
ROLLBACK = Policy(rollback=True)
DIRECT = Policy(incremental="direct")
NEWEST = Policy(initial="newest")
DIRECT_ROLLBACK = Policy(incremental="direct", rollback=True)


def snaps(text: str | None) -> list[Snapshot] | None:
    if text is None:
        return None
    out = []
    for item in filter(None, text.split(",")):
        name, guid, txg = item.split(":")
        out.append(Snapshot(name, int(guid), int(txg)))
    return out


def summary(plan: planning.Plan) -> str:
    if isinstance(plan, planning.Conflict):
        return plan.kind
    if isinstance(plan, planning.UpToDate):
        return f"up to date @{plan.common}"
    parts = []
    if plan.rollback:
        parts.append(f"rollback @{plan.rollback.to} destroying {','.join(plan.rollback.destroys)}")
    for send in plan.sends:
        if send.base is None:
            text = f"full @{send.target}"
        else:
            text = f"{'-I' if send.intermediate else '-i'} @{send.base} @{send.target}"
        parts.append(text + (" -F" if send.force else ""))
    return "; ".join(parts)


ABC = "a:1:100,b:2:200,c:3:300"

CASES = [
    # id, source, destination, policy, destination_modified, expected
    # -- nothing to send
    ("no source, no destination", "", None, DEFAULT, False, "NoSourceSnapshots"),
    ("no source, empty destination", "", "", DEFAULT, False, "NoSourceSnapshots"),
    ("no source, destination has some", "", "a:1:10", ROLLBACK, False, "NoSourceSnapshots"),
    # -- initial replication into an absent destination
    ("initial single snapshot", "a:1:100", None, DEFAULT, False, "full @a"),
    ("initial single snapshot, newest", "a:1:100", None, NEWEST, False, "full @a"),
    ("initial oldest then -I", ABC, None, DEFAULT, False, "full @a; -I @a @c"),
    ("initial oldest then -i", ABC, None, DIRECT, False, "full @a; -i @a @c"),
    ("initial newest only", ABC, None, NEWEST, False, "full @c"),
    ("initial two snapshots", "a:1:100,b:2:200", None, DEFAULT, False, "full @a; -I @a @b"),
    ("initial ignores destination_modified", ABC, None, DEFAULT, True, "full @a; -I @a @c"),
    # -- destination exists but holds nothing usable
    ("destination without snapshots", ABC, "", DEFAULT, False, "NoCommonSnapshot"),
    ("destination without snapshots, rollback allowed", ABC, "", ROLLBACK, False, "NoCommonSnapshot"),
    ("no common snapshot", ABC, "x:9:10,y:8:20", DEFAULT, False, "NoCommonSnapshot"),
    ("no common snapshot, rollback allowed", ABC, "x:9:10", ROLLBACK, False, "NoCommonSnapshot"),
    ("no common snapshot, modified", ABC, "x:9:10", ROLLBACK, True, "NoCommonSnapshot"),
    # GUIDs, not names: same names with other GUIDs share nothing
    ("same names, other guids", ABC, "a:7:10,b:8:20,c:9:30", DEFAULT, False, "NoCommonSnapshot"),
    ("same names, other guids, rollback", ABC, "a:7:10,b:8:20,c:9:30", ROLLBACK, False, "NoCommonSnapshot"),
    # -- up to date
    ("up to date", ABC, "a:1:10,b:2:20,c:3:30", DEFAULT, False, "up to date @c"),
    ("up to date, older ones pruned", ABC, "c:3:30", DEFAULT, False, "up to date @c"),
    ("up to date, destination has newer extras", ABC, "c:3:30,x:9:40", DEFAULT, False, "up to date @c"),
    ("up to date, modified", ABC, "c:3:30", DEFAULT, True, "up to date @c"),
    ("up to date, newest renamed on destination", ABC, "a:1:10,zz:3:30", DEFAULT, False, "up to date @c"),
    # -- incremental
    ("incremental -I", ABC, "a:1:10", DEFAULT, False, "-I @a @c"),
    ("incremental -i", ABC, "a:1:10", DIRECT, False, "-i @a @c"),
    ("incremental from newest shared", ABC + ",d:4:400", "a:1:10,b:2:20", DEFAULT, False, "-I @b @d"),
    ("newest shared skips a gap", ABC + ",d:4:400", "a:1:10,c:3:30", DEFAULT, False, "-I @c @d"),
    ("destination pruned older", ABC, "b:2:20", DEFAULT, False, "-I @b @c"),
    ("older extra on destination is harmless", ABC, "x:9:5,b:2:20", DEFAULT, False, "-I @b @c"),
    ("renamed common keeps the source name", ABC, "renamed:2:20", DEFAULT, False, "-I @b @c"),
    ("newest policy does not matter once shared", ABC, "a:1:10", NEWEST, False, "-I @a @c"),
    # -- destination diverged: newer snapshots after the common one
    ("diverged", ABC, "a:1:10,x:9:20,y:8:30", DEFAULT, False, "Diverged"),
    ("diverged, direct", ABC, "a:1:10,x:9:20", DIRECT, False, "Diverged"),
    (
        "diverged, rollback allowed",
        ABC,
        "a:1:10,x:9:20,y:8:30",
        ROLLBACK,
        False,
        "rollback @a destroying x,y; -I @a @c -F",
    ),
    (
        "diverged, rollback allowed, direct",
        ABC,
        "a:1:10,x:9:20",
        DIRECT_ROLLBACK,
        False,
        "rollback @a destroying x; -i @a @c -F",
    ),
    (
        "diverged from a renamed common",
        ABC,
        "old:1:10,x:9:20",
        ROLLBACK,
        False,
        "rollback @old destroying x; -I @a @c -F",
    ),
    (
        "only snapshots newer than the common are destroyed",
        ABC,
        "p:8:5,a:1:10,b:2:20,x:9:30",
        ROLLBACK,
        False,
        "rollback @b destroying x; -I @b @c -F",
    ),
    ("same name, other guid, after the common", ABC, "a:1:10,b:99:20", DEFAULT, False, "Diverged"),
    (
        "same name, other guid, after the common, rollback",
        ABC,
        "a:1:10,b:99:20",
        ROLLBACK,
        False,
        "rollback @a destroying b; -I @a @c -F",
    ),
    ("diverged and modified", ABC, "a:1:10,x:9:20", DEFAULT, True, "Diverged"),
    (
        "diverged and modified, rollback",
        ABC,
        "a:1:10,x:9:20",
        ROLLBACK,
        True,
        "rollback @a destroying x; -I @a @c -F",
    ),
    # -- destination written to since its newest snapshot
    ("modified", ABC, "a:1:10", DEFAULT, True, "TargetModified"),
    ("modified, direct", ABC, "b:2:20", DIRECT, True, "TargetModified"),
    ("modified, rollback allowed", ABC, "a:1:10", ROLLBACK, True, "-I @a @c -F"),
    ("modified, rollback allowed, direct", ABC, "b:2:20", DIRECT_ROLLBACK, True, "-i @b @c -F"),
    ("not modified, rollback allowed: no force", ABC, "a:1:10", ROLLBACK, False, "-I @a @c"),
]


@pytest.mark.parametrize(
    "source, destination, policy, modified, expected",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_plan_table(source, destination, policy, modified, expected):
    result = planning.plan(snaps(source), snaps(destination), policy, destination_modified=modified)
    assert summary(result) == expected


def test_case_ids_are_unique():
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


def test_sends_carry_target_guids():
    initial = planning.plan(snaps(ABC), None, DEFAULT)
    assert [(s.target, s.target_guid, s.kind) for s in initial.sends] == [
        ("a", 1, "full"),
        ("c", 3, "incremental"),
    ]
    assert initial.rollback is None
    incremental = planning.plan(snaps(ABC), snaps("a:1:10"), DEFAULT)
    assert incremental.sends == (planning.Send("c", "a", True, False, 3),)


def test_initial_sends_are_never_forced():
    initial = planning.plan(snaps(ABC), None, ROLLBACK, destination_modified=True)
    assert not any(s.force for s in initial.sends)


def test_diverged_message_names_the_common_and_the_extra_snapshots():
    result = planning.plan(snaps(ABC), snaps("a:1:10,x:9:20,y:8:30"), DEFAULT)
    assert isinstance(result, planning.Diverged)
    assert "newer than the last common snapshot @a: @x, @y." in result.message
    assert planning.ROLLBACK_HINT in result.message
    assert result.source == ("a", "b", "c")
    assert result.destination == ("a", "x", "y")


def test_rollback_lists_exactly_the_newer_destination_snapshots():
    result = planning.plan(snaps(ABC), snaps("p:8:5,a:1:10,q:7:15,b:2:20,x:9:30,y:6:40"), ROLLBACK)
    assert result.rollback == planning.Rollback("b", ("x", "y"), txg=20)  # bookmarks after txg 20 go too
    assert result.sends == (planning.Send("c", "b", True, True, 3),)


def test_target_modified_message():
    result = planning.plan(snaps(ABC), snaps("a:1:10"), DEFAULT, destination_modified=True)
    assert isinstance(result, planning.TargetModified)
    assert "modified since its newest snapshot @a" in result.message
    assert result.message.endswith(planning.ROLLBACK_HINT)
    assert (result.source, result.destination) == (("a", "b", "c"), ("a",))


def test_a_modified_destination_is_rolled_back_only_when_allowed_and_says_so():
    allowed = planning.plan(snaps(ABC), snaps("a:1:10"), ROLLBACK, destination_modified=True)
    assert allowed.discards_changes and allowed.sends[0].force
    clean = planning.plan(snaps(ABC), snaps("a:1:10"), ROLLBACK)
    assert not clean.discards_changes and not clean.sends[0].force


def test_plan_datasets_reads_modification_off_the_destination_listing():
    src = inv(tank__a="a:1:10,b:2:20")
    dst = inv(backup__a="a:1:10")
    dst["backup/a"].props["written"] = "8192"
    assert planning.plan_datasets(src, dst, "tank/a", "backup/a", DEFAULT)[0].plan.kind == "TargetModified"
    assert summary(planning.plan_datasets(src, dst, "tank/a", "backup/a", ROLLBACK)[0].plan) == "-I @a @b -F"


@pytest.mark.parametrize(
    "source, destination, kind, fragment",
    [
        ("", "a:1:10", "NoSourceSnapshots", "the source has no snapshots to send"),
        (ABC, "", "NoCommonSnapshot", "exists but holds no snapshot"),
        (ABC, "x:9:10", "NoCommonSnapshot", "no snapshot in common"),
    ],
)
def test_conflict_messages_and_sides(source, destination, kind, fragment):
    result = planning.plan(snaps(source), snaps(destination), DEFAULT)
    assert result.kind == kind
    assert isinstance(result, planning.Conflict)
    assert fragment in result.message
    assert result.source == tuple(s.name for s in snaps(source))
    assert result.destination == tuple(s.name for s in snaps(destination))


def test_describe_shows_both_sides():
    result = planning.plan(snaps(ABC), snaps("x:9:10"), DEFAULT)
    shown = text.conflict(result, "tank/data", "backup:backup/data")
    lines = shown.splitlines()
    assert lines[0].startswith("tank/data -> backup:backup/data: source and destination have no snapshot")
    assert lines[1] == "  source snapshots:      @a, @b, @c"
    assert lines[2] == "  destination snapshots: @x"


def test_describe_shows_the_newest_and_counts_the_rest():
    conflict = planning.NoCommonSnapshot("m", tuple("abcdefg"), ())
    lines = text.conflict(conflict, "s", "d", shown=3).splitlines()
    assert lines == [
        "s -> d: m",
        "  source snapshots:      ... 4 older, @e, @f, @g",
        "  destination snapshots: (none)",
    ]


def test_describe_default_shows_five():
    conflict = planning.Diverged("m", tuple("abcde"), tuple("abcdef"))
    lines = text.conflict(conflict, "s", "d").splitlines()
    assert lines[1] == "  source snapshots:      @a, @b, @c, @d, @e"
    assert lines[2] == "  destination snapshots: ... 1 older, @b, @c, @d, @e, @f"


@pytest.mark.parametrize(
    "source, policy, expected",
    [
        (ABC, DEFAULT, "full @a -F; -I @a @c"),
        (ABC, planning.Policy(initial="newest"), "full @c -F"),
        ("a:1:10", DEFAULT, "full @a -F"),
    ],
)
def test_empty_existing_destination_is_received_over(source, policy, expected):
    result = planning.plan(snaps(source), [], policy, destination_empty=True)
    assert summary(result) == expected


def test_existing_destination_with_data_and_no_snapshot_is_a_conflict():
    result = planning.plan(snaps(ABC), [], DEFAULT, destination_empty=False)
    assert isinstance(result, planning.NoCommonSnapshot)
    assert "exists but holds no snapshot" in result.message


# -- a replication snapshot the run will take: planned by name, its GUID unknown (dry run and real run)
PLANNED_CASES = [
    # id, source, destination, policy, expected
    ("planned, no source snapshots, new destination", "", None, DEFAULT, "full @new"),
    ("planned, new destination: oldest in full, then -I", ABC, None, DEFAULT, "full @a; -I @a @new"),
    ("planned, new destination, initial newest", ABC, None, NEWEST, "full @new"),
    ("planned, up to date before it", ABC, "c:3:30", DEFAULT, "-I @c @new"),
    ("planned, behind", ABC, "a:1:10", DIRECT, "-i @a @new"),
    ("planned, diverged stays a conflict", ABC, "a:1:10,x:9:20", DEFAULT, "Diverged"),
    ("planned, no common snapshot stays a conflict", ABC, "x:9:10", DEFAULT, "NoCommonSnapshot"),
    ("planned, rollback allowed", ABC, "b:2:20,x:9:30", ROLLBACK, "rollback @b destroying x; -I @b @new -F"),
]


@pytest.mark.parametrize(
    "source, destination, policy, expected",
    [case[1:] for case in PLANNED_CASES],
    ids=[case[0] for case in PLANNED_CASES],
)
def test_plan_with_a_planned_snapshot(source, destination, policy, expected):
    result = planning.plan(snaps(source), snaps(destination), policy, planned="new")
    assert summary(result) == expected
    if isinstance(result, planning.Transfer):
        assert result.sends[-1].planned and result.sends[-1].target_guid is None
        assert not any(s.planned for s in result.sends[:-1])


def test_taken_fills_in_the_planned_snapshots_guid_only():
    result = planning.plan(snaps(ABC), None, DEFAULT, planned="new")
    taken = result.taken("new", 42)
    assert [(s.target, s.target_guid) for s in taken.sends] == [("a", 1), ("new", 42)]
    assert not any(s.planned for s in taken.sends)
    assert result.taken("other", 42) == result


def inv(**datasets: str | None) -> dict:
    return {
        name.replace("__", "/"): Dataset(name.replace("__", "/"), snapshots=snaps(text) or [])
        for name, text in datasets.items()
    }


def test_plan_datasets_plans_parents_first_and_relocates_below_the_destination():
    src = inv(tank__a__b="s:2:20", tank__a="s:1:10", tank__z="s:3:30")
    dst = inv(backup__a="s:1:5")
    pairs = planning.plan_datasets(src, dst, "tank/a", "backup/a", DEFAULT)
    assert [(p.source, p.destination, summary(p.plan)) for p in pairs] == [
        ("tank/a", "backup/a", "up to date @s"),
        ("tank/a/b", "backup/a/b", "full @s"),
    ]
    empty = planning.plan_datasets(
        src, inv(backup__a__b=""), "tank/a/b", "backup/a/b", DEFAULT, {"backup/a/b"}
    )
    assert summary(empty[0].plan) == "full @s -F"


def test_predicted_puts_the_planned_snapshot_on_both_sides_and_changes_no_input():
    src = inv(tank__a="a:1:10", tank__a__b="a:2:10")
    dst = inv(backup__a="a:1:5", backup__a__b="x:9:5")
    pairs = planning.plan_datasets(src, dst, "tank/a", "backup/a", DEFAULT, planned="new")
    src_after, dst_after = planning.predicted(src, dst, pairs, "new", now=1000)
    assert [s.name for s in src_after["tank/a"].snapshots] == ["a", "new"]
    assert [s.name for s in src_after["tank/a/b"].snapshots] == ["a", "new"]  # taken recursively
    assert [s.name for s in dst_after["backup/a"].snapshots] == ["a", "new"]
    assert [s.name for s in dst_after["backup/a/b"].snapshots] == ["x"]  # its conflict sends nothing
    assert (
        dst_after["backup/a"].snapshots[-1].guid is None
        and dst_after["backup/a"].snapshots[-1].creation == 1000
    )
    assert [s.name for s in src["tank/a"].snapshots] == ["a"] and [
        s.name for s in dst["backup/a"].snapshots
    ] == ["a"]


def test_a_missing_destination_that_the_job_replicated_to_is_refused_not_seeded_anew():
    src = inv(tank__a="zsw_j_20240101T000000Z:1:10,zsw_j_20240102T000000Z:2:20")
    src["tank/a"].snapshots[0].props["userrefs"] = "1"  # the job's base, held
    pairs = planning.plan_datasets(src, {}, "tank/a", "backup/a", DEFAULT, hold=("zsw_j_", "zsw_j"))
    (pair,) = pairs
    assert pair.plan.kind == "DestinationMissing"
    assert pair.plan.message.endswith("zfs release zsw_j tank/a@zsw_j_20240101T000000Z")
    src["tank/a"].snapshots[0].props["userrefs"] = "0"  # nothing held: a first run, seeded in full
    assert summary(
        planning.plan_datasets(src, {}, "tank/a", "backup/a", DEFAULT, hold=("zsw_j_", "zsw_j"))[0].plan
    ) == ("full @zsw_j_20240101T000000Z; -I @zsw_j_20240101T000000Z @zsw_j_20240102T000000Z")


# -- snapshots.source: existing (only some snapshots carried)


def daily(name: str) -> bool:
    """The job's patterns in these cases: d* (sanoid's dailies, say); h* (hourlies) are excluded."""
    return name.startswith("d") or name.startswith("zsw_")


CARRIED = [
    # id, source, destination, policy, planned, expected
    ("all carried: one -I", "d1:1:1,d2:2:2,d3:3:3", "d1:1:1", DEFAULT, None, "-I @d1 @d3"),
    (
        "an excluded one in the middle: -I, -i over it, -I",
        "d1:1:1,d2:2:2,h1:9:3,d3:3:4,d4:4:5",
        "d1:1:1",
        DEFAULT,
        None,
        "-I @d1 @d2; -i @d2 @d3; -I @d3 @d4",
    ),
    ("excluded right after the base", "d1:1:1,h1:9:2,d2:2:3", "d1:1:1", DEFAULT, None, "-i @d1 @d2"),
    (
        "excluded ones at the end are not sent",
        "d1:1:1,d2:2:2,h1:9:3,h2:8:4",
        "d1:1:1",
        DEFAULT,
        None,
        "-I @d1 @d2",
    ),
    ("only excluded ones newer: up to date", "d1:1:1,h1:9:2", "d1:1:1", DEFAULT, None, "up to date @d1"),
    (
        "an excluded common serves as base",
        "d1:1:1,h1:9:2,d2:2:3",
        "d1:1:1,h1:9:2",
        DEFAULT,
        None,
        "-I @h1 @d2",
    ),
    ("two excluded in a row: one -i", "d1:1:1,h1:9:2,h2:8:3,d2:2:4", "d1:1:1", DEFAULT, None, "-i @d1 @d2"),
    (
        "new destination: full of the oldest carried",
        "h0:7:1,d1:1:2,h1:9:3,d2:2:4",
        None,
        DEFAULT,
        None,
        "full @d1; -i @d1 @d2",
    ),
    ("new destination, initial newest", "d1:1:1,h1:9:2,d2:2:3", None, NEWEST, None, "full @d2"),
    (
        "direct: one -i whatever is between",
        "d1:1:1,h1:9:2,d2:2:3,d3:3:4",
        "d1:1:1",
        DIRECT,
        None,
        "-i @d1 @d3",
    ),
    (
        "take at the end: after the carried ones",
        "d1:1:1,d2:2:2",
        "d1:1:1",
        DEFAULT,
        "zsw_j_1",
        "-I @d1 @zsw_j_1",
    ),
    (
        "take at the end after an excluded one",
        "d1:1:1,d2:2:2,h1:9:3",
        "d1:1:1",
        DEFAULT,
        "zsw_j_1",
        "-I @d1 @d2; -i @d2 @zsw_j_1",
    ),
    ("nothing matches", "h1:9:1,h2:8:2", None, DEFAULT, None, "NoSourceSnapshots"),
    (
        "destination newer than the common: diverged as ever",
        "d1:1:1,d2:2:2",
        "d1:1:1,x:5:2",
        DEFAULT,
        None,
        "Diverged",
    ),
]


@pytest.mark.parametrize(
    "source, destination, policy, planned, expected",
    [case[1:] for case in CARRIED],
    ids=[case[0] for case in CARRIED],
)
def test_existing_snapshots_carry_the_matching_ones_and_step_over_the_rest(
    source, destination, policy, planned, expected
):
    result = planning.plan(snaps(source), snaps(destination), policy, planned=planned, carried=daily)
    assert summary(result) == expected


def test_a_dry_run_expects_every_snapshot_an_i_chain_brings():
    source = snaps("d1:1:1,d2:2:2,h1:9:3,d3:3:4,d4:4:5")
    sends = planning.plan(source, snaps("d1:1:1"), DEFAULT, carried=daily).sends
    assert [s.name for s in planning.arriving(source, sends)] == ["d2", "d3", "d4"]
