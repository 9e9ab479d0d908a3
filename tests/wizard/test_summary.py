"""The preview in words (pure): what is sent, how, how much, what stays; the dry run split from its commands."""

from __future__ import annotations

from datetime import timedelta

import pytest

from zfs_sync_wizard.jobs import job as jobmod
from zfs_sync_wizard.wizard import schedule, summary

from .conftest import NOW


def make(**changes) -> jobmod.Job:
    mapping = {
        "source": {"dataset": "tank/media", "recursive": True},
        "destination": {"dataset": "backup/tank/media", "host": "root@backup01"},
        "schedule": "0 2 * * *",
    }
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            mapping.setdefault(section, {})[name] = value
        else:
            mapping[section] = value
    return jobmod.from_mapping(mapping, "media", "test")


def nightly_year():
    return schedule.year_of_runs("0 2 * * *", NOW)[0]


def test_a_push_with_own_snapshots_in_words():
    facts = summary.Facts(2, 2 << 20, None, nightly_year(), False, "nightly at 02:00 (0 2 * * *)")
    assert summary.describe(make(), facts) == [
        "Sends localhost:tank/media and its 1 child dataset to root@backup01:backup/tank/media: "
        "one stream for all 2 (zfs send -R), else one per dataset, up to 4 at a time, each run.",
        "How: over ssh, zstd-compressed, through a 128M mbuffer; incrementals carry every snapshot in between (-I).",
        "First run: sends everything, about 2.0 MiB (the datasets' referenced size); later runs send only what changed.",
        "Snapshots: each run takes @zsw_media_<time> on localhost:tank/media and its children, sends it, "
        "and prunes only the runner's own.",
        "Kept on the source (localhost): the newest one both sides share, plus the newest of each of the last "
        "24 hours, 7 days, 4 weeks (UTC calendar periods: one without a snapshot keeps none).",
        "Kept on the destination (root@backup01): the newest one both sides share, plus the newest of each of "
        "the last 30 days, 8 weeks, 12 months (UTC calendar periods: one without a snapshot keeps none).",
        # calendar windows: the last 24 hours hold one night, so 7 nights + 2 older weeks (README: 9)
        "After a year of runs on the schedule nightly at 02:00 (0 2 * * *): 9 of the runner's snapshots stay "
        "on the source, 43 on the destination (per dataset).",
        "The destination stays read-only (a change there would block the next incremental).",
    ]


@pytest.mark.parametrize(
    "job, facts, line",
    [
        (
            make(source__recursive=False),
            summary.Facts(1),
            "Sends localhost:tank/media to root@backup01:backup/tank/media: one stream, each run.",
        ),
        (
            make(source={"dataset": "tank/media", "recursive": True}),
            summary.Facts(4),
            "and its 3 child datasets",
        ),
        (
            make(),
            summary.Facts(1, None, "zsw_media_2024-05-07"),
            "Next run: continues from @zsw_media_2024-05-07, sending only what changed since.",
        ),
        (make(), summary.Facts(1), "First run: sends everything; later runs send only what changed."),
        (
            make(destination={"dataset": "backup/media"}, transfer={"buffer": None}),
            summary.Facts(1),
            "How: on this machine, uncompressed; incrementals carry every snapshot in between (-I).",
        ),
        (
            make(transfer={"compression": "lz4", "bandwidth_limit": "20M", "incremental": "direct"}),
            summary.Facts(1),
            "How: over ssh, lz4-compressed, through a 128M mbuffer, limited to 20M per second; "
            "incrementals carry one stream per snapshot (-i).",
        ),
        (
            make(snapshots={"keep": 3}),
            summary.Facts(1),
            "Kept on the source (localhost): the newest 3 (with the newest one both sides share), plus",
        ),
        (
            make(retention={"destination": {"hourly": 0, "daily": 0, "weekly": 0, "monthly": 0}}),
            summary.Facts(1),
            "Kept on the destination (root@backup01): the newest one both sides share.",
        ),
        (
            make(snapshots={"take": False}),
            summary.Facts(1),
            "Snapshots: sanoid's, taken on the source by sanoid; each run sends the new ones and takes none.",
        ),
        (
            make(snapshots={"take": False}),
            summary.Facts(1),
            "sanoid keeps on the destination: 30 daily, 8 weekly, 12 monthly.",
        ),
        (
            make(destination={"dataset": "backup/tank/media", "host": "root@backup01", "readonly": False}),
            summary.Facts(1),
            None,
        ),
    ],
)
def test_describe_lines(job, facts, line):
    text = "\n".join(summary.describe(job, facts))
    if line is None:
        assert "read-only" not in text
    else:
        assert line in text


def test_no_forecast_without_a_schedule_and_a_capped_one_says_how_many_runs():
    assert "After" not in "\n".join(summary.describe(make(), summary.Facts(1)))
    runs, capped = schedule.year_of_runs("* * * * *", NOW, cap=1000)
    assert capped and len(runs) == 1000 and runs[0] == int((NOW + timedelta(minutes=1)).timestamp())
    text = "\n".join(
        summary.describe(make(), summary.Facts(1, runs=runs, capped=capped, schedule="* * * * *"))
    )
    assert (
        "After 1000 runs on the schedule * * * * *: 17 of the runner's snapshots stay on the source, 2 on"
        in text
    )


def test_year_of_runs():
    assert schedule.year_of_runs(None, NOW) == ([], False)
    runs, capped = schedule.year_of_runs("0 2 * * *", NOW)
    assert (len(runs), capped) == (365, False)


PLAN = "\n".join(
    [
        "job media: localhost:tank/media -> root@b:backup/tank/media",
        "  tank/media -> backup/tank/media: full @zsw_media_1",
        "commands:",
        "zfs snapshot -r tank/media@zsw_media_1",
        "# estimated size: 1048576 bytes",
        "zfs send tank/media@zsw_media_1 | ssh -o BatchMode=yes ... root@b zfs receive backup/tank/media",
        "estimated size (zfs send -nvP): 1.0 MiB",
        "warning: something to know",
        "error: something wrong",
    ]
)


@pytest.mark.parametrize(
    "plan, overview, commands",
    [
        (
            PLAN,
            "job media: localhost:tank/media -> root@b:backup/tank/media\n"
            "  tank/media -> backup/tank/media: full @zsw_media_1\n"
            "estimated size (zfs send -nvP): 1.0 MiB\nwarning: something to know\nerror: something wrong",
            "zfs snapshot -r tank/media@zsw_media_1\n# estimated size: 1048576 bytes\n"
            "zfs send tank/media@zsw_media_1 | ssh -o BatchMode=yes ... root@b zfs receive backup/tank/media",
        ),
        ("cannot reach root@b: refused", "cannot reach root@b: refused", ""),  # no plan: the reason, whole
    ],
)
def test_split_plan(plan, overview, commands):
    assert summary.split_plan(plan) == (overview, commands)


@pytest.mark.parametrize(
    "rate, words",
    [
        (500, "500 B/s"),
        (640 << 10, "640 KiB/s"),
        (3.4 * (1 << 20), "3.4 MiB/s"),
        (11.3 * (1 << 20), "11 MiB/s"),
        (1000 << 20, "1.0 GiB/s"),  # 0.98 GiB/s: the next unit up, not "1000 MiB/s"
    ],
)
def test_a_measured_link_speed_in_words(rate, words):
    assert summary.rate_words(rate) == words


@pytest.mark.parametrize(
    "seconds, words",
    [
        (10, "under a minute"),
        (59, "under a minute"),
        (60, "about a minute"),
        (186, "about 3 minutes"),
        (89 * 60, "about 89 minutes"),
        (90 * 60, "about 2 hours"),
        (20 * 3600, "about 20 hours"),
        (40 * 3600, "about 2 days"),
    ],
)
def test_a_transfer_time_in_words(seconds, words):
    assert summary.duration_words(seconds) == words


@pytest.mark.parametrize(
    "facts, first",
    [
        (
            summary.Facts(1, 2 << 30, rate=11 << 20),
            "First run: sends everything, about 2.0 GiB (the datasets' referenced size): "
            "about 3 minutes at the 11 MiB/s the ssh check measured; later runs send only what changed.",
        ),
        (
            summary.Facts(1, 500 << 30, rate=640 << 10),
            "First run: sends everything, about 500.0 GiB (the datasets' referenced size): "
            "about 9 days at the 640 KiB/s the ssh check measured; later runs send only what changed.",
        ),
        (  # not measured (a local job, or the measurement failed): no time
            summary.Facts(1, 2 << 30),
            "First run: sends everything, about 2.0 GiB (the datasets' referenced size); "
            "later runs send only what changed.",
        ),
        (  # resumed: only what changed is sent, and its size is not known here
            summary.Facts(1, 2 << 30, "s1", rate=11 << 20),
            "Next run: continues from @s1, sending only what changed since.",
        ),
    ],
)
def test_the_first_run_takes_as_long_as_its_size_at_the_measured_speed(facts, first):
    assert summary.describe(make(source__recursive=False), facts)[2] == first


@pytest.mark.parametrize(
    ("changes", "streams"),
    [
        ({}, "one stream for all 2 (zfs send -R), else one per dataset, up to 4 at a time"),
        ({"transfer__tree_stream": "never"}, "2 streams, one per dataset, up to 4 at a time"),
        (
            {"transfer__tree_stream": "never", "transfer__parallel": 1},
            "2 streams, one per dataset, one after another",
        ),
    ],
)
def test_the_streams_of_a_tree_in_words(changes, streams):
    facts = summary.Facts(2, 2 << 20, None, nightly_year(), False, "nightly at 02:00 (0 2 * * *)")
    assert summary.describe(make(**changes), facts)[0].endswith(f": {streams}, each run.")
