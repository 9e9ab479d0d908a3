"""One run of one job: check, list, resume, plan, snapshot, send, verify,
hold, prune.

The steps are the pure modules' (planning, retention, pipeline) put in
order; every command goes through the Executor, so `--dry-run` walks the
same path, runs only the read-only commands and prints the rest.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import tempfile
import time
from datetime import datetime

from . import capabilities, finish, inventory, planning, prereqs, retention, zfscmd
from . import pipeline as pl
from .errors import CommandFailed, ConnectionFailed, PrerequisiteError
from .execute import Executor
from .job import Job
from .progress import Progress
from .report import describe
from .session import Options, Outcome, Session, pipeline_options
from .ssh import Endpoint
from .transfer import Pair, resume_partials, run_pair

__all__ = ["Options", "Outcome", "check", "run"]
log = logging.getLogger("zfs_sync_wizard")
NOT_TAKEN_GUID = -1  # a dry run's replication snapshot that does not exist yet


def run(job: Job, opts: Options, echo=print) -> Outcome:
    control_dir = tempfile.mkdtemp(prefix="zsw-ssh-")
    ex = Executor(dry_run=opts.dry_run, control_dir=control_dir, echo=echo)
    session = Session(job, opts, ex, progress=Progress(enabled=opts.progress and not opts.dry_run))
    try:
        _run(session)
        return session.outcome
    finally:
        ex.close()
        shutil.rmtree(control_dir, ignore_errors=True)


def check(job: Job, ex: Executor) -> dict:
    """Check every side has what the job's pipeline needs.

    Returns {endpoint: (programs, Capabilities)}; one command per side.
    """
    probe = planning.Send("b", "a")
    src, dst = job.source.endpoint, job.destination.endpoint
    options = pipeline_options(job)
    stages = pl.build(zfscmd.send("x", probe), zfscmd.receive("y", probe), src, dst, options, job.direct)
    found = {}
    for endpoint, programs in prereqs.needed(stages).items():
        output = ex.shell(endpoint, prereqs.remote_probe(programs, usage="zfs" in programs)).stdout
        missing = prereqs.parse_probe(output)
        if missing:
            raise PrerequisiteError(prereqs.message(endpoint.label, missing))
        found[endpoint] = (sorted(programs), capabilities.parse(*prereqs.parse_usage(output)))
    return found


def _run(s: Session) -> None:
    job, ex, opts = s.job, s.ex, s.opts
    found = check(job, ex)
    s.src_caps, s.dst_caps = found[s.src][1], found[s.dst][1]
    _notice_no_resume(s)
    src_inv = _list(s, s.src, job.source.dataset, required=True)
    dst_inv = _list(s, s.dst, job.destination.dataset, required=False)
    if resume_partials(s, src_inv, dst_inv) and not opts.dry_run:
        dst_inv = _list(s, s.dst, job.destination.dataset, required=False)
    policy = planning.Policy(job.incremental, job.initial, job.rollback or opts.rollback)
    taken = None
    if job.take_snapshots:
        taken = retention.snapshot_name(job.snapshot_stem, opts.now or datetime.now(), _names(src_inv))
        _add_snapshot(src_inv, job.source.dataset, taken, NOT_TAKEN_GUID)
    empties = {n for n in dst_inv if inventory.bare(dst_inv, n) and _holds_no_files(ex, s.dst, n)}
    pairs = _plan(job, src_inv, dst_inv, policy, empties)
    if opts.dry_run:
        ex.echo(describe(job, pairs, taken))
    if taken and any(isinstance(p.plan, planning.Transfer) for p in pairs):
        ex.run(s.src, zfscmd.snapshot(job.source.dataset, taken, job.recursive), changes=True)
        if not opts.dry_run:
            _refresh_taken(ex, s.src, src_inv, taken)
            pairs = _plan(job, src_inv, dst_inv, policy, empties)
    _ensure_parent(ex, s.dst, job.destination.dataset, dst_inv)
    for pair in pairs:  # an empty destination is received over unmounted (zfs-fuse fails otherwise)
        if pair.destination in empties and isinstance(pair.plan, planning.Transfer):
            ex.run(s.dst, zfscmd.unmount(pair.destination), changes=True)
    for pair in pairs:
        run_pair(s, pair, src_inv[pair.source])
    if opts.dry_run:
        after = finish.assume_arrived(dst_inv, pairs)
        arrived = [p for p in pairs if isinstance(p.plan, planning.Transfer) and p.plan.sends]
    else:
        after = _list(s, s.dst, job.destination.dataset, required=False)
        arrived = finish.verify(s, pairs, after)
    finish.move_holds(s, arrived)
    finish.prune(s, src_inv, after)


def _notice_no_resume(s: Session) -> None:
    """Said once a run, in the log and by --check; not printed, so cron stays quiet."""
    if not s.resumable:
        log.info("%s", no_resume_notice(s.src, s.dst))


def no_resume_notice(src: Endpoint, dst: Endpoint) -> str:
    return (
        f"no resumable transfers between {src.label} and {dst.label} (zfs receive -s / zfs send -t "
        "missing, e.g. zfs-fuse): an interrupted transfer starts again from the last common snapshot"
    )


def _list(s: Session, endpoint: Endpoint, dataset: str, required: bool) -> inventory.Inventory:
    extra = []
    if endpoint == s.src and s.src_caps.raw:
        extra.append("encryption")
    if endpoint == s.dst and s.resumable:
        extra.append("receive_resume_token")
    recursive = s.job.recursive
    try:
        result = s.ex.run(endpoint, inventory.get_argv(dataset, recursive, extra), changes=False)
    except CommandFailed as exc:
        if "does not exist" in exc.stderr and not isinstance(exc, ConnectionFailed):
            if required:
                raise CommandFailed(
                    exc.host, exc.command, exc.status, f"source dataset {dataset} does not exist"
                ) from None
            return {}
        raise
    inv = inventory.parse(result.stdout)
    return {name: ds for name, ds in inv.items() if recursive or name == dataset}


def _names(inv) -> set:
    return {s.name for ds in inv.values() for s in ds.snapshots}


def _add_snapshot(inv, root: str, name: str, guid: int) -> None:
    for ds in inv.values():
        if ds.name == root or ds.name.startswith(root + "/"):
            txg = (ds.snapshots[-1].createtxg if ds.snapshots else 0) + 1
            snap = inventory.Snapshot(name, guid, txg, int(time.time()))
            ds.snapshots = [s for s in ds.snapshots if s.name != name] + [snap]


def _refresh_taken(ex: Executor, src: Endpoint, src_inv, taken: str) -> None:
    """Learn the GUIDs of the snapshot just taken (one command for all datasets)."""
    argv = ["zfs", "get", "-Hp", "-o", "name,property,value", ",".join(inventory.PROPERTIES)]
    argv += [f"{name}@{taken}" for name in src_inv]
    fresh = inventory.parse(ex.run(src, argv, changes=False).stdout)
    for name, ds in fresh.items():
        for snap in ds.snapshots:
            src_inv[name].snapshots = [s for s in src_inv[name].snapshots if s.name != snap.name] + [snap]


def _plan(job: Job, src_inv, dst_inv, policy, empties: set) -> list:
    pairs = []
    for name in inventory.children(src_inv, job.source.dataset):
        target = inventory.relocate(name, job.source.dataset, job.destination.dataset)
        dst = dst_inv.get(target)
        snaps = dst.snapshots if dst else None
        result = planning.plan(src_inv[name].snapshots, snaps, policy, destination_empty=target in empties)
        pairs.append(Pair(name, target, result))
    return pairs


def _holds_no_files(ex: Executor, endpoint: Endpoint, dataset: str) -> bool:
    """A destination made by hand but never written to can be received over safely."""
    ds = shlex.quote(dataset)
    probe = (
        f'[ "$(zfs get -H -o value mounted {ds})" = yes ] && '
        f'[ -z "$(ls -A "$(zfs get -H -o value mountpoint {ds})")" ] && echo empty'
    )
    return ex.shell(endpoint, probe, check=False).stdout.strip() == "empty"


def _ensure_parent(ex: Executor, dst: Endpoint, dataset: str, dst_inv) -> None:
    parent = dataset.rpartition("/")[0]
    if dataset not in dst_inv and "/" in parent:
        ex.run(dst, zfscmd.create_parents(parent), changes=True)
