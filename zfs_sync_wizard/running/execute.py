"""Running commands: the only module that starts processes.

Every command goes through an `Executor`.  Commands that only read
(`changes=False`) always run, so a dry run plans from the real state;
commands that change something are printed instead of run in a dry run.
Pipelines are started with `sh`, each stage's stdout connected to the next
stage's stdin by a kernel pipe (`_piped` + `_in`), so the stream never
passes through Python; every stage's exit status and stderr tail is
collected and a failure names the stage that caused it (running/blame.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Callable

import sh

from ..commands import pipeline as pl
from ..commands.probes import package_for
from ..commands.ssh import close_argv, quote, remote_argv
from ..errors import CommandFailed, ConnectionFailed, Interrupted, PrerequisiteError
from ..jobs.endpoint import Endpoint
from . import blame

log = logging.getLogger("zfs_sync_wizard")

INTERRUPTED = "interrupted during transfer; the next run continues from here"


@dataclass
class Result:
    stdout: str
    stderr: str
    status: int


def _resolve(program: str, host: str) -> sh.Command:
    try:
        return sh.Command(program)
    except sh.CommandNotFound:
        raise PrerequisiteError(
            f"'{program}' is not installed on {host} (install the package '{package_for(program)}')"
        ) from None


class Executor:
    def __init__(
        self,
        *,
        dry_run: bool = False,
        control_dir: str | None = None,
        echo: Callable[[str], None] = print,
    ):
        self.dry_run = dry_run
        self.control_dir = control_dir
        self.echo = echo
        self._remotes: set = set()
        # every pipeline running now (from any thread), so that one thread can stop them all
        self._running: dict[int, list] = {}
        self._guard = threading.Lock()
        self._stopped = threading.Event()
        _prctl()  # resolved here, not in a child forked while other threads run

    def argv(self, endpoint: Endpoint, argv: Sequence[str]) -> list:
        """The argv this machine runs for `argv` on `endpoint`."""
        if endpoint.is_local:
            return list(argv)
        return remote_argv(endpoint, self.control_dir, quote(argv))

    def run(
        self,
        endpoint: Endpoint,
        argv: Sequence[str],
        *,
        changes: bool,
        check: bool = True,
        input: str | None = None,
    ):
        """Run one command (`input`: its stdin); None in a dry run for commands that change state."""
        local = self.argv(endpoint, argv)
        if changes and self.dry_run:
            self.echo(_prompt(endpoint) + quote(argv))
            return None
        return self._run_local(local, endpoint, quote(argv), check, input)

    def shell(self, endpoint: Endpoint, script: str, *, check: bool = True) -> Result:
        """Run a read-only shell snippet on the endpoint."""
        argv = ["sh", "-c", script] if endpoint.is_local else remote_argv(endpoint, self.control_dir, script)
        return self._run_local(argv, endpoint, script, check)

    def feed(self, argv: Sequence[str], data: str, *, timeout: float) -> Result:
        """Run a local command with `data` on its stdin, killed after `timeout` seconds
        (sendmail for a notification: never in a dry run, never longer than asked)."""
        return self._run_local(argv, Endpoint(), quote(argv), True, data, timeout)

    def upload_time(self, endpoint: Endpoint, nbytes: int) -> float:
        """Seconds `head -c N /dev/urandom | ssh host 'cat >/dev/null'` takes: random
        (incompressible) bytes through a kernel pipe, as a transfer's stream goes."""
        script = "cat >/dev/null"
        argv = ["sh", "-c", script] if endpoint.is_local else remote_argv(endpoint, self.control_dir, script)
        if not endpoint.is_local:
            self._remotes.add(endpoint)
        source, sink = _resolve("head", "localhost"), _resolve(argv[0], "localhost")
        tail: deque = deque(maxlen=20)
        started = time.monotonic()
        common = {"_bg": True, "_bg_exc": False, "_ok_code": range(256), "_env": _c_locale()}
        with open(os.devnull, "rb") as nothing:
            head = source("-c", str(nbytes), "/dev/urandom", _in=nothing, _piped=True, **common)
            receiver = sink(
                *argv[1:], _in=head, _err=_collector(tail, None), _preexec_fn=_die_with_runner, **common
            )
            status, _ = _wait(receiver), _wait(head)
        took = time.monotonic() - started
        log.debug(
            "%s%s  (%d random bytes in, exit %s, %.3f s)", _prompt(endpoint), script, nbytes, status, took
        )
        if status != 0:
            error = ConnectionFailed if not endpoint.is_local and status == blame.SSH_ERROR else CommandFailed
            raise error(endpoint.label, script, status, "\n".join(tail))
        return took

    @contextlib.contextmanager
    def stream(self, endpoint: Endpoint, script: str) -> Iterator[Iterator[bytes]]:
        """Run a read-only shell snippet; its stdout line by line as it is written.

        Its stdout is a kernel pipe read here a line at a time, so the program
        waits while nobody reads and memory does not grow with its output.
        Leaving the block early (an error, an interrupt) kills it; a nonzero
        exit or any stderr after a full read raises CommandFailed.
        """
        argv = ["sh", "-c", script] if endpoint.is_local else remote_argv(endpoint, self.control_dir, script)
        log.debug("%s%s", _prompt(endpoint), script)
        if not endpoint.is_local:
            self._remotes.add(endpoint)
        cmd = _resolve(argv[0], "localhost")
        tail: deque = deque(maxlen=20)
        read_fd, write_fd = os.pipe()
        try:
            with open(os.devnull, "rb") as nothing:
                running = cmd(
                    *argv[1:],
                    _bg=True,
                    _bg_exc=False,
                    _ok_code=range(256),
                    _in=nothing,
                    _out=write_fd,
                    _err=_collector(tail, None),
                    _env=_c_locale(),
                    _new_session=True,  # its whole process group can be ended
                    _preexec_fn=_die_with_runner,
                )
        finally:
            os.close(write_fd)  # the child has its own copy: EOF comes when it exits
        reader = os.fdopen(read_fd, "rb")
        try:
            yield iter(reader.readline, b"")
        except BaseException:
            _end_group(running)
            raise
        finally:
            reader.close()
        status = _wait(running)
        errors = "\n".join(tail).strip()
        if status != 0 or errors:
            if not endpoint.is_local and status == blame.SSH_ERROR:
                raise ConnectionFailed(endpoint.label, script, status, errors)
            raise CommandFailed(endpoint.label, script, status, errors)

    def _run_local(
        self,
        argv: Sequence[str],
        endpoint: Endpoint,
        shown: str,
        check: bool,
        input: str | None = None,
        timeout: float | None = None,
    ) -> Result:
        started = time.monotonic()
        if not endpoint.is_local:
            self._remotes.add(endpoint)
        cmd = _resolve(argv[0], "localhost")
        try:
            with open(os.devnull, "rb") as nothing:  # a str _in would be sent as data
                done = cmd(
                    *argv[1:],
                    _ok_code=range(256),
                    _tty_out=False,
                    _in=nothing if input is None else input.encode(),
                    _return_cmd=True,
                    _env=_c_locale(),
                    _preexec_fn=_die_with_runner,
                    _timeout=timeout,
                )
            status = done.exit_code
            stdout, stderr = done.stdout, done.stderr
        except sh.TimeoutException:
            raise CommandFailed(endpoint.label, shown, -9, f"timed out after {timeout:g} s") from None
        except sh.SignalException as exc:
            status, stdout, stderr = exc.exit_code, exc.stdout, exc.stderr
        result = Result(_text(stdout), _text(stderr), status)
        log.debug("%s%s  (exit %s, %.2f s)", _prompt(endpoint), shown, status, time.monotonic() - started)
        if check and status != 0:
            if not endpoint.is_local and status == blame.SSH_ERROR:
                raise ConnectionFailed(endpoint.label, quote(argv), status, result.stderr)
            raise CommandFailed(endpoint.label, shown, status, result.stderr)
        return result

    def pipeline(
        self, stages: Sequence[pl.Stage], on_pv_line: Callable[[str], None] | None = None, label: str = ""
    ) -> None:
        """Run a transfer pipeline; raise StageFailed naming the stage that failed, Interrupted
        when a KeyboardInterrupt (SIGINT, SIGTERM) arrives or another thread calls `stop_all`.
        `label` names the dataset in the log lines that would not otherwise."""
        procs = pl.processes(stages, self.control_dir)
        log.debug("pipeline: %s", pl.render(stages, self.control_dir))
        about = f" ({label})" if label else ""
        started = time.monotonic()
        commands = [_resolve(p.argv[0], "localhost") for p in procs]  # all found before any starts
        for p in procs:
            if p.remote:
                self._remotes.add(p.endpoint)
        tails = [deque(maxlen=200) for _ in procs]
        running: list = []
        key = id(running)
        with self._guard:
            if self._stopped.is_set():
                raise Interrupted(INTERRUPTED)
            self._running[key] = running
        nothing = open(os.devnull, "rb")  # the first stage's stdin: a str _in would be sent as data
        try:
            previous = None
            for i, (proc, cmd) in enumerate(zip(procs, commands)):
                is_pv = any(stage.name == "pv" for stage in proc.stages)  # pv's numbers come through ssh too
                collect = _collector(tails[i], on_pv_line if is_pv else None)
                bar = proc.stages[0].name == pl.BAR
                if bar:
                    collect = sys.stderr  # pv draws its bar on the terminal itself
                kwargs = {
                    "_bg": True,
                    "_bg_exc": False,
                    "_ok_code": range(256),
                    "_err": collect,
                    "_env": _c_locale(),
                    "_preexec_fn": _die_with_runner,
                    # no controlling terminal: mbuffer writes its errors to /dev/tty when it has one,
                    # where they escape the stage's stderr and the blame ("Broken pipe" is a consequence);
                    # but pv draws no bar outside the terminal's session
                    "_new_session": not bar,
                }
                kwargs["_in"] = previous if previous is not None else nothing
                if i < len(procs) - 1:
                    kwargs["_piped"] = True
                else:
                    kwargs["_tty_out"] = False
                previous = cmd(*proc.argv[1:], **kwargs)
                with self._guard:  # stop_all, once it has begun, kills what starts after it too
                    running.append(previous)
                    stopped = self._stopped.is_set()
                if stopped:
                    _kill_all(running)
                    raise Interrupted(INTERRUPTED)
            statuses = [_wait(r) for r in running]
        except KeyboardInterrupt:
            _kill_all(running)
            raise Interrupted(INTERRUPTED) from None
        finally:
            nothing.close()
            with self._guard:
                self._running.pop(key, None)
        failure = blame.culprit(blame.stage_statuses(procs, statuses, tails))
        took = time.monotonic() - started
        if failure and self._stopped.is_set():  # killed by stop_all: not the stage's fault
            raise Interrupted(INTERRUPTED)
        if failure:
            log.debug("pipeline failed after %.1f s at stage '%s'%s", took, failure.stage, about)
            raise failure
        log.debug("pipeline done in %.1f s%s", took, about)

    def stop_all(self) -> None:
        """Kill every pipeline running now, from whichever thread started it, and refuse new
        ones (they raise Interrupted): the main thread's answer to SIGINT/SIGTERM when
        transfers run in other threads, where no KeyboardInterrupt arrives."""
        with self._guard:
            self._stopped.set()
            pipelines = [list(running) for running in self._running.values()]
        for running in pipelines:
            _kill(running)  # their own threads wait for them and raise Interrupted

    def pause(self, seconds: float) -> None:
        """Wait `seconds` (before a retry); raise Interrupted at once if `stop_all` is called."""
        if self._stopped.wait(seconds):
            raise Interrupted(INTERRUPTED)

    def attached(self, argv: Sequence[str]) -> int:
        """Run a local command on this terminal, its output not captured (so a
        progress bar is drawn as it goes); returns its exit status.

        Ctrl-C goes to the command, which stops cleanly on it, and is not
        raised here: the caller learns of it by the status.
        """
        log.debug("%s%s", _prompt(Endpoint()), quote(argv))
        cmd = _resolve(argv[0], "localhost")
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, _let_the_child_handle_it) if main else None
        try:
            cmd(*argv[1:], _fg=True)
            return 0
        except sh.ErrorReturnCode as exc:  # also a SignalException: its status is -N
            return exc.exit_code
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)

    def close(self) -> None:
        """End the ssh master connections this run opened."""
        if not self.control_dir:
            return
        for endpoint in self._remotes:
            try:
                sh.Command("ssh")(
                    *close_argv(endpoint, self.control_dir)[1:], _ok_code=range(256), _in=os.devnull
                )
            except sh.ErrorReturnCode:
                pass
        self._remotes.clear()


_PR_SET_PDEATHSIG = 1


def _let_the_child_handle_it(signum, frame) -> None:
    """While an attached command runs: a handler (reset to the default at exec, unlike SIG_IGN)."""


def _die_with_runner() -> None:
    """In each child before exec: SIGTERM when the runner dies (even by SIGKILL), so a
    killed run leaves no transfer running on its own for the next run to trip over."""
    _prctl()(_PR_SET_PDEATHSIG, signal.SIGTERM)


@functools.cache
def _prctl():
    return ctypes.CDLL(None, use_errno=True).prctl


def _c_locale() -> dict:
    """This process's environment (as it is now) in the C locale: messages are matched in English."""
    return dict(os.environ, LC_ALL="C")


def _prompt(endpoint: Endpoint) -> str:
    return "" if endpoint.is_local else f"[{endpoint.label}] "


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def _collector(tail: deque, on_line):
    def collect(line):
        text = _text(line).rstrip("\n")
        tail.append(text)
        if on_line:
            on_line(text)

    return collect


def _wait(running) -> int:
    try:
        running.wait()
    except sh.ErrorReturnCode:
        pass  # signals: the status is read below
    return running.exit_code


def _end_group(running) -> None:
    try:
        running.kill_group()
    except Exception:  # already gone
        pass
    _wait(running)


def _kill_all(running) -> None:
    _kill(running)
    for r in running:
        _wait(r)


def _kill(running) -> None:
    for r in running:
        try:
            r.kill()
        except Exception:  # already gone
            pass
