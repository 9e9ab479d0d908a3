"""The wizard's `logs NAME`: recent runs to pick from, each run's log lines
with its errors highlighted."""

from __future__ import annotations

import json

import pytest

from zfs_sync_wizard.cli import wizard as cli

from .conftest import DOWN, ENTER, drive, output

OK_RUN, FAILED_RUN = "20240507T190000-10", "20240507T200000-11"
LOG = f"""\
2024-05-07 19:00:00,001 media {OK_RUN} INFO run started (zfs-sync-run 0.1.0)
2024-05-07 19:00:01,000 media {OK_RUN} DEBUG pipeline: zfs send tank/media@a | pv | ssh ...
2024-05-07 19:00:02,002 media {OK_RUN} INFO run end: ok (exit 0), 1.0 MiB sent in 2.0 s
2024-05-07 20:00:00,001 media {FAILED_RUN} INFO run started (zfs-sync-run 0.1.0)
2024-05-07 20:00:02,000 media {FAILED_RUN} ERROR stage 'zfs receive' failed on dst (exit 1): zfs receive x
2024-05-07 20:00:02,000 media {FAILED_RUN} ERROR   cannot receive: out of space
2024-05-07 20:00:02,001 media {FAILED_RUN} WARNING media: something to know
2024-05-07 20:00:02,002 media {FAILED_RUN} INFO run end: failed (exit 1), 0 Bytes sent in 2.0 s
"""


def _write(ctx, log: str = LOG) -> None:
    (ctx.state_dir / "logs").mkdir(parents=True)
    (ctx.state_dir / "logs" / "media.log").write_text(log)
    runs = ctx.state_dir / "runs"
    runs.mkdir()
    history = [
        {"id": "20240507T180000-9", "start": "2024-05-07T18:00:00+02:00", "result": "ok", "bytes": 4096},
        {"id": OK_RUN, "start": "2024-05-07T19:00:00+02:00", "result": "ok", "bytes": 1 << 20},
        {
            "id": FAILED_RUN,
            "start": "2024-05-07T20:00:00+02:00",
            "end": "2024-05-07T20:00:02+02:00",
            "result": "failed",
            "bytes": 0,
            "errors": ["stage 'zfs receive' failed on dst (exit 1): zfs receive x"],
        },
    ]
    (runs / "media.jsonl").write_text("".join(json.dumps(r) + "\n" for r in history))
    (runs / "media.json").write_text(json.dumps(history[-1]))


@pytest.mark.timeout(20)
def test_logs_lists_recent_runs_and_shows_the_one_picked_with_errors_in_red(ctx):
    _write(ctx)
    ctx.ui.color = True
    # the newest run (failed), then the one before (ok), then Done
    keys = ENTER + DOWN + ENTER + DOWN + DOWN + DOWN + ENTER
    assert drive(keys, lambda: cli.dispatch(ctx, "logs", "media")) == 0
    shown = output(ctx)
    assert "media: last run: failed (an hour ago, took 2s)" in shown
    assert "== media: run of 2024-05-07 20:00:00  failed        0 Bytes sent ==" in shown
    red = "\x1b[1;31m2024-05-07 20:00:02,000 media 20240507T200000-11 ERROR   cannot receive: out of space\x1b[0m"
    assert red in shown
    assert "\x1b[33m2024-05-07 20:00:02,001 media 20240507T200000-11 WARNING media: something" in shown
    assert "== media: run of 2024-05-07 19:00:00  ok            1.0 MiB sent ==" in shown
    ok_part = shown.split("run of 2024-05-07 19:00:00")[1]
    assert "run end: ok (exit 0), 1.0 MiB sent in 2.0 s" in ok_part and "\x1b[1;31m" not in ok_part


@pytest.mark.timeout(20)
def test_a_run_whose_lines_were_rotated_away_says_so(ctx):
    _write(ctx)
    keys = DOWN + DOWN + ENTER + DOWN + DOWN + DOWN + ENTER  # the oldest run, then Done
    assert drive(keys, lambda: cli.dispatch(ctx, "logs", "media")) == 0
    shown = output(ctx)
    assert "== media: run of 2024-05-07 18:00:00  ok            4.0 KiB sent ==" in shown
    assert "its log lines are no longer in the log (rotated away: logs.max_bytes, logs.keep)" in shown
    assert "\x1b[" not in shown  # no colors where the output is not a terminal


def test_logs_without_any_run(ctx):
    assert cli.dispatch(ctx, "logs", "media") == 0
    shown = output(ctx)
    assert "media: last run: never" in shown and "no log yet" in shown
