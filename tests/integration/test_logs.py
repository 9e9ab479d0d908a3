"""Logs on real zfs-fuse hosts: rotation keeps a job's log and run history
bounded, `--log` prints the latest run, and a slow transfer shows progress
(lines in the log without a terminal, pv's own bar on one)."""

from __future__ import annotations

import json
import re
import shlex

import pytest
import yaml

from .replication import ok, receive_held, run_argv, wait_until

pytestmark = pytest.mark.timeout(300)
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} media (\S+) (DEBUG|INFO|WARNING|ERROR) ")


def _settings(media, **logs) -> None:
    path = media.config / "jobs" / "media.yaml"
    job = yaml.safe_load(path.read_text())
    job["logs"] = logs
    path.write_text(yaml.safe_dump(job, sort_keys=False))


def test_rotation_keeps_the_log_and_the_run_history_bounded(hosts, media):
    _settings(media, max_bytes="4k", keep=3, runs=4)
    logs, runs = media.state / "logs", media.state / "runs"
    for i in range(7):
        hosts.src.write_random("tank/media", f"new-{i}.bin", 8 << 10)
        ok(media.run("media"))
        files = sorted(logs.glob("media.log*"))
        assert 1 <= len(files) <= 3, [f.name for f in files]
        assert all(f.stat().st_size <= 4096 for f in files), {f.name: f.stat().st_size for f in files}
        history = (runs / "media.jsonl").read_text().splitlines()
        assert len(history) == min(i + 1, 4)
    assert sorted(f.name for f in logs.glob("media.log*")) == ["media.log", "media.log.1", "media.log.2"]
    kept = [json.loads(line)["result"] for line in (runs / "media.jsonl").read_text().splitlines()]
    assert kept == ["ok"] * 4
    assert not list(runs.glob("*.tmp"))


def test_log_prints_the_latest_runs_commands(hosts, media):
    first = media.run("--log", "media")
    assert first.returncode == 0 and first.stderr == ""
    assert (
        first.stdout
        == f"media: no log yet ({media.state}/logs/media.log does not exist: the job has not run here)\n"
    )

    ok(media.run("media"))
    hosts.src.write_random("tank/media", "more.bin", 20 << 10)
    ok(media.run("media"))
    latest = json.loads((media.state / "runs" / "media.json").read_text())

    shown = media.run("--log", "media")
    assert shown.returncode == 0 and shown.stderr == ""
    lines = shown.stdout.splitlines()
    assert all(LINE.match(line) and LINE.match(line).group(1) == latest["id"] for line in lines), lines
    assert "run started (zfs-sync-run" in lines[0]
    assert re.search(r"INFO run end: ok \(exit 0\), .* sent in [0-9.]+ s$", lines[-1])
    sent = [line for line in lines if " DEBUG pipeline: zfs send -I tank/media@" in line]
    assert len(sent) == 1 and "| zfs receive -u backup/media" in sent[0]  # the incremental, not the full
    assert re.search(r"DEBUG pipeline done in [0-9.]+ s \(tank/media\)$", shown.stdout, re.M)
    assert re.search(
        rf"DEBUG \[root@{hosts.dst.address}\] zfs hold zsw_media backup/media@\S+  \(exit 0, [0-9.]+ s\)$",
        shown.stdout,
        re.M,
    )
    assert f"sent, {latest['bytes']} bytes" in shown.stdout


def test_a_failure_is_in_the_log_with_its_stage(hosts, media):
    used = int(hosts.dst.run(["zfs", "get", "-Hp", "-o", "value", "used", "backup"]).stdout)
    hosts.dst.run(["zfs", "set", f"quota={used + (64 << 10)}", "backup"])  # 200 KiB do not fit
    failed = media.run("media")
    assert failed.returncode == 1
    shown = media.run("--log", "media").stdout
    errors = [line for line in shown.splitlines() if " ERROR " in line]
    assert errors and "tank/media -> backup/media: stage 'zfs receive' failed on root@" in errors[0]
    assert re.search(
        r"DEBUG pipeline failed after [0-9.]+ s at stage 'zfs receive' \(tank/media\)$", shown, re.M
    )
    assert re.search(r"INFO run end: failed \(exit 1\)", shown)


def test_a_slow_transfer_shows_progress_lines_in_the_log(hosts, media):
    _settings(media, progress_interval=1)
    media.slow("media", "20k")  # ~10 s for 200 KiB
    log = media.state / "logs" / "media.log"
    with receive_held(hosts.dst) as release:  # the run is inside its transfer until released
        running = media.start("media")
        wait_until(hosts.src, f"grep -q ' INFO progress tank/media: ' {shlex.quote(str(log))}")
        assert running.thread.is_alive(), "the progress line came while the transfer ran"
        release()
        ok(running.wait())
    progress = [line for line in log.read_text().splitlines() if " INFO progress tank/media: " in line]
    shape = r"progress tank/media: \S+ \S+ of \S+ \S+ \(\d+%\), \S+ \S+/s, \d+:\d\d:\d\d left$"
    assert any(re.search(shape, line) for line in progress), progress  # pv's first tick may precede any byte


def test_on_a_terminal_pv_draws_its_own_bar(hosts, media):
    media.slow("media", "100k")
    command = shlex.join(
        run_argv() + ["--config-dir", str(media.config), "--state-dir", str(media.state), "media"]
    )
    shown = hosts.src.run(["script", "-qec", command, "/dev/null"], check=False, timeout=120, cwd="/")
    assert shown.returncode == 0, shown.stdout
    assert re.search(r"\d+:\d\d:\d\d \[ *\S+/s\] \[=*>? *\] +\d+%", shown.stdout), (
        shown.stdout
    )  # rate, bar, percent
    assert "ETA 0:00:0" in shown.stdout
