"""Live progress: a command run on the terminal, and the progress line drawn from pv's counts."""

from __future__ import annotations

import io
import os
import signal

import pytest

from zfs_sync_wizard.running import progress
from zfs_sync_wizard.running.execute import Executor


def test_attached_command_writes_to_the_terminal_and_returns_its_status(capfd):
    status = Executor().attached(["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"])
    assert status == 3
    seen = capfd.readouterr()
    assert seen.out == "to-stdout\n" and seen.err == "to-stderr\n"  # not captured by the wizard


def test_attached_command_sees_the_terminal_itself(tmp_path):
    # the runner draws pv's line only when its stderr is a terminal: the same fd 2 as ours
    out = tmp_path / "fd2"
    assert Executor().attached(["sh", "-c", f"readlink /proc/self/fd/2 > {out}"]) == 0
    assert out.read_text().strip() == os.readlink("/proc/self/fd/2")


def test_attached_command_killed_by_a_signal_and_ctrl_c_restored():
    before = signal.getsignal(signal.SIGINT)
    assert Executor().attached(["sh", "-c", "kill -TERM $$"]) == -signal.SIGTERM
    assert signal.getsignal(signal.SIGINT) is before


MIB = 1 << 20


@pytest.mark.parametrize(
    "count, elapsed, size, line",
    [
        (12 * MIB, 3.0, 40 * MIB, "tank/media: 12.0 MiB of 40.0 MiB (30%), 4.0 MiB/s, 7 s left"),
        (12 * MIB, 3.0, None, "tank/media: 12.0 MiB sent, 4.0 MiB/s"),
        (0, 0.0, 40 * MIB, "tank/media: 0 Bytes of 40.0 MiB (0%), -/s"),
        (MIB, 1.0, 601 * MIB, "tank/media: 1.0 MiB of 601.0 MiB (0%), 1.0 MiB/s, 10 min 00 s left"),
        (MIB, 1.0, 7201 * MIB, "tank/media: 1.0 MiB of 7.0 GiB (0%), 1.0 MiB/s, 2 h 00 min left"),
        (50 * MIB, 5.0, 40 * MIB, "tank/media: 50.0 MiB of 40.0 MiB (100%), 10.0 MiB/s"),  # estimate too low
    ],
)
def test_progress_line(count, elapsed, size, line):
    assert progress.line_of("tank/media", count, elapsed, size) == line


def test_failures_show_when_they_happen_only_on_a_terminal():
    out = io.StringIO()
    progress.Progress(True, out).note("failed: tank/a -> backup/a: stage 'ssh to b' failed")
    progress.Progress(False, out).note("not shown")
    assert out.getvalue() == "failed: tank/a -> backup/a: stage 'ssh to b' failed\n"
