"""What a job needs from `zfs allow` to run as a user other than root (pure).

Each side's user gets exactly the permissions the job's commands use, on the
dataset they act on: the source's for sending, its replication snapshots,
holds and pruning; the destination's on the parent the receive creates the
dataset under (receiving, holds, pruning, `readonly`, rollback where the job
allows it).  `zfs-sync-run --check` prints them as `zfs allow` lines.
"""

from __future__ import annotations

import getpass

from .job import Job


def permissions(job: Job) -> list[tuple[str, str, list[str]]]:
    """[(side label, dataset, permissions)] for the source and the destination."""
    src = ["send", "hold", "release"]
    if job.take_snapshots:
        src += ["snapshot", "destroy", "mount"]  # destroy needs mount too
    dst = ["receive", "create", "mount", "hold", "release", "destroy"]
    if job.readonly:
        dst.append("readonly")
    if job.rollback:
        dst.append("rollback")
    dst += [k for k, _ in job.receive_set if k not in dst]  # zfs receive -o needs each property's own
    parent = job.destination.dataset.rpartition("/")[0] or job.destination.dataset
    return [
        (job.source.endpoint.label, job.source.dataset, src),
        (job.destination.endpoint.label, parent, dst),
    ]


def allow_lines(job: Job) -> list[str]:
    """`on HOST: zfs allow -u USER PERMS DATASET`, one per side (`--rollback` needs rollback too)."""
    lines = []
    for (label, dataset, perms), endpoint in zip(
        permissions(job), (job.source.endpoint, job.destination.endpoint)
    ):
        user = endpoint.user or (getpass.getuser() if endpoint.is_local else "root")
        lines.append(f"on {label}: zfs allow -u {user} {','.join(perms)} {dataset}")
    return lines


def gate_lines(job: Job) -> list[str]:
    """`on HOST: restrict,command="zfs-sync-gate ..."`: the authorized_keys options that
    let this job's key do only what the job runs there (zfs-sync-gate, gate.py)."""
    lines = []
    for endpoint, role, dataset in (
        (job.source.endpoint, "--send", job.source.dataset),
        (job.destination.endpoint, "--receive", job.destination.dataset),
    ):
        if endpoint.is_local or (job.direct is not None and role == "--send"):
            continue  # a direct transfer starts ssh on the source, which the gate refuses
        extra = " --rollback" if role == "--receive" and job.rollback else ""
        lines.append(f'on {endpoint.label}: restrict,command="zfs-sync-gate {role} {dataset}{extra}"')
    return lines
