"""Live progress: a command run on the terminal, and failures shown as they happen."""

from __future__ import annotations

import io
import os
import signal

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


def test_failures_show_when_they_happen_only_on_a_terminal():
    out = io.StringIO()
    progress.Progress(True, out=out).note("failed: tank/a -> backup/a: stage 'ssh to b' failed")
    progress.Progress(False, out=out).note("not shown")
    assert out.getvalue() == "failed: tank/a -> backup/a: stage 'ssh to b' failed\n"
