"""The wizard end to end on real zfs-fuse hosts and sshd.

The wizard runs on the sandbox host src (tests/wizard/driver.py) with its
keys typed ahead.  Cron tests bind a fresh directory over src's crontab
spool first: src's mount namespace is private, so this machine's crontab
is never touched (checked after each test).
"""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from tests import installed
from tests.wizard.driver import (
    AFTER_CHECK,
    DOWN,
    ENTER,
    FOREIGN,
    crontab,
    list_titles,
    make_source,
    private_crontab,  # noqa: F401 (a fixture)
    to_dst,
    wizard,
)

from .replication import assert_same, ok, run_argv, snapshot

DEFAULT_RETENTION = {  # the schema's defaults
    "source": {"hourly": 24, "daily": 7, "weekly": 4, "monthly": 0, "yearly": 0},
    "destination": {"hourly": 0, "daily": 30, "weekly": 8, "monthly": 12, "yearly": 0},
}

PV_BAR = r"[0-9.]+ ?[KM]iB 0:00:\d\d \[ *[0-9.]+ ?[KM]iB/s\]"
# every test gets a private crontab: a wizard gone astray can never reach this machine's
pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("private_crontab")]


def test_created_job_is_accepted_by_the_runner_and_replicates(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    result = wizard(src, tmp_path, to_dst(dst) + AFTER_CHECK + ENTER, "create")
    shown = result.stdout
    assert result.returncode == 0, shown + result.stderr
    assert f"ok: logged in to root@{dst.address}; found mbuffer, zfs, zstd" in shown
    assert f"ok: root@{dst.address}:backup/tank/media does not exist yet" in shown
    # the link speed, measured once logged in, and the first run's time at that speed
    speed = re.search(
        rf"ok: link speed: ([0-9.]+ [KMG]iB/s) \(timed over 8.0 MiB of random data sent to root@{dst.address}\)",
        shown,
    )
    assert speed, shown
    assert (
        f"(the datasets' referenced size): under a minute at the {speed[1]} the ssh check measured" in shown
    )
    assert (
        f"Sends localhost:tank/media to root@{dst.address}:backup/tank/media: one stream, each run." in shown
    )
    # (how many stay depends on today's weekday: calendar weeks)
    assert re.search(
        r"After a year of runs on the schedule nightly at 02:00 \(0 2 \* \* \*\): \d+ of the runner's", shown
    )
    assert "tank/media -> backup/tank/media: full @zsw_media_" in shown  # the runner's real dry run
    assert "zfs send tank/media@zsw_media_" in shown
    assert "ok: saved " in shown and "installed in your crontab" in shown
    assert src.snapshots("tank/media") == {}, "the preview changed nothing"
    written = yaml.safe_load((tmp_path / "config" / "jobs" / "media.yaml").read_text())
    assert written["snapshots"]["take"] is True and written["retention"] == DEFAULT_RETENTION

    run = src.run(
        [
            *run_argv(),
            "--config-dir",
            str(tmp_path / "config"),
            "--state-dir",
            str(tmp_path / "state"),
            "media",
        ],
        check=False,
    )
    ok(run)
    first = assert_same(src, "tank/media", dst, "backup/tank/media")
    assert len(first) == 1

    # the crontab line, run as cron runs it: sh -c, minimal environment, no login shell
    line = next(line for line in crontab(src).splitlines() if line.endswith("# zfs-sync-wizard:job=media"))
    command = line.split(" ", 5)[5]
    # the runner installed beside this wizard, in a venv that is not on PATH
    runner = installed.product().program("zfs-sync-run")
    assert line.startswith(f"0 2 * * * {shlex.quote(runner)} --config-dir ")
    src.write_random("tank/media", "second.mkv", 64 << 10)
    snapshot(src, "tank/media", "by-hand")
    cron_run = src.run(
        ["env", "-i", "PATH=/usr/bin:/bin", "HOME=/root", "SHELL=/bin/sh", "/bin/sh", "-c", command],
        check=False,
    )
    ok(cron_run)
    # the default retention keeps hourlies on the source and dailies on the destination: two runs
    # astride an hour keep the first one on the source only, so the newest and by-hand are compared
    src_snaps, dst_snaps = src.snapshots("tank/media"), dst.snapshots("backup/tank/media")
    newest = next(reversed(src_snaps))
    assert newest.startswith("zsw_media_") and newest not in first
    for name in ("by-hand", newest):
        assert dst_snaps.get(name) == src_snaps[name], (name, src_snaps, dst_snaps)
    assert dst.checksum(f"backup/tank/media@{newest}") == src.checksum(f"tank/media@{newest}")


def test_dataset_listing_on_a_real_host_and_over_ssh(hosts):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    src.run(["zfs", "create", "tank/media/photos"])
    src.write_random("tank/media/photos", "a.jpg", 200 << 10)
    snapshot(src, "tank/media", "autosnap_2024-05-01_00:00:01_daily")
    snapshot(src, "tank/media", "before-upgrade")
    dst.run(["zfs", "create", "backup/old"])
    titles = list_titles(src)
    assert [t.split()[0] for t in titles] == ["tank", "tank/media", "tank/media/photos"]
    media = next(t for t in titles if t.startswith("tank/media "))
    assert "2 snapshots" in media and "sanoid (autosnap snapshots)" in media
    assert "KiB" in media or "MiB" in media
    assert "0 snapshots" in next(t for t in titles if t.startswith("tank/media/photos"))
    remote = list_titles(src, dst.address)
    assert [t.split()[0] for t in remote] == ["backup", "backup/old"]


def test_cron_install_list_unschedule_leave_foreign_lines(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    created = wizard(src, tmp_path, to_dst(dst) + AFTER_CHECK + "n", "create")  # saved, not scheduled
    assert created.returncode == 0, created.stdout + created.stderr
    assert "not installed; later: zfs-sync-wizard schedule media" in created.stdout

    checked = wizard(src, tmp_path, "", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"ok: media: root@{dst.address}: mbuffer, zfs, zstd" in checked.stdout
    assert "Everything is ready." in checked.stdout

    listed = wizard(src, tmp_path, "", "list")  # no crontab at all yet
    assert listed.returncode == 0, listed.stderr
    assert (
        "not in crontab (job file says 0 2 * * *; install: zfs-sync-wizard schedule media)" in listed.stdout
    )
    assert "last run: never" in listed.stdout

    src.run(["crontab", "-"], input=FOREIGN)
    scheduled = wizard(src, tmp_path, DOWN + ENTER, "schedule", "media")  # hourly
    assert scheduled.returncode == 0, scheduled.stdout + scheduled.stderr
    table = crontab(src)
    assert table.startswith(FOREIGN)
    ours = table[len(FOREIGN) :].splitlines()
    assert (
        len(ours) == 1
        and ours[0].startswith("0 * * * * /")
        and ours[0].endswith(" # zfs-sync-wizard:job=media")
    )
    assert shlex.split(ours[0].split(" ", 5)[5], comments=True)[-1] == "media"
    saved = yaml.safe_load((tmp_path / "config" / "jobs" / "media.yaml").read_text())
    assert saved["schedule"] == "0 * * * *"
    assert saved["retention"] == DEFAULT_RETENTION  # Enter at both retention questions

    listed = wizard(src, tmp_path, "", "list")
    assert "schedule hourly, on the hour (0 * * * *), next in" in listed.stdout

    again = wizard(src, tmp_path, DOWN + ENTER, "schedule", "media")  # same answer: still one line
    assert again.returncode == 0 and crontab(src).count("zfs-sync-wizard:job=media") == 1

    removed = wizard(src, tmp_path, "", "unschedule", "media")
    assert removed.returncode == 0 and "removed media from your crontab" in removed.stdout
    assert crontab(src) == FOREIGN


def test_edit_on_real_hosts_shows_the_diff_and_keeps_the_job_valid(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    assert wizard(src, tmp_path, to_dst(dst) + AFTER_CHECK + "n", "create").returncode == 0
    path = tmp_path / "config" / "jobs" / "media.yaml"
    before = path.read_text()
    unchanged = wizard(src, tmp_path, ENTER * 12, "edit", "media")
    assert unchanged.returncode == 0 and "No changes: the job file stays as it is." in unchanged.stdout
    assert path.read_text() == before

    keys = ENTER * 11 + DOWN + ENTER + ENTER + ENTER + "n"  # hourly; no commands; save; not installed
    edited = wizard(src, tmp_path, keys, "edit", "media")
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert "-schedule: 0 2 * * *" in edited.stdout and "+schedule: 0 * * * *" in edited.stdout
    run = src.run(
        [
            *run_argv(),
            "--config-dir",
            str(tmp_path / "config"),
            "--state-dir",
            str(tmp_path / "state"),
            "media",
        ],
        check=False,
    )
    ok(run)
    assert_same(src, "tank/media", dst, "backup/tank/media")


def test_run_now_shows_the_transfer_on_the_terminal_as_it_happens(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    assert wizard(src, tmp_path, to_dst(dst) + AFTER_CHECK + "n", "create").returncode == 0
    keys = ENTER + ENTER + ENTER  # no commands; run it; verify it (Yes: the default after a first run)
    ran = wizard(src, tmp_path, keys, "run", "media", terminal=True)
    shown = ran.stdout.replace("\r\n", "\n")
    assert ran.returncode == 0, shown
    assert "its progress and any failure show below as they happen" in shown
    # pv's own bar, drawn because the runner's stderr is this terminal (not captured): bytes, time, rate
    assert re.search(PV_BAR, shown), shown
    assert "ok: media finished" in shown
    # the verification, on the terminal too: the runner's own report
    assert "media: tank/media -> backup/tank/media: equal (1 snapshot by GUID up to @zsw_media_" in shown
    assert "ok: verified: the destination has the source's snapshots (same GUIDs)" in shown
    assert "  media: last run: ok (" in shown  # then its status line, read from the destination
    assert "backup/tank/media: lag " in shown
    assert_same(src, "tank/media", dst, "backup/tank/media")


def test_run_now_shows_a_failure_with_its_stage_and_host_when_it_happens(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    assert wizard(src, tmp_path, to_dst(dst) + AFTER_CHECK + "n", "create").returncode == 0
    dst.run(["zfs", "create", "-o", "quota=128K", "backup/tank"])  # the 300K stream cannot fit under it
    ran = wizard(src, tmp_path, ENTER + ENTER, "run", "media", terminal=True)
    shown = ran.stdout.replace("\r\n", "\n")
    assert ran.returncode == 1, shown
    # the runner, as it failed: the stage and its host, right under the progress line
    failed = f"\nfailed: tank/media -> backup/tank/media: stage 'zfs receive' failed on root@{dst.address} (exit 1)"
    live = shown.index(failed)
    assert re.search(PV_BAR, shown[:live]) and "cannot receive new filesystem stream: out of space" in shown
    assert live < shown.index(
        "ended with exit status 1 (its messages are above; the log: zfs-sync-wizard logs media)"
    )
