"""Restore: a backup snapshot sent back, planned as the job in reverse (pure).

A restore is the job turned around: the job's destination host sends one
snapshot of a backup dataset, and a NEW dataset receives it, on the job's
source host unless another is named.  It is always one full send into a
dataset that does not exist yet: nothing on either side is destroyed,
rolled back or received over (`zfs receive` without -F).  The reversed Job
goes through the runner's own checks, pipeline and verification.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..errors import ExitCode, ZswError
from ..jobs import names
from ..jobs.endpoint import Endpoint
from ..jobs.job import Job, Side, machine
from . import inventory
from .inventory import Dataset
from .plan import Pair, Send, Transfer

SHOWN_SNAPSHOTS = 8  # how many of the backup's snapshots a "no such snapshot" message lists


class RestoreRefused(ZswError):
    """A restore that would change or overwrite something, or names what is not there: nothing ran."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Request:
    """What to restore and where: `dataset@snapshot` of the backup into `target` on `endpoint`."""

    dataset: str  # the backup dataset on the job's destination host
    snapshot: str
    target: str  # a dataset that must not exist yet
    endpoint: Endpoint  # where `target` is received


def stamp(now: datetime) -> str:
    return now.strftime("%Y%m%d")


def beside(dataset: str, now: datetime) -> str:
    """The default new name beside a dataset: `<dataset>-restored-YYYYMMDD`."""
    return f"{dataset}-restored-{stamp(now)}"


def set_aside(dataset: str, now: datetime) -> str:
    """Where the swap moves the dataset being replaced: `<dataset>-old-YYYYMMDD`."""
    return f"{dataset}-old-{stamp(now)}"


def backup_dataset(job: Job, child: str | None) -> str:
    """The backup dataset to restore: the job's destination dataset, or one below it (recursive jobs)."""
    top = job.destination.dataset
    if child is None:
        return top
    names.dataset(child)
    if not names.is_inside(child, top):
        raise RestoreRefused(f"--dataset {child} is not the job's backup {top} or a dataset below it")
    if child != top and not job.recursive:
        raise RestoreRefused(
            f"--dataset {child}: the job {job.name} is not recursive, so its backup is {top} alone"
        )
    return child


def original(job: Job, backup: str) -> str:
    """The source dataset a backup dataset is the copy of."""
    return inventory.relocate(backup, job.destination.dataset, job.source.dataset)


def parse_to(value: str, job: Job) -> tuple[Endpoint, str]:
    """`[HOST:]DATASET` of --to: the endpoint (the job's source host when none) and the dataset.

    HOST is `[user@]host`; a host the job already names keeps that side's
    port, key and known_hosts.  The first `:` ends HOST when what precedes
    it is a host name, so a pool whose name holds `:` needs HOST given.
    """
    host, sep, rest = value.partition(":")
    if value.startswith("["):  # [IPv6]:dataset
        close = value.find("]:")
        host, sep, rest = (value[: close + 1], ":", value[close + 2 :]) if close > 0 else ("", "", value)
    if sep and "/" not in host:
        try:
            return endpoint_for(host, job), names.dataset(rest)
        except ValueError:
            if value.startswith("["):
                raise
    return job.source.endpoint, names.dataset(value)


def endpoint_for(host: str, job: Job) -> Endpoint:
    """The endpoint for `[user@]host`: one of the job's own sides when it names the same login."""
    user, name = names.host(host)
    for side in (job.source.endpoint, job.destination.endpoint):
        if not side.is_local and side.host == name and (user is None or side.user == user):
            return side
    return Endpoint(host=name, user=user)


def reversed_job(job: Job, request: Request) -> Job:
    """The job turned around: the backup is the source, the restore target the destination.

    Not recursive, no snapshots taken, nothing held, pruned, rolled back or
    set read-only; the stream goes through this machine (no direct hop).
    """
    return replace(
        job,
        source=Side(request.dataset, job.destination.endpoint),
        destination=Side(request.target, request.endpoint),
        recursive=False,
        readonly=False,
        rollback=False,
        direct=None,
        take_snapshots=False,
        hold=False,
        initial="newest",
        incremental="direct",
        schedule=None,
    )


def check_target(job: Job, request: Request) -> None:
    """Refuse a target inside the job's backup tree (a run would then treat it as backup data)."""
    dst = job.destination
    if machine(request.endpoint) == machine(dst.endpoint) and (
        names.is_inside(request.target, dst.dataset) or names.is_inside(dst.dataset, request.target)
    ):
        raise RestoreRefused(
            f"{request.endpoint.label}:{request.target} is inside the job's backup {dst.dataset} (or holds "
            "it); restore to a dataset outside it"
        )


def plan(backup: Dataset | None, request: Request, where: str) -> Pair:
    """One full send of the requested snapshot into the new dataset."""
    if backup is None:
        raise RestoreRefused(f"the backup dataset {where}:{request.dataset} does not exist")
    snap = backup.snapshot(request.snapshot)
    if snap is None:
        have = [s.name for s in reversed(backup.snapshots)][:SHOWN_SNAPSHOTS]
        listed = ", ".join("@" + n for n in have) if have else "none"
        raise RestoreRefused(
            f"{where}:{request.dataset} has no snapshot @{request.snapshot}; newest first: {listed}"
        )
    return Pair(request.dataset, request.target, Transfer((Send(snap.name, target_guid=snap.guid),)))


def until(backup: Dataset, snapshot: str) -> Dataset:
    """The backup as if `snapshot` were its newest: a resumed stream never catches up past it."""
    snaps = backup.snapshots
    index = next(i for i, s in enumerate(snaps) if s.name == snapshot)
    return replace(backup, snapshots=list(snaps[: index + 1]))


def exists_message(request: Request, now: datetime) -> str:
    """Why a restore into an existing dataset is refused, and the two ways out."""
    target, label = request.target, request.endpoint.label
    host = "" if request.endpoint.is_local else f"{request.endpoint.target}:"
    other = beside(target, now) if not target.endswith(f"-restored-{stamp(now)}") else f"{target}-2"
    return (
        f"{label}:{target} exists; a restore never receives into an existing dataset, so nothing was "
        f"changed. Either restore beside it under a new name: --to {host}{other}, or move the existing "
        f"one away first (on {label}): zfs rename {target} {set_aside(target, now)}"
    )


def snapshot_age(creation: int, now: datetime) -> str:
    """A snapshot's creation time as `2026-12-01 02:00`, in `now`'s time zone."""
    return datetime.fromtimestamp(creation, now.tzinfo).strftime("%Y-%m-%d %H:%M")
