"""The job's log: rotation bounds, line format and reading runs back; the
bounded run history; progress lines from pv's numeric output."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from zfs_sync_wizard.commands import pipeline as pl
from zfs_sync_wizard.running import history, logfile, progress

P = Path("/s/logs/media.log")


@pytest.mark.parametrize(
    "text, expected",
    [("1", 1), ("512k", 512 << 10), ("1M", 1 << 20), ("2g", 2 << 30), ("64K", 64 << 10)],
)
def test_parse_size(text, expected):
    assert logfile.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "0", "1T", "1.5M", "-1", "M"])
def test_parse_size_refuses(text):
    with pytest.raises(ValueError):
        logfile.parse_size(text)


@pytest.mark.parametrize(
    "keep, moves",
    [
        (1, [("media.log", None)]),
        (2, [("media.log.1", None), ("media.log", "media.log.1")]),
        (
            4,
            [
                ("media.log.3", None),
                ("media.log.2", "media.log.3"),
                ("media.log.1", "media.log.2"),
                ("media.log", "media.log.1"),
            ],
        ),
    ],
)
def test_rotation_drops_the_oldest_then_shifts_each_file_up(keep, moves):
    got = [(a.name, b.name if b else None) for a, b in logfile.rotation(P, keep)]
    assert got == moves


LOG = """\
2024-05-07 21:00:00,001 media 20240507T210000-10 INFO run started (zfs-sync-run 0.1.0)
2024-05-07 21:00:00,101 media 20240507T210000-10 DEBUG zfs list -H tank  (exit 0, 0.05 s)
2024-05-07 21:00:01,000 media 20240507T210100-11 INFO run started (zfs-sync-run 0.1.0)
2024-05-07 21:00:01,001 media 20240507T210100-11 ERROR job media is already running (pid 10); skipped
2024-05-07 21:00:01,002 media 20240507T210100-11 INFO run end: skipped (exit 3), 0 Bytes sent in 0.0 s
an older version's line without a run id
2024-05-07 21:00:02,000 media 20240507T210000-10 ERROR stage 'zfs receive' failed on dst (exit 1): zfs receive x
2024-05-07 21:00:02,000 media 20240507T210000-10 ERROR   cannot receive: out of space
2024-05-07 21:00:02,001 media 20240507T210000-10 WARNING media: something to know
2024-05-07 21:00:02,002 media 20240507T210000-10 INFO run end: failed (exit 1), 1.0 MiB sent in 2.0 s
"""


def test_runs_are_told_apart_by_their_id_even_when_interleaved():
    runs = logfile.runs(logfile.parse(LOG.splitlines()))
    assert [r.id for r in runs] == ["20240507T210000-10", "20240507T210100-11"]
    first, skipped = runs
    assert len(first.lines) == 6 and first.result == "failed" and skipped.result == "skipped"
    assert [line.message for line in first.errors] == [
        "stage 'zfs receive' failed on dst (exit 1): zfs receive x",
        "  cannot receive: out of space",
    ]
    assert first.lines[4].is_warning and first.started == "2024-05-07 21:00:00,001"


@pytest.mark.parametrize(
    "results, latest",
    [
        ([], None),
        (["ok"], 0),
        (["ok", None], 1),  # still running
        (["ok", "skipped"], 0),  # a skipped run is not the latest run
        (["skipped"], None),
        (["failed", "skipped", "ok", "skipped"], 2),
    ],
)
def test_latest_run_skips_skipped_runs(results, latest):
    runs = []
    for i, result in enumerate(results):
        run = logfile.Run(str(i), [logfile.Line("t", str(i), "INFO", logfile.START, "")])
        if result:
            run.lines.append(logfile.Line("t", str(i), "INFO", f"{logfile.END}{result} (exit 0)", ""))
        runs.append(run)
    found = logfile.latest(runs)
    assert (found.id if found else None) == (None if latest is None else str(latest))


def _logger(path: Path, run: str, max_bytes: int, keep: int) -> logging.Logger:
    logger = logging.getLogger(f"test-logs-{run}-{id(path)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logfile.handler(path, "media", run, {"max_bytes": str(max_bytes), "keep": keep}))
    return logger


def _close(logger: logging.Logger) -> None:
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()


@pytest.mark.parametrize("max_bytes, keep, lines", [(1024, 3, 200), (300, 1, 50), (4096, 5, 2000)])
def test_rotation_keeps_at_most_keep_files_each_at_most_max_bytes(tmp_path, max_bytes, keep, lines):
    logger = _logger(tmp_path, "r1", max_bytes, keep)
    for i in range(lines):
        logger.info("line %d of a run\nits second line", i)
    _close(logger)
    files = sorted((tmp_path / "logs").glob("media.log*"))
    assert len(files) == keep
    assert all(f.stat().st_size <= max_bytes for f in files)
    newest = (tmp_path / "logs" / "media.log").read_text().splitlines()
    assert newest[-1].endswith("r1 INFO its second line") and f"line {lines - 1} of a run" in newest[-2]
    assert all(logfile.parse([line]) for line in newest), "every line is stamped"


def test_two_writers_rotate_one_log_without_losing_or_repeating_lines(tmp_path):
    """Two processes (two handlers, two open files, one flock) writing one job's log at once."""
    a, b = _logger(tmp_path, "a", 2048, 1000), _logger(tmp_path, "b", 2048, 1000)

    def write(logger, n):
        for i in range(n):
            logger.info("message %d", i)

    threads = [threading.Thread(target=write, args=(lg, 300)) for lg in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _close(a)
    _close(b)
    runs = logfile.read(tmp_path, "media", 1000)
    assert {r.id: [line.message for line in r.lines] for r in runs} == {
        run: [f"message {i}" for i in range(300)] for run in ("a", "b")
    }
    assert all(f.stat().st_size <= 2048 for f in (tmp_path / "logs").glob("media.log*"))


@pytest.mark.parametrize("lines, keep, kept", [(3, 5, 3), (5, 5, 5), (6, 5, 5), (12, 1, 1)])
def test_history_keeps_the_last_runs(tmp_path, lines, keep, kept):
    for i in range(lines):
        history.append(tmp_path, "media", {"n": i}, keep)
    stored = [json.loads(line) for line in (tmp_path / "media.jsonl").read_text().splitlines()]
    assert stored == [{"n": i} for i in range(lines - kept, lines)]
    assert [r["n"] for r in history.recent(tmp_path, "media", 2)] == [lines - 1, lines - 2][:kept]
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    "count, size, rate, expected",
    [
        (0, None, 0, "progress tank/a: 0 Bytes, 0 Bytes/s"),
        (1 << 20, None, 512 << 10, "progress tank/a: 1.0 MiB, 512.0 KiB/s"),
        (1 << 20, 4 << 20, 1 << 20, "progress tank/a: 1.0 MiB of 4.0 MiB (25%), 1.0 MiB/s, 0:00:03 left"),
        (3 << 30, 4 << 30, 1 << 20, "progress tank/a: 3.0 GiB of 4.0 GiB (75%), 1.0 MiB/s, 0:17:04 left"),
        (5 << 20, 4 << 20, 1 << 20, "progress tank/a: 5.0 MiB of 4.0 MiB (100%), 1.0 MiB/s"),  # estimate low
        (1 << 20, 4 << 20, 0, "progress tank/a: 1.0 MiB of 4.0 MiB (25%), 0 Bytes/s"),  # stalled
    ],
)
def test_progress_line(count, size, rate, expected):
    assert progress.line("tank/a", count, size, rate) == expected


def test_counter_logs_every_interval_of_pvs_clock_and_keeps_the_count():
    said = []
    counter = progress.Counter("tank/a", 1000, 10, said.append)
    for line in ["0.5 0", "5.0 100", "pv: write failed", "10.0 200", "15.0 300", "20.1 500", "21.0 1000"]:
        counter(line)
    assert counter.bytes == 1000
    assert said == [
        "progress tank/a: 200 Bytes of 1000 Bytes (20%), 20 Bytes/s, 0:00:40 left",
        "progress tank/a: 500 Bytes of 1000 Bytes (50%), 29 Bytes/s, 0:00:17 left",
    ]


def test_a_terminal_gets_pvs_own_bar_beside_the_counting_pv():
    from zfs_sync_wizard.jobs.endpoint import Endpoint

    dst = Endpoint("backup01", "root")
    settings = pl.PipelineSettings("zstd", "128M", None, 4096, bar=True)
    stages = pl.build(["zfs", "send", "t@a"], ["zfs", "receive", "b"], Endpoint(), dst, settings)
    names = [s.name for s in stages]
    assert names[:3] == ["zfs send", "pv", pl.BAR]
    assert stages[2].argv == ("pv", "-f", "-p", "-t", "-e", "-r", "-b", "-s", "4096")
    plain = pl.build(["zfs", "send", "t@a"], ["zfs", "receive", "b"], Endpoint(), dst, settings.__class__())
    assert pl.BAR not in [s.name for s in plain]
