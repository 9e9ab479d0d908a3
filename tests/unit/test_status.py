"""--status facts and rendering, the Prometheus textfile, the lock holder (pure or local files)."""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from zfs_sync_wizard.jobs.job import from_mapping
from zfs_sync_wizard.operations import facts, metrics, status
from zfs_sync_wizard.planning import inventory
from zfs_sync_wizard.running import lock
from zfs_sync_wizard.schedule.cron import Entry

TZ = timezone(timedelta(hours=2))
NOW = datetime(2024, 5, 7, 21, 0, tzinfo=TZ)
T = int(NOW.timestamp())
JOB = from_mapping(
    {"source": {"dataset": "tank/m", "recursive": True}, "destination": {"host": "b", "dataset": "bk/m"}},
    "media",
    "/etc/jobs/media.yaml",
)


def inv(*rows):
    lines = []
    for name, created in rows:
        lines.append(f"{name}\tguid\t{abs(hash(name))}")
        if "@" in name:
            lines += [f"{name}\tcreatetxg\t{created}", f"{name}\tcreation\t{created}"]
    return inventory.parse("\n".join(lines) + "\n")


SRC = inv(("tank/m", 0), ("tank/m@s1", T - 7200), ("tank/m@s2", T - 600), ("tank/m/new", 0))
DST = inv(("bk/m", 0), ("bk/m@s1", T - 7200), ("bk/m/old", 0), ("bk/m/old@o", T - 86400))


def test_one_row_per_destination_dataset_with_both_sides_newest_and_the_lag():
    rows = facts.datasets(JOB, SRC, DST, T)
    assert [(r.destination, r.source, r.lag) for r in rows] == [
        ("bk/m", "tank/m", 7200),
        ("bk/m/new", "tank/m/new", None),  # not replicated yet
        ("bk/m/old", None, 86400),  # gone from the source
    ]
    assert rows[0].source_newest == facts.Newest("s2", T - 600)
    assert rows[0].destination_newest == facts.Newest("s1", T - 7200)


def test_an_unreadable_destination_is_unknown_not_empty():
    rows = facts.datasets(JOB, SRC, None, T)
    assert [(r.lag, r.destination_read) for r in rows] == [(None, False), (None, False)]
    assert status.dataset_text(rows[0], NOW) == (
        "bk/m: lag unknown; newest on source @s2 (10 minutes ago), on destination unknown"
    )


@pytest.mark.parametrize(
    "entries, expected",
    [
        ({"media": Entry("media", "0 * * * *", "x")}, ("0 * * * *", True, "2024-05-07T22:00:00+02:00")),
        ({}, (None, False, None)),  # no crontab line: cron never runs it
        (None, (None, None, None)),  # crontab unreadable: the job file's schedule (none here)
    ],
)
def test_next_run_comes_from_the_crontab_line(entries, expected):
    s = facts.schedule_of(JOB, entries, NOW)
    assert (s.expression, s.in_crontab, s.next_run.isoformat() if s.next_run else None) == expected


def job_facts(**over) -> facts.JobFacts:
    run = {
        "start": "2024-05-07T18:00:00+02:00",
        "end": "2024-05-07T18:02:05+02:00",
        "result": "failed",
        "exit_code": 1,
        "bytes": 3 << 20,
        "held": ["tank/m@s1"],
        "errors": ["stage 'zfs receive' failed"],
    }
    values = dict(
        job=JOB,
        last_run=run,
        last_success="2024-05-06T02:00:00+02:00",
        running=lock.Holder(4242, "2024-05-07T20:59:00+02:00"),
        schedule=facts.Schedule("0 2 * * *", True, datetime(2024, 5, 8, 2, 0, tzinfo=TZ)),
        datasets=facts.datasets(JOB, SRC, DST, T)[:1],
    )
    values.update(over)
    return facts.JobFacts(**values)


def test_status_table_and_details():
    text = status.render([job_facts()], NOW)
    head, row, *details = text.splitlines()
    assert head.split("  ")[0] == "JOB" and "LAST SUCCESS" in head and "NEXT RUN" in head
    cells = [c.strip() for c in row.split("  ") if c.strip()]
    assert cells == [
        "media",
        "3 hours ago",
        "failed",
        "2m 5s",
        "3.0 MiB",
        "a day ago",
        "2h",
        "in 5 hours",
        "pid 4242 since 2024-05-07T20:59:00+02:00",
    ]
    assert (
        details[0]
        == "media: bk/m: lag 2h; newest on source @s2 (10 minutes ago), on destination @s1 (2 hours ago)"
    )
    assert details[1].startswith("media: tank/m@s1 is held (zfs hold zsw_media)")
    assert details[2] == "media: error: stage 'zfs receive' failed"


def test_status_of_a_job_never_run_nor_scheduled():
    f = job_facts(last_run=None, last_success=None, running=None, schedule=facts.Schedule(None, False, None))
    cells = [c.strip() for c in status.render([f], NOW).splitlines()[1].split("  ") if c.strip()]
    assert cells == ["media", "never", "-", "-", "-", "never", "2h", "not scheduled", "no"]


def test_status_json_shape():
    data = status.as_json([job_facts()], NOW)
    assert data["version"] == 1 and data["now"] == "2024-05-07T21:00:00+02:00"
    (job,) = data["jobs"]
    assert job == {
        "job": "media",
        "source": {"host": "localhost", "dataset": "tank/m"},
        "destination": {"host": "b", "dataset": "bk/m"},
        "last_run": {
            "start": "2024-05-07T18:00:00+02:00",
            "end": "2024-05-07T18:02:05+02:00",
            "result": "failed",
            "exit_code": 1,
            "duration_seconds": 125,
            "bytes": 3 << 20,
            "held": ["tank/m@s1"],
            "errors": ["stage 'zfs receive' failed"],
        },
        "last_success": "2024-05-06T02:00:00+02:00",
        "running": {"pid": 4242, "since": "2024-05-07T20:59:00+02:00"},
        "schedule": {"expression": "0 2 * * *", "in_crontab": True, "next_run": "2024-05-08T02:00:00+02:00"},
        "lag_seconds": 7200,
        "datasets": [
            {
                "source": "tank/m",
                "destination": "bk/m",
                "source_newest": {
                    "snapshot": "s2",
                    "created": job["datasets"][0]["source_newest"]["created"],
                },
                "destination_newest": {
                    "snapshot": "s1",
                    "created": job["datasets"][0]["destination_newest"]["created"],
                },
                "lag_seconds": 7200,
            }
        ],
        "problems": [],
    }
    created = datetime.fromisoformat(job["datasets"][0]["destination_newest"]["created"])
    assert int(created.timestamp()) == T - 7200


def test_last_success_is_read_from_the_run_history(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "media.jsonl").write_text(
        '{"result": "ok", "end": "A"}\n{"result": "nothing-to-do", "end": "B"}\n'
        '{"result": "failed", "end": "C"}\n{"result": "ok", "en'  # a line cut short by a crash
    )
    assert facts.last_success(tmp_path, "media") == "B"
    assert facts.last_success(tmp_path, "other") is None


EXPECTED_PROM = """\
# HELP zfs_sync_last_run_success 1 if the job's last run succeeded (ok or nothing to do), else 0
# TYPE zfs_sync_last_run_success gauge
zfs_sync_last_run_success{job="media"} 1
# HELP zfs_sync_last_run_exit_code exit status of the job's last run (zfs-sync-run(8))
# TYPE zfs_sync_last_run_exit_code gauge
zfs_sync_last_run_exit_code{job="media"} 0
# HELP zfs_sync_last_run_info the result of the job's last run, as a label
# TYPE zfs_sync_last_run_info gauge
zfs_sync_last_run_info{job="media",result="ok"} 1
# HELP zfs_sync_last_run_timestamp_seconds when the job's last run ended (Unix time)
# TYPE zfs_sync_last_run_timestamp_seconds gauge
zfs_sync_last_run_timestamp_seconds{job="media"} 1715097725
# HELP zfs_sync_last_success_timestamp_seconds when the job's last successful run ended
# TYPE zfs_sync_last_success_timestamp_seconds gauge
zfs_sync_last_success_timestamp_seconds{job="media"} 1715097725
# HELP zfs_sync_duration_seconds how long the job's last run took
# TYPE zfs_sync_duration_seconds gauge
zfs_sync_duration_seconds{job="media"} 125
# HELP zfs_sync_sent_bytes bytes the job's last run sent
# TYPE zfs_sync_sent_bytes gauge
zfs_sync_sent_bytes{job="media"} 1024
# HELP zfs_sync_lag_seconds age of the newest snapshot on the destination at the end of the run
# TYPE zfs_sync_lag_seconds gauge
zfs_sync_lag_seconds{job="media",dataset="bk/m"} 7200
zfs_sync_lag_seconds{job="media",dataset="bk/m \\"x\\\\"} 60
# HELP zfs_sync_newest_snapshot_timestamp_seconds creation time of the newest snapshot on the destination dataset (Unix time)
# TYPE zfs_sync_newest_snapshot_timestamp_seconds gauge
zfs_sync_newest_snapshot_timestamp_seconds{job="media",dataset="bk/m"} 1715101200
zfs_sync_newest_snapshot_timestamp_seconds{job="media",dataset="bk/m \\"x\\\\"} 1715108340
"""


def test_prometheus_textfile():
    record = {
        "start": "2024-05-07T18:00:00+02:00",
        "end": "2024-05-07T18:02:05+02:00",
        "result": "ok",
        "bytes": 1024,
    }
    newest = {"bk/m": T - 7200, 'bk/m "x\\': T - 60, "bk/m/empty": None}
    assert metrics.render("media", record, record["end"], newest, T) == EXPECTED_PROM


@pytest.mark.parametrize(
    "result, success, present, absent",
    [
        ("failed", None, ['zfs_sync_last_run_success{job="m"} 0', 'result="failed"'], ["last_success"]),
        ("interrupted", "2024-05-07T10:00:00+02:00", ["zfs_sync_last_success_timestamp_seconds"], ["lag"]),
    ],
)
def test_prometheus_textfile_after_a_failure(result, success, present, absent):
    text = metrics.render(
        "m", {"start": "2024-05-07T18:00:00+02:00", "result": result, "exit_code": 1}, success, {}, T
    )
    for fragment in present:
        assert fragment in text
    for fragment in absent:
        assert fragment not in text


def test_metrics_file_is_written_atomically_and_readable_by_node_exporter(tmp_path):
    job = from_mapping(
        {
            "source": {"dataset": "tank/m"},
            "destination": {"dataset": "bk/m"},
            "metrics": {"textfile_dir": str(tmp_path)},
        },
        "media",
        "/etc/jobs/media.yaml",
    )
    metrics.after_run(job, tmp_path, {"result": "ok", "start": "2024-05-07T18:00:00+02:00"}, DST, T)
    assert [p.name for p in tmp_path.iterdir()] == ["zfs_sync_media.prom"]
    path = tmp_path / "zfs_sync_media.prom"
    assert path.stat().st_mode & 0o777 == 0o644
    assert 'zfs_sync_lag_seconds{job="media",dataset="bk/m/old"} 86400' in path.read_text()


def test_lock_holder_is_read_without_taking_the_lock(tmp_path):
    path = tmp_path / "media.lock"
    assert lock.holder(path) is None  # no file
    with lock.Lock(path, "job media is already running"):
        found = lock.holder(path)
        assert found is not None and found.pid == os.getpid()
        assert datetime.fromisoformat(found.since).tzinfo is not None
    assert lock.holder(path) is None  # released: the file is emptied


def test_a_killed_runners_pid_left_in_the_file_is_not_a_holder(tmp_path):
    path = tmp_path / "media.lock"
    path.write_text(f"{os.getpid()} 2024-05-07T20:00:00+02:00\n")  # a pid that lives, but no flock
    assert lock.holder(path) is None
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert lock.holder(path) == lock.Holder(os.getpid(), "2024-05-07T20:00:00+02:00")
        # without the kernel's table, a live pid counts
        assert lock.holder(path, proc_locks=Path("/nonexistent")) is not None
    finally:
        os.close(fd)
