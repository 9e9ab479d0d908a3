"""Editing a job (diff before saving) and the commands on saved jobs."""

from __future__ import annotations

import json

import pytest
import yaml

from zfs_sync_wizard.cli import wizard as cli
from zfs_sync_wizard.jobs import job
from zfs_sync_wizard.running.execute import Result
from zfs_sync_wizard.schedule import cron

from .conftest import CLEAR, DOWN, ENTER, NOW, UP, custom, drive, output, screen
from .test_create import ENTER_THROUGH

FOREIGN = "MAILTO=me@example.org\n# my backups\n15 4 * * * /usr/local/bin/mine\n"
# push, same dataset (default), children, host, port, key, destination, options, snapshots,
# retention on the source, retention on the destination
EDIT_THROUGH = ENTER * 11


def make_job(ctx):
    assert drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create")) == 0
    clear(ctx)
    return ctx.config_dir / "jobs" / "media.yaml"


def clear(ctx):
    ctx.ui._stream.seek(0)
    ctx.ui._stream.truncate()


@pytest.mark.timeout(20)
def test_edit_enter_through_changes_nothing(ctx):
    path = make_job(ctx)
    before = path.read_bytes()
    assert drive(EDIT_THROUGH + ENTER, lambda: cli.dispatch(ctx, "edit", "media")) == 0
    assert "No changes: the job file stays as it is." in output(ctx)
    assert path.read_bytes() == before


@pytest.mark.timeout(20)
def test_edit_of_a_file_written_before_retention_existed_changes_nothing(ctx):
    path = make_job(ctx)
    data = yaml.safe_load(path.read_text())
    del data["retention"]
    path.write_text(job.dump(data))
    before = path.read_bytes()
    assert drive(EDIT_THROUGH + ENTER, lambda: cli.dispatch(ctx, "edit", "media")) == 0
    assert "No changes: the job file stays as it is." in output(ctx)
    assert path.read_bytes() == before


@pytest.mark.timeout(20)
def test_edit_changes_retention_and_shows_it_in_the_diff(ctx):
    path = make_job(ctx)
    keys = ENTER * 10 + custom(0, 60, 8, 24) + ENTER * 3 + "n"  # schedule; no commands; save; not installed
    assert drive(keys, lambda: cli.dispatch(ctx, "edit", "media")) == 0, output(ctx)
    shown = output(ctx)
    assert "    -    daily: 30\n    +    daily: 60" in shown
    assert job.load_job(path).retention["destination"] == {
        "hourly": 0,
        "daily": 60,
        "weekly": 8,
        "monthly": 24,
        "yearly": 0,
    }
    assert "+\tdaily = 60\n    +\tweekly = 8\n    +\tmonthly = 24" in shown  # the destination's sanoid.conf


@pytest.mark.timeout(20)
def test_edit_shows_a_diff_then_saves_and_reschedules(ctx, ex):
    path = make_job(ctx)
    ex.crontab = FOREIGN + ex.crontab
    keys = EDIT_THROUGH + DOWN + ENTER + ENTER + ENTER + ENTER  # hourly; no commands; save; install
    assert drive(keys, lambda: cli.dispatch(ctx, "edit", "media")) == 0
    shown = output(ctx)
    assert f"--- {path} (now)" in shown and f"+++ {path} (new)" in shown
    assert "    -schedule: 0 2 * * *\n    +schedule: 0 * * * *" in shown
    assert job.load_job(path).schedule == "0 * * * *"
    assert ex.crontab.startswith(FOREIGN)
    assert cron.entries(ex.crontab)["media"].schedule == "0 * * * *"
    assert ex.crontab.count("zfs-sync-wizard:job=media") == 1


def test_edit_of_a_broken_file_says_so(ctx, capsys):
    path = ctx.config_dir / "jobs" / "broken.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("source: [unclosed\n")
    assert cli.dispatch(ctx, "edit", "broken") == 2
    assert "broken.yaml: not valid YAML" in capsys.readouterr().err


@pytest.mark.timeout(20)
def test_edit_keeps_keys_it_does_not_ask_about(ctx):
    path = make_job(ctx)
    path.write_text(path.read_text().replace("rollback: false", "rollback: true"))
    keys = EDIT_THROUGH + DOWN + ENTER + ENTER + ENTER + "n"  # hourly; no commands; save; not installed
    assert drive(keys, lambda: cli.dispatch(ctx, "edit", "media")) == 0
    assert job.load_job(path).rollback is True


@pytest.mark.timeout(20)
def test_schedule_and_unschedule_touch_only_our_line(ctx, ex):
    make_job(ctx)
    ex.crontab = FOREIGN
    keys = DOWN * 2 + ENTER  # weekly
    assert drive(keys, lambda: cli.dispatch(ctx, "schedule", "media")) == 0
    shown = output(ctx)
    assert "Sun 12 May 03:00, in 4 days" in shown
    line = cron.entries(ex.crontab)["media"]
    assert ex.crontab.startswith(FOREIGN) and line.schedule == "0 3 * * 0"
    assert job.load_job(ctx.config_dir / "jobs" / "media.yaml").schedule == "0 3 * * 0"
    assert cli.dispatch(ctx, "unschedule", "media") == 0
    assert ex.crontab == FOREIGN
    assert cli.dispatch(ctx, "unschedule", "media") == 0
    assert "media is not in your crontab; nothing changed." in output(ctx)


def test_schedule_is_refused_when_the_runner_does_not_start_as_cron_starts_it(ctx, ex):
    make_job(ctx)
    ex.crontab = FOREIGN
    ex.on(
        "/opt/zsw/bin/zfs-sync-run --version",
        stderr="env: '/opt/zsw/bin/zfs-sync-run': No such file",
        status=127,
    )
    assert drive(ENTER, lambda: cli.dispatch(ctx, "schedule", "media")) == 1
    assert ex.crontab == FOREIGN, "no line for a runner that would not run"
    checked = [c for c in ex.commands() if "--version" in c][-1]
    assert (
        checked == "env -i -C / PATH=/usr/bin:/bin HOME=/ SHELL=/bin/sh /opt/zsw/bin/zfs-sync-run --version"
    )


@pytest.mark.timeout(20)
def test_schedule_with_a_custom_expression(ctx, ex):
    make_job(ctx)
    keys = DOWN * 3 + ENTER + CLEAR + "*/15 * * * *" + ENTER + ENTER
    assert drive(keys, lambda: cli.dispatch(ctx, "schedule", "media")) == 0
    assert "today 21:15, in 15 minutes" in output(ctx)
    assert cron.entries(ex.crontab)["media"].schedule == "*/15 * * * *"


def test_list_shows_schedule_next_run_and_last_result(ctx, ex):
    drive(ENTER_THROUGH, lambda: cli.dispatch(ctx, "create"))
    runs = ctx.state_dir / "runs"
    runs.mkdir(parents=True)
    record = {
        "job": "media",
        "start": "2024-05-07T18:00:00+02:00",
        "end": "2024-05-07T18:02:00+02:00",
        "result": "ok",
    }
    (runs / "media.json").write_text(json.dumps(record))
    ex.crontab += "0 1 * * * /x # zfs-sync-wizard:job=gone\n"
    # the lag is read from the destination, as `zfs-sync-run --status` reads it
    made = int(NOW.timestamp()) - 5 * 3600
    snap = f"@zsw_media_x\tguid\t7\n@zsw_media_x\tcreatetxg\t9\n@zsw_media_x\tcreation\t{made}\n"
    ex.on("zfs get -Hp -r", "tank/media\tguid\t1\n" + snap.replace("@", "tank/media@"))
    dst_listing = "backup/tank/media\tguid\t2\n" + snap.replace("@", "backup/tank/media@")
    ex.on("zfs get -Hp -r", dst_listing, host="root@backup01")
    clear(ctx)
    assert cli.dispatch(ctx, "list") == 0
    shown = output(ctx)
    assert "media: localhost:tank/media -> root@backup01:backup/tank/media" in shown
    assert "schedule nightly at 02:00 (0 2 * * *), next in 5 hours" in shown
    assert "last run: ok (3 hours ago, took 2m); last success: never" in shown
    assert (
        "backup/tank/media: lag 5h; newest on source @zsw_media_x (5 hours ago), "
        "on destination @zsw_media_x (5 hours ago)" in shown
    )
    assert "gone: in your crontab but no job file" in shown


def test_list_without_jobs(ctx):
    assert cli.dispatch(ctx, "list") == 0
    assert "No jobs in" in output(ctx)


def test_logs_shows_the_last_run_and_the_log_tail(ctx):
    logs = ctx.state_dir / "logs"
    logs.mkdir(parents=True)
    (logs / "media.log").write_text("".join(f"line {i}\n" for i in range(50)))
    runs = ctx.state_dir / "runs"
    runs.mkdir()
    (runs / "media.json").write_text(
        json.dumps(
            {"end": "2024-05-07T20:00:00+02:00", "result": "failed", "errors": ["stage 'zfs receive' failed"]}
        )
    )
    assert cli.dispatch(ctx, "logs", "media") == 0
    shown = output(ctx)
    assert "last run: failed (an hour ago): stage 'zfs receive' failed" in shown
    assert "line 49" in shown and "line 19" not in shown


@pytest.mark.timeout(20)
def test_run_previews_then_runs_zfs_sync_run_then_offers_to_verify_its_first_run(ctx, ex):
    make_job(ctx)
    ex.on("/opt/zsw/bin/zfs-sync-run --config-dir", "", "", 0)
    ex.on("--verify media", "media: backup/tank/media: 1 snapshot, all equal by GUID\n")
    keys = "y" + ENTER + ENTER  # show the commands; run; verify (Yes: the default after a first run)
    assert drive(keys, lambda: cli.dispatch(ctx, "run", "media")) == 0
    shown = output(ctx)
    assert "zfs send tank/media@x" in shown and "ok: media finished" in shown
    # run on the terminal, not captured: pv's progress line shows as the data goes; then the check
    run = f"/opt/zsw/bin/zfs-sync-run --config-dir {ctx.config_dir}"
    assert ex.attached_calls == [f"{run} media", f"{run} --verify media"]
    assert "1 snapshot, all equal by GUID" in ex.terminal.getvalue()  # its report, on the terminal
    assert "? Verify it now (zfs-sync-run --verify media: both sides' snapshots compared by GUID)? Yes" in (
        screen()
    )
    assert "ok: verified: the destination has the source's snapshots (same GUIDs)" in shown
    # then the job's status line, as `zfs-sync-run --status` has it (no run record in the fake)
    assert "  media: last run: never; last success: never" in shown


@pytest.mark.timeout(20)
def test_after_a_later_run_verifying_is_offered_but_not_the_default(ctx, ex):
    make_job(ctx)
    runs = ctx.state_dir / "runs"
    runs.mkdir(parents=True)
    record = {"job": "media", "start": "2024-05-07T18:00:00+02:00", "end": "2024-05-07T18:02:00+02:00"}
    (runs / "media.json").write_text(json.dumps({**record, "result": "ok"}))
    ex.on("/opt/zsw/bin/zfs-sync-run --config-dir", "", "", 0)
    assert drive(ENTER + ENTER + ENTER, lambda: cli.dispatch(ctx, "run", "media")) == 0  # Enter: no
    assert ex.attached_calls == [f"/opt/zsw/bin/zfs-sync-run --config-dir {ctx.config_dir} media"]
    assert "? Verify it now (zfs-sync-run --verify media: both sides' snapshots compared by GUID)? No" in (
        screen()
    )
    assert "  media: last run: ok (3 hours ago, took 2m); last success: " in output(ctx)


@pytest.mark.timeout(20)
def test_a_verification_that_finds_a_difference_is_reported(ctx, ex):
    make_job(ctx)
    ex.on("/opt/zsw/bin/zfs-sync-run --config-dir", "", "", 0)
    ex.on("--verify media", "media: backup/tank/media@s1: guid differs\n", status=1)
    assert drive(ENTER + ENTER + ENTER, lambda: cli.dispatch(ctx, "run", "media")) == 0
    assert "the verification ended with exit status 1 (its report is above)" in output(ctx)
    assert "guid differs" in ex.terminal.getvalue()


@pytest.mark.timeout(20)
def test_run_reports_failure_with_its_status(ctx, ex):
    make_job(ctx)
    ex.on(
        "/opt/zsw/bin/zfs-sync-run --config-dir",
        stderr="zfs-sync-run: media: stage 'zfs receive' failed\n",
        status=1,
    )
    assert drive(ENTER + ENTER, lambda: cli.dispatch(ctx, "run", "media")) == 1
    assert (
        "media ended with exit status 1 (its messages are above; the log: zfs-sync-wizard logs media)"
        in output(ctx)
    )
    assert ex.terminal.getvalue() == "zfs-sync-run: media: stage 'zfs receive' failed\n"


@pytest.mark.timeout(20)
def test_menu_lists_then_quits(ctx):
    keys = DOWN * 5 + ENTER + UP + ENTER  # list; then up from create to quit (the last entry)
    assert drive(keys, lambda: cli.dispatch(ctx, None)) == 0
    assert "No jobs in" in output(ctx)


@pytest.mark.timeout(20)
def test_menu_survives_a_failing_command(ctx, ex):
    make_job(ctx)
    ex._crontab = lambda argv: Result("", "crontab: not allowed\n", 1)
    # the menu points at "list" once jobs exist: up to "unschedule", the only job, then quit
    keys = UP + ENTER + ENTER + DOWN * 4 + ENTER  # ... logs, restore, check, quit
    assert drive(keys, lambda: cli.dispatch(ctx, None)) == 1
    shown = output(ctx)
    assert "problem: 'crontab -l' failed (exit 1): crontab: not allowed" in shown
