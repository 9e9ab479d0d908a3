"""--status, --monitor and the Prometheus textfile after real runs on zfs-fuse hosts."""

from __future__ import annotations

import json
import time

import pytest

from tests.wizard.driver import private_crontab  # noqa: F401 (a fixture)

from .replication import ok, receive_held

# a test's crontab is its own: --status reads it, and this machine's is never touched
pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("private_crontab")]

PLUGIN_LINE = r"^ZFS-SYNC (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+( \| [^\n]+)?\n$"


def status_json(product, *names: str) -> dict:
    result = product.run("--status", "--json", *names)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def monitor(product, *args: str):
    result = product.run("--monitor", *args)
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1, result.stdout
    return result


def poll(call, until, timeout: float = 60):
    """Call `call()` until `until(result)` holds; every result seen, in order."""
    seen, deadline = [call()], time.monotonic() + timeout
    while not until(seen[-1]):
        assert time.monotonic() < deadline, f"not reached after {timeout} s: {seen[-1]}"
        time.sleep(0.2)
        seen.append(call())
    return seen


def test_status_after_real_runs_shows_lag_from_the_destination_and_the_next_run(hosts, media):
    src, dst = hosts.src, hosts.dst
    ok(media.run("media"))
    src.write_random("tank/media", "more.bin", 64 << 10)
    ok(media.run("media"))
    line = "17 3 * * * /usr/bin/true # zfs-sync-wizard:job=media\n"
    src.run(["crontab", "-"], input=line)

    data = status_json(media)  # no name: every job
    assert data["version"] == 1
    (job,) = data["jobs"]
    assert job["job"] == "media"
    assert job["destination"] == {"host": f"root@{dst.address}", "dataset": "backup/media"}
    run = job["last_run"]
    assert run["result"] == "ok" and run["exit_code"] == 0 and run["bytes"] > 64 << 10
    assert run["duration_seconds"] >= 0 and run["held"] and run["errors"] == []
    assert job["last_success"] == run["end"]
    assert job["running"] is None
    assert job["schedule"]["expression"] == "17 3 * * *" and job["schedule"]["in_crontab"] is True
    assert job["schedule"]["next_run"].split("T")[1].startswith("03:17:00")
    (ds,) = job["datasets"]
    newest = list(dst.snapshots("backup/media"))[-1]
    assert ds["destination"] == "backup/media" and ds["source"] == "tank/media"
    assert ds["destination_newest"]["snapshot"] == newest == ds["source_newest"]["snapshot"]
    assert 0 <= ds["lag_seconds"] < 60 and job["lag_seconds"] == ds["lag_seconds"]
    assert job["problems"] == []

    # the lag is the destination's own: a snapshot destroyed there makes it older
    dst.run(["zfs", "release", "zsw_media", f"backup/media@{newest}"])
    dst.run(["zfs", "destroy", f"backup/media@{newest}"])
    (job,) = status_json(media, "media")["jobs"]
    assert job["datasets"][0]["destination_newest"] is None and job["lag_seconds"] is None

    text = media.run("--status", "media")
    assert text.returncode == 0, text.stderr
    head, row, *details = text.stdout.splitlines()
    assert head.split()[:3] == ["JOB", "LAST", "RUN"]
    assert row.startswith("media ") and " ok " in row and " never " in row  # lag: never on the destination
    assert "backup/media: no snapshot on the destination; newest on source @" in details[0]


def test_status_shows_a_run_in_progress(hosts, media):
    with receive_held(hosts.dst) as release:
        running, pid = media.start_locked("media")
        (job,) = status_json(media, "media")["jobs"]
        assert job["running"]["pid"] == pid and job["running"]["since"]
        release()
        assert running.wait().returncode == 0
    (job,) = status_json(media, "media")["jobs"]
    assert job["running"] is None


def test_a_job_whose_schedule_stopped_turns_warning_then_critical(hosts, media):
    ok(media.run("media"))
    fine = monitor(media, "media", "--warn", "1h", "--crit", "2h")
    assert fine.returncode == 0
    assert fine.stdout.startswith("ZFS-SYNC OK - lag ") and "(media: backup/media) | lag=" in fine.stdout
    assert fine.stdout.endswith(";3600;7200;0\n"), fine.stdout  # perfdata with both thresholds
    # the lag only grows while no run comes: wait until it is past 3 s, then each state is certain
    poll(lambda: status_json(media, "media")["jobs"][0]["lag_seconds"], lambda lag: lag >= 3)
    warning = monitor(media, "media", "--warn", "1s", "--crit", "1h")
    assert warning.returncode == 1
    assert warning.stdout.startswith("ZFS-SYNC WARNING - media: backup/media lag ")
    assert "> warn 1s | lag=" in warning.stdout and warning.stdout.endswith(";1;3600;0\n")
    critical = monitor(media, "media", "--warn", "1s", "--crit", "2s")
    assert critical.returncode == 2
    assert critical.stdout.startswith("ZFS-SYNC CRITICAL - media: backup/media lag ")
    # the run record still says the last run succeeded: the lag comes from the destination
    (job,) = status_json(media, "media")["jobs"]
    assert job["last_run"]["result"] == "ok" and job["lag_seconds"] >= 3
    before = job["lag_seconds"]

    started = time.time()
    ok(media.run("media"))  # a run brings it back: the lag is now that of its own snapshot
    (job,) = status_json(media, "media")["jobs"]
    elapsed = time.time() - started
    assert (
        job["lag_seconds"] <= elapsed + 1 < before + elapsed
    )  # the old snapshot's would be before + elapsed


def test_monitor_exit_codes_unknown_and_critical(hosts, media):
    # never replicated: nothing on the destination
    never = monitor(media, "media")
    assert never.returncode == 2
    assert (
        never.stdout
        == "ZFS-SYNC CRITICAL - media: the destination dataset does not exist (never replicated)\n"
    )
    ok(media.run("media"))
    assert monitor(media, "media").returncode == 0  # default thresholds 26h / 50h

    bad_threshold = monitor(media, "media", "--warn", "1 day")
    assert bad_threshold.returncode == 3
    assert bad_threshold.stdout.startswith("ZFS-SYNC UNKNOWN - --warn: '1 day' is not a duration such as 90m")

    # a destination that does not answer (nothing listens on port 1)
    media.job(
        "away",
        {
            "source": {"dataset": "tank/media"},
            "destination": {"dataset": "backup/away", "host": f"root@{hosts.dst.address}", "port": 1},
        },
    )
    away = monitor(media)  # every job: the worst decides, each problem named
    assert away.returncode == 3
    assert away.stdout.startswith(
        f"ZFS-SYNC UNKNOWN - away: cannot read the destination root@{hosts.dst.address}:1:backup/away: ssh to"
    )
    assert "| lag=" in away.stdout and " lag_media=" in away.stdout  # the jobs still known are measured

    # an invalid job file
    (media.config / "jobs" / "broken.yaml").write_text("source:\n  dataset: tank/media\n")
    broken = monitor(media, "broken")
    assert broken.returncode == 3
    assert (
        broken.stdout
        == f"ZFS-SYNC UNKNOWN - {media.config}/jobs/broken.yaml: destination.dataset: missing (required)\n"
    )


def test_prometheus_textfile_after_each_run(hosts, media, tmp_path):
    textfiles = tmp_path / "node-exporter"
    textfiles.mkdir()
    job = media.config / "jobs" / "media.yaml"
    job.write_text(job.read_text() + f"metrics:\n  textfile_dir: {textfiles}\n")
    ok(media.run("media"))
    assert [p.name for p in textfiles.iterdir()] == ["zfs_sync_media.prom"]  # no temporary file left
    prom = textfiles / "zfs_sync_media.prom"
    assert prom.stat().st_mode & 0o777 == 0o644
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in prom.read_text().splitlines()
        if not line.startswith("#")
    }
    run = json.loads((media.state / "runs" / "media.json").read_text())
    assert values['zfs_sync_last_run_success{job="media"}'] == 1
    assert values['zfs_sync_last_run_info{job="media",result="ok"}'] == 1
    assert values['zfs_sync_sent_bytes{job="media"}'] == run["bytes"] > 0
    assert values['zfs_sync_duration_seconds{job="media"}'] >= 0
    assert values['zfs_sync_last_success_timestamp_seconds{job="media"}'] > time.time() - 120
    assert 0 <= values['zfs_sync_lag_seconds{job="media",dataset="backup/media"}'] < 60
    newest = values['zfs_sync_newest_snapshot_timestamp_seconds{job="media",dataset="backup/media"}']
    assert abs(newest - time.time()) < 120

    # a failed run rewrites it: failure, and the last success kept
    hosts.dst.run(["zfs", "snapshot", "backup/media@made-on-backup"])
    hosts.src.write_random("tank/media", "new.bin", 10 << 10)
    assert media.run("media").returncode == 1
    text = prom.read_text()
    assert 'zfs_sync_last_run_success{job="media"} 0' in text
    assert 'zfs_sync_last_run_info{job="media",result="failed"} 1' in text
    assert "zfs_sync_last_success_timestamp_seconds" in text
