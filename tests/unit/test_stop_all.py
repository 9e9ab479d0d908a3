"""Executor.stop_all: the main thread stops pipelines that other threads run
(signals reach only the main thread), and no new one starts after it."""

from __future__ import annotations

import threading
import time

import pytest

from zfs_sync_wizard.commands import pipeline as pl
from zfs_sync_wizard.errors import Interrupted
from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.running import execute

pytestmark = pytest.mark.timeout(30)
LOCAL = Endpoint()


def slow_pipeline(marker) -> list:
    """A send that runs 20 s unless killed, and a receiver that says it started."""
    return [
        pl.Stage("zfs send", ("sleep", "20"), LOCAL),
        pl.Stage("zfs receive", ("sh", "-c", f"touch {marker}; cat"), LOCAL),
    ]


def in_thread(call) -> tuple[threading.Thread, list]:
    raised: list = []

    def run():
        try:
            call()
        except BaseException as exc:  # what the worker thread saw
            raised.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, raised


def wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.02)


def test_stop_all_kills_the_pipelines_of_every_thread_and_each_raises_interrupted(tmp_path):
    ex = execute.Executor()
    markers = [tmp_path / f"started{i}" for i in range(3)]
    workers = [in_thread(lambda m=m: ex.pipeline(slow_pipeline(m), label=m.name)) for m in markers]
    wait_for(lambda: all(m.exists() for m in markers))
    started = time.monotonic()
    ex.stop_all()
    for thread, raised in workers:
        thread.join(10)
        assert not thread.is_alive()
        assert len(raised) == 1 and isinstance(raised[0], Interrupted)
        assert "the next run continues from here" in str(raised[0])
    assert time.monotonic() - started < 5  # killed, not waited for
    assert not ex._running  # nothing left registered


def test_after_stop_all_no_pipeline_starts(tmp_path):
    ex = execute.Executor()
    ex.stop_all()
    marker = tmp_path / "started"
    with pytest.raises(Interrupted):
        ex.pipeline(slow_pipeline(marker))
    assert not marker.exists()


def test_a_pipeline_that_ends_normally_is_unaffected_and_unregistered(tmp_path):
    ex = execute.Executor()
    out = tmp_path / "out"
    ex.pipeline(
        [
            pl.Stage("zfs send", ("printf", "data"), LOCAL),
            pl.Stage("zfs receive", ("sh", "-c", f"cat > {out}"), LOCAL),
        ]
    )
    assert out.read_text() == "data"
    assert not ex._running


def test_pause_waits_unless_stopped():
    ex = execute.Executor()
    started = time.monotonic()
    ex.pause(0.2)
    assert time.monotonic() - started >= 0.2
    thread, raised = in_thread(lambda: ex.pause(20))  # a retry's delay in a worker thread
    time.sleep(0.1)
    ex.stop_all()
    thread.join(5)
    assert not thread.is_alive() and isinstance(raised[0], Interrupted)
