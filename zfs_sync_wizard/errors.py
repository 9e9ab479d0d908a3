"""The project's errors: one small hierarchy, each class with its exit status.

`zfs-sync-run` and `zfs-sync-wizard` map these to exit statuses in one place
(their `main`), so cron and monitoring can tell what happened.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0  # success, including "nothing to do"
    FAILED = 1  # a job (or one of its datasets) failed
    USAGE = 2  # bad command line, job file or answer; nothing ran
    LOCKED = 3  # skipped: another run of the same job holds its lock
    INTERRUPTED = 130  # SIGINT/SIGTERM, or Ctrl-C in the wizard


class ZswError(Exception):
    """Base class: the message is what the user reads."""

    exit_code = ExitCode.FAILED


class ConfigError(ZswError):
    """A job file, defaults file or answer is invalid: names where and what."""

    exit_code = ExitCode.USAGE

    def __init__(self, where: str, problem: str):
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)


class UsageError(ZswError):
    exit_code = ExitCode.USAGE


class LockedError(ZswError):
    exit_code = ExitCode.LOCKED


class Interrupted(ZswError):
    exit_code = ExitCode.INTERRUPTED


class PrerequisiteError(ZswError):
    """A tool the job needs is missing on one side."""


class CommandFailed(ZswError):
    """A single command (not a pipeline) failed."""

    def __init__(self, host: str, command: str, exit_code: int, stderr: str):
        self.host = host
        self.command = command
        self.status = exit_code
        self.stderr = stderr
        detail = f": {stderr.strip()}" if stderr.strip() else ""
        super().__init__(f"command failed on {host} (exit {exit_code}): {command}{detail}")


class ConnectionFailed(CommandFailed):
    """ssh itself failed (exit 255): unreachable, refused, authentication, host key."""

    def __init__(self, host: str, command: str, exit_code: int, stderr: str):
        super().__init__(host, command, exit_code, stderr)
        reason = " ".join(line.strip() for line in stderr.strip().splitlines()[-3:]) or "no message"
        self.args = (f"ssh to {host} failed (exit {exit_code}): {reason}\n  command: {command}",)


class StageFailed(ZswError):
    """A pipeline stage failed: names the stage, its host and its command."""

    def __init__(self, stage: str, host: str, command: str, status: int, stderr: str, others=()):
        self.stage = stage
        self.host = host
        self.command = command
        self.status = status
        self.stderr = stderr
        self.others = list(others)
        how = f"exit {status}" if status is not None else "no exit status came back"
        lines = [f"stage '{stage}' failed on {host} ({how}): {command}"]
        if stderr.strip():
            lines += ["  " + line for line in stderr.strip().splitlines()[-8:]]
        for other in self.others:
            lines.append(f"  (also: {other})")
        super().__init__("\n".join(lines))


class ReplicationConflict(ZswError):
    """Planning found a state it will not resolve without an explicit option."""


class VerificationFailed(ZswError):
    """The destination does not hold what was sent (checked by GUID)."""
