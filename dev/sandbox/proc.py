"""The one place where the sandbox starts, waits for and signals processes.

This is test and demo infrastructure, so it uses plain ``subprocess``; the
product's own execution path lives elsewhere and is not used here.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Union

# Commands the sandbox runs on the machine itself get a fixed PATH so that the
# caller's environment (pyenv shims, virtualenvs) cannot change which tools run.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Input = Union[str, bytes, None]


class SandboxError(RuntimeError):
    """Something in the sandbox itself went wrong (not in the code under test)."""


class CommandError(SandboxError):
    """A command exited non-zero (or timed out) where success was required."""

    def __init__(
        self,
        where: str,
        argv: Sequence[str],
        returncode: int | None,
        stdout: str,
        stderr: str,
    ) -> None:
        self.where = where
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        status = "timed out" if returncode is None else f"exited {returncode}"
        detail = stderr.strip() or stdout.strip() or "(no output)"
        super().__init__(f"on {where}: `{shlex.join(self.argv)}` {status}:\n{_tail(detail)}")


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _decode(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def run(
    argv: Sequence[str],
    *,
    where: str = "local",
    check: bool = True,
    input: Input = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 60,
    shown: Sequence[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to completion with captured, decoded stdout and stderr.

    ``where`` and ``shown`` (the command without wrappers such as nsenter)
    only label error messages. The command gets its own session so
    that a timeout kills the whole process group, not just the first process.
    """
    data = input.encode() if isinstance(input, str) else input
    child = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL if data is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"},
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        _killpg(child.pid)
        out, err = _collect(child)
        raise CommandError(where, shown or argv, None, _decode(out), _decode(err)) from None
    except BaseException:
        # KeyboardInterrupt or a pytest-timeout signal: don't leave it running.
        _killpg(child.pid)
        child.wait()
        raise
    result = subprocess.CompletedProcess(list(argv), child.returncode, _decode(out), _decode(err))
    if check and result.returncode != 0:
        raise CommandError(where, shown or argv, result.returncode, result.stdout, result.stderr)
    return result


def _collect(child: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    # A daemon that left our process group may still hold the pipes open.
    try:
        return child.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        child.wait()
        return b"", b""


def run_parallel(calls: Sequence[Callable[[], object]]) -> list[object]:
    """Run independent calls concurrently (e.g. booting both hosts).

    Every call finishes before the first error is raised, so nothing is still
    running behind the caller's back when it starts cleaning up.
    """
    with ThreadPoolExecutor(max_workers=max(1, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return [f.result() for f in futures]


def spawn(argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a daemon in the foreground, as our child, output to ``log``.

    As our child it is reaped by ``stop`` (this machine's init reaps orphans
    only now and then, so daemonized ones linger as zombies). Its own session
    keeps a Ctrl-C meant for the owner from reaching it.
    """
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"},
            start_new_session=True,
        )


def reap(child: subprocess.Popen[bytes], *, timeout: float = 5) -> None:
    """Kill ``child`` if it still runs, and collect its exit status."""
    if child.poll() is None:
        child.kill()
    child.wait(timeout)


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate`` until it is true; raise SandboxError naming ``what``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SandboxError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs; a zombie counts as dead (our init may not reap)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid``: tells a live owner from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def command_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def processes_in(ns_files: Sequence[Path]) -> list[int]:
    """Pids of the processes inside the namespaces bound at ``ns_files``.

    Each file must be of the kind its name ends with (``x.mnt``, ``x.net``).
    A file that is not (or no longer) a bound namespace matches nothing.
    """
    wanted = {}
    for path in ns_files:
        try:
            st = os.stat(path)
        except OSError:
            continue
        wanted[(st.st_dev, st.st_ino)] = path.suffix.lstrip(".")
    kinds = set(wanted.values())
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            for kind in kinds:
                try:
                    st = os.stat(f"/proc/{entry.name}/ns/{kind}")
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) in wanted:
                    found.append(int(entry.name))
                    break
    return found


def kill_all(pids: Sequence[int], *, timeout: float = 3.0) -> None:
    """SIGKILL ``pids`` and wait (briefly) until none of them runs any more."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(
        lambda: not any(pid_alive(p) for p in pids),
        timeout=timeout,
        what=f"processes {list(pids)} to exit",
    )
