"""Locks: one per job, so a second run of the same job is skipped at once,
and one per destination dataset, so two jobs never receive into the same
dataset at the same time (a job file mistake the validation did not see,
or jobs from two config directories)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import LockedError
from ..jobs.job import Job, machine


class Lock:
    def __init__(self, path: Path, what: str):
        self.path = path
        self.what = what  # "job media is already running", "... is being written to"
        self._fd: int | None = None

    def __enter__(self) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            words = os.read(fd, 128).decode(errors="replace").split()
            os.close(fd)
            raise LockedError(f"{self.what} (pid {words[0] if words else 'unknown'}); skipped") from None
        os.ftruncate(fd, 0)
        started = datetime.now().astimezone().isoformat(timespec="seconds")
        os.write(fd, f"{os.getpid()} {started}\n".encode())  # who holds it, since when (--status)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def job_lock(state_dir: Path, job: Job) -> Lock:
    return Lock(state_dir / "locks" / f"{job.name}.lock", f"job {job.name} is already running")


def destination_lock(state_dir: Path, job: Job) -> Lock:
    """Held by whichever job receives into this destination dataset now."""
    host, port = machine(job.destination.endpoint)
    key = f"{host or 'localhost'}:{port or ''}:{job.destination.dataset}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    where = f"{job.destination.endpoint.label}:{job.destination.dataset}"
    return Lock(state_dir / "locks" / f"destination-{digest}.lock", f"another run is receiving into {where}")


@dataclass(frozen=True)
class Holder:
    pid: int
    since: str  # ISO 8601, local time with offset


def holder(path: Path, proc_locks: Path = Path("/proc/locks")) -> Holder | None:
    """Who holds the lock at `path` now, None when nobody does.

    Asked without taking the lock (a run starting at that moment must not
    be skipped because of --status): the kernel's table of flock()s names
    the file's inode while a run holds it; where that table is missing,
    a live process with the recorded pid counts.  A run killed with
    SIGKILL leaves its pid in the file but no lock.
    """
    try:
        words = path.read_text().split()
        pid, since = int(words[0]), (words[1] if len(words) > 1 else "")
        st = path.stat()
    except (OSError, ValueError, IndexError):
        return None
    try:
        table = proc_locks.read_text()
    except OSError:
        return Holder(pid, since) if _alive(pid) else None
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    held = any(line.split()[1:2] == ["FLOCK"] and inode in line.split() for line in table.splitlines())
    return Holder(pid, since) if held else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def flocked(path: Path):
    """Wait for, then hold, an exclusive flock of `path` (for short updates of shared files)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock
