"""Pure parts: schedules and times, the draft mapping, destination matching, atomic writes."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from zfs_sync_wizard.jobs import store
from zfs_sync_wizard.planning import inventory
from zfs_sync_wizard.wizard import draft, options, schedule, target

from .conftest import NOW


@pytest.mark.parametrize(
    "expression, first",
    [
        ("0 2 * * *", "tomorrow 02:00, in 5 hours"),
        ("0 * * * *", "today 22:00, in 1 hour"),
        ("0 3 * * 0", "Sun 12 May 03:00, in 4 days"),
        ("@daily", "tomorrow 00:00, in 3 hours"),
        ("*/10 * * * *", "today 21:10, in 10 minutes"),
    ],
)
def test_next_runs_in_local_time_and_words(expression, first):
    runs = schedule.next_runs(expression, NOW)
    assert len(runs) == 3 and runs[0] < runs[1] < runs[2]
    assert schedule.when(runs[0], NOW) == first


TZ = NOW.tzinfo


@pytest.mark.parametrize(
    "moment, now, text",
    [
        # the issue's own examples: Tue 1 Dec 2026
        (
            datetime(2026, 12, 2, 2, 0, tzinfo=TZ),
            datetime(2026, 12, 1, 3, 0, tzinfo=TZ),
            "tomorrow 02:00, in 23 hours",
        ),
        (
            datetime(2026, 12, 3, 2, 0, tzinfo=TZ),
            datetime(2026, 12, 1, 3, 0, tzinfo=TZ),
            "Thu 3 Dec 02:00, in 2 days",
        ),
        (
            datetime(2026, 12, 1, 14, 0, tzinfo=TZ),
            datetime(2026, 12, 1, 11, 0, tzinfo=TZ),
            "today 14:00, in 3 hours",
        ),
        # runs a day apart never read the same
        (
            datetime(2026, 12, 2, 14, 0, tzinfo=TZ),
            datetime(2026, 12, 1, 11, 0, tzinfo=TZ),
            "tomorrow 14:00, in 1 day",
        ),
        (
            datetime(2026, 12, 3, 14, 0, tzinfo=TZ),
            datetime(2026, 12, 1, 11, 0, tzinfo=TZ),
            "Thu 3 Dec 14:00, in 2 days",
        ),
        # minutes where they matter, seconds rounded away
        (
            datetime(2026, 12, 1, 12, 30, tzinfo=TZ),
            datetime(2026, 12, 1, 11, 0, tzinfo=TZ),
            "today 12:30, in 1 hour 30 minutes",
        ),
        (
            datetime(2026, 12, 1, 11, 1, tzinfo=TZ),
            datetime(2026, 12, 1, 11, 0, 20, tzinfo=TZ),
            "today 11:01, in 1 minute",
        ),
        (
            datetime(2026, 12, 1, 11, 0, 10, tzinfo=TZ),
            datetime(2026, 12, 1, 11, 0, tzinfo=TZ),
            "today 11:00, now",
        ),
        # another year says so
        (
            datetime(2027, 1, 1, 2, 0, tzinfo=TZ),
            datetime(2026, 12, 1, 3, 0, tzinfo=TZ),
            "Fri 1 Jan 2027 02:00, in 31 days",
        ),
        # the past
        (
            datetime(2026, 11, 30, 2, 0, tzinfo=TZ),
            datetime(2026, 12, 1, 3, 0, tzinfo=TZ),
            "yesterday 02:00, 1 day ago",
        ),
    ],
)
def test_when_is_phrased_exactly(moment, now, text):
    assert schedule.when(moment, now) == text


def test_in_words_for_the_past():
    assert schedule.in_words(NOW.replace(hour=18), NOW) == "3 hours ago"


@pytest.mark.parametrize(
    "answer, problem",
    [
        ("* * *", "expected five fields"),
        ("0 0 2 * * *", "expected five fields"),
        ("61 * * * *", "minute 61 is out of range 0-59"),
        ("0 25 * * *", "hour 25 is out of range 0-23"),
    ],
)
def test_schedule_check_refuses(answer, problem):
    with pytest.raises(ValueError, match=problem):
        schedule.check(answer)


def test_schedule_check_normalizes_spaces():
    assert schedule.check("  30   1 * * 1-5 ") == "30 1 * * 1-5"


def test_finalize_new_job_spells_out_settings_but_not_empty_ones():
    values = draft.start({}, {})
    values["source"]["dataset"] = "tank/a"
    values["destination"].update(dataset="backup/a", host="root@b")
    mapping = draft.finalize(values, {}, {}, full=True)
    assert mapping["destination"] == {
        "dataset": "backup/a",
        "host": "root@b",
        "port": 22,
        "readonly": True,
        "rollback": False,
        "prune": True,
        "properties": {"set": {}, "exclude": ["sharenfs", "sharesmb"]},
    }
    assert mapping["source"] == {
        "dataset": "tank/a",
        "recursive": False,
        "exclude": [],
    }  # local: no host, port or key
    assert "bandwidth_limit" not in mapping["transfer"] and "schedule" not in mapping
    assert mapping["retention"] == {
        "source": {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0, "yearly": 0},
        "destination": {"hourly": 0, "daily": 30, "weekly": 8, "monthly": 12, "yearly": 0},
    }


def test_finalize_edit_keeps_the_files_keys_and_adds_only_changes():
    base = {"source": {"dataset": "tank/a"}, "destination": {"dataset": "backup/a", "host": "b"}}
    values = draft.start(base, {})
    assert draft.finalize(values, base, {}, full=False) == base
    values["transfer"]["buffer"] = None  # differs from the default 128M: must be written as null
    values["schedule"] = "0 2 * * *"
    mapping = draft.finalize(values, base, {}, full=False)
    assert mapping["transfer"] == {"buffer": None} and mapping["schedule"] == "0 2 * * *"


def test_finalize_respects_defaults_yaml():
    defaults = {"transfer": {"compression": "lz4"}}
    base = {"source": {"dataset": "tank/a"}, "destination": {"dataset": "backup/a"}}
    values = draft.start(base, defaults)
    assert values["transfer"]["compression"] == "lz4"
    assert draft.finalize(values, base, defaults, full=False) == base


def test_finalize_drops_ssh_settings_of_a_side_that_became_local():
    base = {
        "source": {"dataset": "tank/a"},
        "destination": {"dataset": "backup/a", "host": "b", "port": 2222},
    }
    values = draft.start(base, {})
    values["destination"].update(host=None, port=22)
    assert draft.finalize(values, base, {}, full=False)["destination"] == {"dataset": "backup/a"}


def test_finalize_never_writes_keys_the_schema_lacks():
    values = draft.start({}, {})
    values["retention"] = {"source": {"hourly": 1}}
    values["transfer"]["raw"] = True
    mapping = draft.finalize(values, {}, {}, full=True)
    assert draft.supported("retention") or "retention" not in mapping
    assert draft.supported("transfer", "raw") or "raw" not in mapping["transfer"]
    values["retention"]["source"]["decadely"] = 3  # not in the schema
    values["archive"] = {"keep": 1}
    mapping = draft.finalize(values, {}, {}, full=True)
    assert mapping["retention"]["source"] == {"hourly": 1} and "archive" not in mapping


def test_adjust_for_missing_programs():
    transfer = {"compression": "auto", "buffer": "128M"}
    changed = options.adjust_for_missing(transfer, {"mbuffer", "zstd"})
    assert transfer == {"compression": "lz4", "buffer": None}
    assert len(changed) == 2


def snap(name, guid, txg):
    return inventory.Snapshot(name, guid, txg)


@pytest.mark.parametrize(
    "dest, kind, common",
    [
        (None, target.ABSENT, ()),
        (inventory.Dataset("b", snapshots=[]), target.EMPTY, ()),
        (inventory.Dataset("b", snapshots=[snap("a", 1, 1), snap("b", 2, 2)]), target.RESUMED, ("a", "b")),
        (inventory.Dataset("b", snapshots=[snap("a", 1, 1), snap("x", 9, 3)]), target.RESUMED, ("a",)),
        (inventory.Dataset("b", snapshots=[snap("a", 7, 1)]), target.UNRELATED, ()),
    ],
)
def test_compare_by_guid_not_name(dest, kind, common):
    state = target.compare([snap("a", 1, 1), snap("b", 2, 2)], dest)
    assert (state.kind, state.common) == (kind, common)


@pytest.mark.parametrize(
    "source, pools, same_host, expected",
    [
        ("tank/media", ["backup"], False, "backup/tank/media"),
        ("tank/media", ["tank", "backup"], True, "backup/tank/media"),
        ("tank/media", ["tank"], True, "tank/backup/media"),
        ("tank/media", [], False, "tank/backup/media"),
    ],
)
def test_suggest(source, pools, same_host, expected):
    assert target.suggest(source, pools, same_host) == expected


def test_check_name_refuses_overlap_on_the_same_host_only():
    with pytest.raises(ValueError, match="overlaps"):
        target.check_name("tank/media/copy", "tank/media", True)
    assert target.check_name("tank/media/copy", "tank/media", False) == "tank/media/copy"
    with pytest.raises(ValueError, match="snapshot"):
        target.check_name("backup/x@y", "tank/media", False)


def test_jobfile_write_is_private_and_leaves_no_temp(tmp_path):
    path = tmp_path / "jobs" / "a.yaml"
    store.write(path, "one\n")
    store.write(path, "two\n")
    assert path.read_text() == "two\n"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert os.listdir(path.parent) == ["a.yaml"]


def test_jobfile_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "a.yaml"
    store.write(path, "old\n")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        store.write(path, "new\n")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["a.yaml"]


def test_now_is_aware():
    from zfs_sync_wizard.wizard.context import local_now

    assert local_now().tzinfo is not None and isinstance(local_now(), datetime)


@pytest.mark.parametrize(
    "counts, text",
    [
        ({"hourly": 0, "daily": 7, "weekly": 4, "monthly": 6, "yearly": 0}, "7 daily, 4 weekly, 6 monthly"),
        ({"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0, "yearly": 0}, "24 hourly, 7 daily, 4 weekly"),
        ({"hourly": 0, "daily": 0, "weekly": 0, "monthly": 0, "yearly": 0}, "none kept by period"),
    ],
)
def test_counts_text(counts, text):
    assert options.counts_text(counts) == text


def test_retention_menu_default_first_presets_then_custom_without_repeats():
    default = {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0, "yearly": 0}
    titles = [c[0] for c in options.retention_choices(default, default, "source")]
    assert titles == [
        "default for the source: 24 hourly, 7 daily, 4 weekly",
        "nightly backup: 7 daily, 4 weekly, 6 monthly",  # "hourly backup" is the default: not twice
        "long archive: 30 daily, 8 weekly, 12 monthly, 5 yearly",
        "by count only: none kept by period",
        "custom: ask each count",
    ]


def test_retention_menu_offers_the_current_counts_of_an_edited_job():
    current = {"hourly": 1, "daily": 2, "weekly": 3, "monthly": 4, "yearly": 0}
    choices = options.retention_choices(
        current, {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0, "yearly": 0}, "source"
    )
    assert ("as now: 1 hourly, 2 daily, 3 weekly, 4 monthly", options._key(current)) in choices
    assert options._preset_key(current, choices) == options._key(current)
