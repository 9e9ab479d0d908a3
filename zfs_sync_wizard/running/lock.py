"""Locks: one per job, so a second run of the same job is skipped at once,
and one per destination dataset, so two jobs never receive into the same
dataset at the same time (a job file mistake the validation did not see,
or jobs from two config directories)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
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
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(f"{self.what} (pid {holder}); skipped") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
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


@contextlib.contextmanager
def flocked(path: Path):
    """Wait for, then hold, an exclusive flock of `path` (for short updates of shared files)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock
