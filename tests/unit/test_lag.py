"""Lag arithmetic, durations, Nagios states and the --monitor line, as tables (pure)."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.operations.monitor import JobLag, unknown, verdict
from zfs_sync_wizard.planning import inventory, lag
from zfs_sync_wizard.planning.lag import State, Thresholds

H = 3600
NOW = 1_700_000_000


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("90m", 5400),
        ("26h", 26 * H),
        ("3d", 3 * 86400),
        ("1w", 7 * 86400),
        ("45s", 45),
        ("3600", 3600),
        (" 2H ", 2 * H),
        ("0", 0),
    ],
)
def test_durations(text, seconds):
    assert lag.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1.5h", "-3h", "26 h", "3 days", "1y", "1h30m", "abc"])
def test_bad_durations_say_what_is_allowed(text):
    with pytest.raises(ValueError, match=r"is not a duration such as 90m, 26h or 3d"):
        lag.parse_duration(text)


@pytest.mark.parametrize(
    "warn, crit, message",
    [
        ("1x", "2h", "--warn: '1x' is not a duration"),
        ("1h", "", "--crit: '' is not a duration"),
        ("3h", "2h", "--warn (3h) is longer than --crit (2h)"),
    ],
)
def test_bad_thresholds_name_the_option(warn, crit, message):
    with pytest.raises(ValueError) as info:
        Thresholds.parse(warn, crit)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "0s"),
        (45, "45s"),
        (60, "1m"),
        (61, "1m 1s"),
        (3 * H + 12 * 60 + 5, "3h 12m"),
        (26 * H, "1d 2h"),
        (-5, "0s"),
    ],
)
def test_format_duration(seconds, text):
    assert lag.format_duration(seconds) == text


def listing(*rows: tuple[str, str, int]) -> str:
    """(dataset, snapshot or '', creation) -> `zfs get -Hp` lines."""
    out = []
    for ds, snap, created in rows:
        name = f"{ds}@{snap}" if snap else ds
        out += [f"{name}\tguid\t{abs(hash(name))}"]
        if snap:
            out += [f"{name}\tcreatetxg\t{created}", f"{name}\tcreation\t{created}"]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(
    "rows, expected",
    [
        # newest snapshot's age
        ([("b/m", "", 0), ("b/m", "a", NOW - 5 * H), ("b/m", "b", NOW - H)], {"b/m": H}),
        # a dataset without snapshots: never replicated
        ([("b/m", "", 0)], {"b/m": None}),
        # each dataset of a recursive job on its own
        (
            [("b/m", "", 0), ("b/m", "x", NOW - 60), ("b/m/c", "", 0), ("b/m/c", "x", NOW - 90)],
            {"b/m": 60, "b/m/c": 90},
        ),
        # a snapshot from the future (clocks apart) is no lag, never a negative one
        ([("b/m", "", 0), ("b/m", "x", NOW + 30)], {"b/m": 0}),
        # nothing on the destination at all
        ([], {}),
    ],
)
def test_lag_per_dataset_is_the_newest_snapshots_age(rows, expected):
    inv = inventory.parse(listing(*rows)) if rows else {}
    assert lag.lags(inv, NOW) == expected


LIMITS = Thresholds(26 * H, 50 * H)


@pytest.mark.parametrize(
    "seconds, state",
    [
        (0, State.OK),
        (26 * H, State.OK),  # at the threshold: not yet past it
        (26 * H + 1, State.WARNING),
        (50 * H, State.WARNING),
        (50 * H + 1, State.CRITICAL),
        (None, State.CRITICAL),  # no snapshot on the destination
    ],
)
def test_state_of_a_lag(seconds, state):
    assert lag.state(seconds, LIMITS) == state


@pytest.mark.parametrize(
    "states, expected",
    [
        ([], State.OK),
        ([State.OK, State.OK], State.OK),
        ([State.OK, State.UNKNOWN], State.UNKNOWN),
        ([State.UNKNOWN, State.WARNING], State.WARNING),
        ([State.WARNING, State.CRITICAL, State.UNKNOWN], State.CRITICAL),
    ],
)
def test_the_worst_state_decides(states, expected):
    assert lag.worst(states) == expected


PERF = ";93600;180000;0"


@pytest.mark.parametrize(
    "jobs, state, line",
    [
        (
            [JobLag("media", {"backup/media": 3 * H})],
            State.OK,
            f"ZFS-SYNC OK - lag 3h (media: backup/media) | lag=10800s{PERF}",
        ),
        (
            [JobLag("media", {"backup/media": 27 * H, "backup/media/c": H})],
            State.WARNING,
            f"ZFS-SYNC WARNING - media: backup/media lag 1d 3h > warn 1d 2h | lag=97200s{PERF}",
        ),
        (
            [JobLag("a", {"b/a": H}), JobLag("z", {"b/z": 51 * H})],
            State.CRITICAL,
            "ZFS-SYNC CRITICAL - z: b/z lag 2d 3h > crit 2d 2h"
            f" | lag=183600s{PERF} lag_a=3600s{PERF} lag_z=183600s{PERF}",
        ),
        (
            [JobLag("a", {"b/a": H}), JobLag("z", {"b/z": 2 * H})],
            State.OK,
            f"ZFS-SYNC OK - 2 jobs, lag 2h (z: b/z) | lag=7200s{PERF} lag_a=3600s{PERF} lag_z=7200s{PERF}",
        ),
        (
            [
                JobLag(
                    "media", error="cannot read the destination root@b:backup/media: ssh to b failed\n  x|y"
                )
            ],
            State.UNKNOWN,
            "ZFS-SYNC UNKNOWN - media: cannot read the destination root@b:backup/media: ssh to b failed x/y",
        ),
        (
            [JobLag("media", {})],
            State.CRITICAL,
            "ZFS-SYNC CRITICAL - media: the destination dataset does not exist (never replicated)",
        ),
        (
            [JobLag("media", {"backup/media": None})],
            State.CRITICAL,
            "ZFS-SYNC CRITICAL - media: backup/media: no snapshot on the destination",
        ),
        (
            # a known problem outranks not knowing; both are named
            [JobLag("a", error="unreachable"), JobLag("z", {"b/z": 30 * H})],
            State.WARNING,
            f"ZFS-SYNC WARNING - a: unreachable; z: b/z lag 1d 6h > warn 1d 2h | lag=108000s{PERF}"
            f" lag_z=108000s{PERF}",
        ),
    ],
)
def test_monitor_line(jobs, state, line):
    assert verdict(jobs, LIMITS) == (state, line)


def test_a_check_that_cannot_run_is_unknown_on_one_line():
    assert unknown("/etc/x/jobs/m.yaml: source.dataset:\n missing") == (
        State.UNKNOWN,
        "ZFS-SYNC UNKNOWN - /etc/x/jobs/m.yaml: source.dataset: missing",
    )
