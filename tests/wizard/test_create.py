"""Creating a job through the real prompts, keys typed ahead into a pipe."""

from __future__ import annotations

import os
import re
import stat

import pytest
import yaml

from zfs_sync_wizard.cli import wizard as cli
from zfs_sync_wizard.errors import ExitCode
from zfs_sync_wizard.jobs import job
from zfs_sync_wizard.schedule import cron

from .conftest import CLEAR, CTRL_C, CTRL_D, DOWN, ENTER, UP, drive, output, screen

# push to backup01, tank/media recursive, defaults for everything else
DEFAULT_RETENTION = {  # the schema's, written when Enter answers both retention questions
    "source": {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0, "yearly": 0},
    "destination": {"hourly": 0, "daily": 30, "weekly": 8, "monthly": 12, "yearly": 0},
}
ENTER_THROUGH = (
    ENTER  # push
    + "media"
    + ENTER  # filter the dataset list, take the first match
    + ENTER  # include children
    + "root@backup01"
    + ENTER
    + ENTER  # port 22
    + ENTER  # ssh's default key
    + ENTER  # suggested destination dataset
    + ENTER  # keep transfer options
    + ENTER  # snapshots: default (sanoid's, since tank/media has autosnap snapshots)
    + ENTER  # retention on the source: the schema's defaults
    + ENTER  # retention on the destination: the schema's defaults
    + ENTER  # job name: suggested
    + ENTER  # nightly
    + "y"  # show the exact commands
    + ENTER  # save
    + ENTER  # install in crontab
)


@pytest.mark.timeout(20)
def test_enter_through_defaults_writes_a_valid_job_and_schedules_it(ctx, ex):
    code = drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create"))
    shown = output(ctx)
    assert code == ExitCode.OK, shown
    path = ctx.config_dir / "jobs" / "media.yaml"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = job.load_job(path)
    assert loaded.source.dataset == "tank/media" and loaded.recursive
    assert loaded.destination.dataset == "backup/tank/media"
    assert loaded.destination.endpoint.target == "root@backup01"
    assert loaded.schedule == "0 2 * * *"
    assert loaded.take_snapshots is False  # sanoid's autosnap snapshots were found
    assert loaded.retention == DEFAULT_RETENTION
    # both sides' sanoid.conf sections, shown as a diff, then written with the job
    assert "changes to sanoid.conf on localhost (source):" in shown
    assert "+[tank/media]\n    +\trecursive = zfs\n    +\thourly = 24" in shown
    assert "+[backup/tank/media]\n    +\trecursive = yes\n    +\thourly = 0" in shown
    assert "+\tautosnap = no\n    +\tautoprune = yes" in shown
    assert "ok: wrote localhost:/etc/sanoid/sanoid.conf" in shown
    assert "ok: wrote root@backup01:/etc/sanoid/sanoid.conf" in shown
    written = dict(ex.inputs)
    assert written["localhost"].startswith(
        "# managed by zfs-sync-wizard job media: edits here are replaced\n"
    )
    assert "[backup/tank/media]\n" in written["root@backup01"]
    assert "ok: logged in to root@backup01; found mbuffer, zfs, zstd" in shown
    assert "backup01:backup/tank/media does not exist yet" in shown
    assert "today 21:00" not in shown
    assert "tomorrow 02:00, in 5 hours" in shown
    assert "about 2.0 MiB" in shown  # referenced of tank/media and tank/media/photos
    assert "zfs send tank/media@x" in shown  # the dry-run plan
    line = cron.entries(ex.crontab)["media"]
    assert line.schedule == "0 2 * * *"
    assert line.command.startswith("/opt/zsw/bin/zfs-sync-run --config-dir " + str(ctx.config_dir))
    assert "installed in your crontab" in shown
    assert not [p for p in path.parent.iterdir() if p.name != "media.yaml"], "temp files left"


@pytest.mark.timeout(20)
def test_written_file_spells_out_every_setting(ctx):
    drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create"))
    data = yaml.safe_load((ctx.config_dir / "jobs" / "media.yaml").read_text())
    assert list(data) == [
        "version",
        "source",
        "destination",
        "transfer",
        "snapshots",
        "retention",
        "schedule",
        "notify",
        "logs",
    ]
    assert data["retention"] == DEFAULT_RETENTION
    assert data["notify"]["when"] == ["failure", "recovery"] and data["notify"]["mail"] == []
    assert data["source"] == {"dataset": "tank/media", "recursive": True, "exclude": []}
    assert data["transfer"]["compression"] == "auto" and data["transfer"]["buffer"] == "128M"


@pytest.mark.timeout(20)
def test_invalid_answers_are_explained_and_asked_again(ctx):
    def refused_then(*answers: str) -> str:
        """Each answer typed over the last one; all but the last are refused in place."""
        return "".join(CLEAR + a + ENTER for a in answers)

    keys = (
        ENTER
        + "media"
        + ENTER
        + ENTER
        + refused_then("bad host!", "nowhere", "root@backup01")
        + refused_then("99999", "22")  # port
        + ENTER
        + refused_then("backup/x@y", "backup/x*y", "backup/tank/media")  # destination
        + ENTER
        + UP
        + ENTER  # the runner's own snapshots
        + refused_then("x", "3")  # keep
        + UP
        + ENTER  # custom retention on the source
        + refused_then("24 7", "48")
        + ENTER
        + ENTER
        + ENTER
        + ENTER  # daily, weekly, monthly, yearly: as they were
        + UP
        + ENTER  # custom retention on the destination
        + ENTER * 3
        + refused_then("99999", "12")  # monthly
        + ENTER  # yearly
        + refused_then("bad name", "media-nightly")
        + DOWN * 3
        + ENTER  # a cron expression of my own
        + refused_then("* * *", "61 * * * *", "0 2 * 13 *", "30 1 * * mon-fri")
        + ENTER  # use this schedule
        + ENTER  # no commands
        + ENTER
        + ENTER
    )
    code = drive(keys, lambda: cli.dispatch(ctx, "create"))
    shown, refused = output(ctx), "\n".join(ctx.ui.refused)
    assert code == 0, shown
    for message in (  # each shown under the answer as soon as Enter is pressed
        "invalid: 'bad host!' is not a host name, IPv4 or IPv6 address, optionally user@ in front",
        "invalid: the host name nowhere does not resolve (Name or service not known): check the spelling",
        "invalid: expected a port number from 1 to 65535",
        "invalid: 'backup/x@y' names a snapshot or bookmark",
        "invalid: 'backup/x*y' is not a ZFS dataset name: the character '*' in 'x*y' is not allowed",
        "invalid: 'x' is not a whole number from 0 to 10000",
        "invalid: '24 7' is not a whole number from 0 to 10000",
        "invalid: '99999' is not a whole number from 0 to 10000",
        "invalid: 'bad name' is not a job name",
        "invalid: expected five fields: minute hour day-of-month month day-of-week, got 3",
        "invalid: minute 61 is out of range 0-59",
        "invalid: month 13 is out of range 1-12",
    ):
        assert message in refused, message
    assert "Checking ssh to root@nowhere" not in shown  # the name was refused before any ssh
    assert "invalid:" not in shown  # nothing refused was printed below the prompts
    assert "tomorrow 01:30, in 4 hours" in shown and "Fri 10 May 01:30, in 2 days" in shown
    loaded = job.load_job(ctx.config_dir / "jobs" / "media-nightly.yaml")
    assert (loaded.take_snapshots, loaded.keep, loaded.schedule) == (True, 3, "30 1 * * mon-fri")
    assert loaded.retention == {**DEFAULT_RETENTION, "source": {**DEFAULT_RETENTION["source"], "hourly": 48}}
    assert "changes to sanoid.conf" not in shown  # the runner's own snapshots: no sanoid.conf to show


def _cancelled(ctx, ex, code):
    assert code == ExitCode.INTERRUPTED
    assert "Cancelled; nothing was saved." in output(ctx)
    assert not (ctx.config_dir / "jobs").exists() or not list((ctx.config_dir / "jobs").iterdir())
    assert ex.crontab is None


@pytest.mark.timeout(20)
def test_ctrl_c_at_the_destination_dataset_cancels_with_130(ctx, ex):
    keys = ENTER + "media" + ENTER + ENTER + "root@backup01" + ENTER + ENTER + ENTER + CTRL_C
    _cancelled(ctx, ex, drive(keys, lambda: cli.dispatch(ctx, "create")))


@pytest.mark.timeout(20)
def test_ctrl_d_at_a_menu_cancels_with_130(ctx, ex):
    keys = (
        ENTER_THROUGH.split("root@backup01")[0]
        + "root@backup01"
        + ENTER
        + ENTER
        + ENTER
        + ENTER
        + ENTER
        + CTRL_D
    )
    _cancelled(ctx, ex, drive(keys, lambda: cli.dispatch(ctx, "create")))


@pytest.mark.timeout(20)
def test_ctrl_c_at_the_save_question_writes_nothing(ctx, ex):
    keys = ENTER_THROUGH[: -2 * len(ENTER)] + CTRL_C
    _cancelled(ctx, ex, drive(keys, lambda: cli.dispatch(ctx, "create")))


@pytest.mark.timeout(20)
def test_end_of_input_cancels_instead_of_hanging(ctx, ex):
    _cancelled(ctx, ex, drive(ENTER + "media" + ENTER, lambda: _close_then(ctx)))


def _close_then(ctx):
    from prompt_toolkit.application import get_app_session

    get_app_session().input.close()
    return cli.dispatch(ctx, "create")


@pytest.mark.timeout(20)
def test_declining_to_save(ctx, ex):
    keys = ENTER_THROUGH[: -2 * len(ENTER)] + "n"
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0
    assert "Nothing was saved." in output(ctx)
    assert not (ctx.config_dir / "jobs" / "media.yaml").exists()


@pytest.mark.timeout(20)
def test_main_cancel_before_any_answer(tmp_path, capsys):
    code = drive(CTRL_C, lambda: cli.main(["--config-dir", str(tmp_path / "c"), "create"]))
    assert code == 130
    assert "Cancelled; nothing was saved." in capsys.readouterr().out
    assert not (tmp_path / "c").exists()


def test_main_refuses_bad_names_and_unknown_jobs(tmp_path, capsys):
    assert cli.main(["--config-dir", str(tmp_path), "create", "bad name"]) == 2
    assert "'bad name' is not a job name" in capsys.readouterr().err
    assert cli.main(["--config-dir", str(tmp_path), "edit", "nope"]) == 2
    assert "no job 'nope' in" in capsys.readouterr().err


@pytest.mark.timeout(20)
def test_create_refuses_an_existing_name(ctx, capsys):
    drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create"))
    assert cli.dispatch(ctx, "create", "media") == 2
    assert (
        "a job named 'media' exists already (change it with: zfs-sync-wizard edit media)"
        in capsys.readouterr().err
    )


@pytest.mark.timeout(20)
def test_a_filter_that_matches_no_dataset_says_so_and_lets_the_person_retype(ctx):
    backspace = "\x7f"
    keys = ENTER + "zzz" + ENTER + backspace * 3 + "photos" + ENTER + CTRL_C
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == ExitCode.INTERRUPTED
    assert ctx.ui.refused == ["no dataset matches 'zzz': Backspace to retype"]  # Enter chose nothing
    drawn = screen()
    assert "? Source dataset tank/media/photos" in drawn  # the retyped filter's match, not the pool root
    assert "? Source dataset tank " not in drawn


@pytest.mark.timeout(20)
def test_answered_lines_show_the_answer_not_the_hint(ctx):
    drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create"))
    drawn = screen()
    for line in (
        "? Where does the data go? push",
        "? Source dataset tank/media",  # not its size and snapshot columns
        "? SSH key ssh's default",
        "? Which snapshots should be replicated? sanoid's",
        "? Snapshots to keep on the source default for the source: 24 hourly, 7 daily, 4 weekly",
        "? Destination dataset backup/tank/media",  # not "(created by the first run)"
    ):
        assert re.search(re.escape(line) + r"(\?|\n)", drawn), line  # the line ends with its answer


@pytest.mark.timeout(20)
def test_preview_says_what_the_job_does_and_keeps_the_commands_one_keypress_away(ctx):
    keys = ENTER_THROUGH.replace("y", ENTER)  # do not show the exact commands
    assert drive(keys, lambda: cli.dispatch(ctx, "create")) == 0
    shown = output(ctx)
    assert (
        "Sends localhost:tank/media and its 1 child dataset to root@backup01:backup/tank/media: "
        "one stream for all 2 (zfs send -R), else one per dataset, up to 4 at a time, each run." in shown
    )
    assert "First run: sends everything, about 2.0 MiB (the datasets' referenced size)" in shown
    assert "sanoid keeps on the source: 24 hourly, 7 daily, 4 weekly." in shown
    assert "job media: localhost:tank/media -> root@backup01:backup/tank/media" in shown  # the dry run's plan
    assert "zfs send tank/media@x" not in shown  # its commands: only when asked for
