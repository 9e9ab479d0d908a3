"""One run of one job: check, list, plan, snapshot, send, verify, prune.

The steps are the pure modules' (planning, retention, pipeline) put in
order; every command goes through the Executor, so `--dry-run` walks the
same path, runs only the read-only listings and prints the rest.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime

from . import inventory, planning, prereqs, retention, zfscmd
from . import pipeline as pl
from .errors import CommandFailed, ConnectionFailed, PrerequisiteError, StageFailed, VerificationFailed
from .execute import Executor
from .job import Job
from .progress import Progress
from .ssh import Endpoint

log = logging.getLogger("zfs_sync_wizard")
NOT_TAKEN_GUID = -1  # a dry run's replication snapshot that does not exist yet


@dataclass
class Options:
    dry_run: bool = False
    rollback: bool = False
    progress: bool = False  # draw a progress line on stderr (a terminal)
    now: datetime | None = None


@dataclass
class Outcome:
    sent: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    bytes: int = 0
    warnings: list = field(default_factory=list)


@dataclass
class Pair:
    source: str
    destination: str
    plan: object


def run(job: Job, opts: Options, echo=print) -> Outcome:
    control_dir = tempfile.mkdtemp(prefix="zsw-ssh-")
    ex = Executor(dry_run=opts.dry_run, control_dir=control_dir, echo=echo)
    try:
        return _run(job, opts, ex, echo)
    finally:
        ex.close()
        shutil.rmtree(control_dir, ignore_errors=True)


def check(job: Job, ex: Executor) -> dict:
    """Check every side has what the job's pipeline needs; returns {label: programs}."""
    probe = planning.Send("b", "a")
    stages = pl.build(zfscmd.send("x", probe), zfscmd.receive("y", probe), *_endpoints(job), _pl_options(job))
    found = {}
    for endpoint, programs in prereqs.needed(stages).items():
        if endpoint.is_local:
            missing = prereqs.missing_locally(programs)
        else:
            missing = prereqs.parse_probe(ex.shell(endpoint, prereqs.remote_probe(programs)).stdout)
        if missing:
            raise PrerequisiteError(prereqs.message(endpoint.label, missing))
        found[endpoint.label] = sorted(programs)
    return found


def _run(job: Job, opts: Options, ex: Executor, echo) -> Outcome:
    src, dst = _endpoints(job)
    check(job, ex)
    src_inv = _list(ex, src, job.source.dataset, job.recursive, required=True)
    dst_inv = _list(ex, dst, job.destination.dataset, job.recursive, required=False)
    policy = planning.Policy(job.incremental, job.initial, job.rollback or opts.rollback)
    taken = None
    if job.take_snapshots:
        taken = retention.snapshot_name(job.snapshot_stem, opts.now or datetime.now(), _names(src_inv))
        _add_snapshot(src_inv, job.source.dataset, taken, NOT_TAKEN_GUID)
    empties = {n for n in dst_inv if inventory.bare(dst_inv, n) and _holds_no_files(ex, dst, n)}
    pairs = _plan(job, src_inv, dst_inv, policy, empties)
    if opts.dry_run:
        echo(describe(job, pairs, taken))
    if taken and any(isinstance(p.plan, planning.Transfer) for p in pairs):
        ex.run(src, zfscmd.snapshot(job.source.dataset, taken, job.recursive), changes=True)
        if not opts.dry_run:
            _refresh_taken(ex, src, job, src_inv, taken)
            pairs = _plan(job, src_inv, dst_inv, policy, empties)
    outcome = Outcome()
    _ensure_parent(ex, dst, job.destination.dataset, dst_inv)
    progress = Progress(enabled=opts.progress and not opts.dry_run)
    for pair in pairs:
        _transfer(job, ex, pair, outcome, progress)
    if opts.dry_run:
        after = _assume_arrived(dst_inv, pairs)
    else:
        after = _list(ex, dst, job.destination.dataset, job.recursive, required=False)
        _verify(pairs, after, outcome)
    _prune(job, ex, src_inv, after, outcome)
    return outcome


def _endpoints(job: Job) -> tuple:
    return job.source.endpoint, job.destination.endpoint


def _pl_options(job: Job, size: int | None = None) -> pl.Options:
    return pl.Options(job.wire_compression, job.buffer, job.bandwidth_limit, size)


def _list(ex: Executor, endpoint: Endpoint, dataset: str, recursive: bool, required: bool):
    try:
        result = ex.run(endpoint, inventory.get_argv(dataset, recursive), changes=False)
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
            ds.snapshots = [s for s in ds.snapshots if s.name != name] + [inventory.Snapshot(name, guid, txg)]


def _refresh_taken(ex: Executor, src: Endpoint, job: Job, src_inv, taken: str) -> None:
    """Learn the GUIDs of the snapshot just taken (one command for all datasets)."""
    argv = ["zfs", "get", "-Hp", "-o", "name,property,value", "guid,createtxg,creation"]
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


def _transfer(job: Job, ex: Executor, pair: Pair, outcome: Outcome, progress: Progress) -> None:
    plan = pair.plan
    if isinstance(plan, planning.Conflict):
        outcome.errors.append(
            planning.describe(plan, pair.source, f"{job.destination.endpoint.label}:{pair.destination}")
        )
        return
    if not isinstance(plan, planning.Transfer):
        return
    src, dst = _endpoints(job)
    try:
        if plan.rollback:
            log.info(
                "%s: rolling back to @%s, destroying %s",
                pair.destination,
                plan.rollback.to,
                ", ".join(plan.rollback.destroys),
            )
            ex.run(dst, zfscmd.rollback(pair.destination, plan.rollback.to), changes=True)
        for step in plan.sends:
            stages = pl.build(
                zfscmd.send(pair.source, step),
                zfscmd.receive(pair.destination, step),
                src,
                dst,
                _pl_options(job),
            )
            if ex.dry_run:
                ex.echo(pl.render(stages, ex.control_dir))
                continue
            with progress.stream(pair.source) as counter:
                ex.pipeline(stages, counter)
            outcome.bytes += counter.bytes
            outcome.sent.append(
                {"dataset": pair.source, "snapshot": step.target, "kind": step.kind, "bytes": counter.bytes}
            )
            if step.kind == "full" and job.readonly:
                ex.run(dst, zfscmd.set_readonly(pair.destination), changes=True)
    except StageFailed as exc:
        outcome.errors.append(f"{pair.source} -> {pair.destination}: {_explain(exc)}")
    except CommandFailed as exc:
        outcome.errors.append(f"{pair.source} -> {pair.destination}: {exc}")


def _explain(exc: StageFailed) -> str:
    text = str(exc)
    if exc.stage == "zfs receive" and "modified" in exc.stderr:
        text += (
            "\n  the destination changed since the last common snapshot; to discard those changes, "
            + planning.ROLLBACK_HINT
        )
    return text


def _assume_arrived(dst_inv, pairs) -> dict:
    after = {name: replace(ds, snapshots=list(ds.snapshots)) for name, ds in dst_inv.items()}
    for pair in pairs:
        if isinstance(pair.plan, planning.Transfer) and pair.plan.sends:
            ds = after.setdefault(pair.destination, inventory.Dataset(pair.destination))
            txg = (ds.snapshots[-1].createtxg if ds.snapshots else 0) + 1
            last = pair.plan.sends[-1]
            ds.snapshots = ds.snapshots + [inventory.Snapshot(last.target, last.target_guid, txg)]
    return after


def _verify(pairs, after, outcome: Outcome) -> None:
    """Confirm by GUID that every snapshot sent is on the destination."""
    for pair in pairs:
        if not isinstance(pair.plan, planning.Transfer):
            continue
        have = after.get(pair.destination)
        guids = {s.guid for s in have.snapshots} if have else set()
        for step in pair.plan.sends:
            ok = any(s["dataset"] == pair.source and s["snapshot"] == step.target for s in outcome.sent)
            if ok and step.target_guid not in guids:
                outcome.errors.append(
                    str(
                        VerificationFailed(
                            f"{pair.source}@{step.target} (guid {step.target_guid}) is not on the destination "
                            f"{pair.destination} although zfs receive reported success"
                        )
                    )
                )


def _prune(job: Job, ex: Executor, src_inv, dst_inv, outcome: Outcome) -> None:
    if not job.take_snapshots:
        return
    src, dst = _endpoints(job)
    for name in inventory.children(src_inv, job.source.dataset):
        target = inventory.relocate(name, job.source.dataset, job.destination.dataset)
        dst_snaps = dst_inv[target].snapshots if target in dst_inv else []
        old_src, old_dst = retention.prunable(job.snapshot_stem, src_inv[name].snapshots, dst_snaps, job.keep)
        for endpoint, dataset, names in ((dst, target, old_dst), (src, name, old_src)):
            for snap in names:
                try:
                    ex.run(endpoint, zfscmd.destroy_snapshot(dataset, snap), changes=True)
                except CommandFailed as exc:
                    outcome.warnings.append(
                        f"could not prune {dataset}@{snap} on {endpoint.label}: {exc.stderr.strip()}"
                    )


def describe(job: Job, pairs, taken: str | None) -> str:
    """The plan as `--dry-run` prints it before the commands."""
    src, dst = _endpoints(job)
    lines = [f"job {job.name}: {src.label}:{job.source.dataset} -> {dst.label}:{job.destination.dataset}"]
    if taken:
        lines.append(f"  replication snapshot: @{taken}{' (recursive)' if job.recursive else ''}")
    for pair in pairs:
        lines.append(f"  {pair.source} -> {pair.destination}: {_plan_text(pair.plan)}")
    lines.append("commands:")
    return "\n".join(lines)


def _plan_text(plan) -> str:
    if isinstance(plan, planning.UpToDate):
        return f"up to date (@{plan.common})"
    if isinstance(plan, planning.Conflict):
        return f"CONFLICT {plan.kind}: {plan.message}"
    parts = []
    if plan.rollback:
        parts.append(
            f"roll back to @{plan.rollback.to} destroying {', '.join('@' + n for n in plan.rollback.destroys)}"
        )
    for step in plan.sends:
        if step.base is None:
            parts.append(f"full @{step.target}")
        else:
            parts.append(
                f"incremental @{step.base} -> @{step.target} ({'-I' if step.intermediate else '-i'})"
            )
    return "; ".join(parts)
