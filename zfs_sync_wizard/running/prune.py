"""Destroying the snapshots planning/retention.py lets go, on both sides:
one `zfs destroy -r ROOT@name` per side where the whole tree lets a name go
(planning/destroys.py), else one `zfs destroy ds@a,b,c` per dataset and side
where zfs takes a list (OpenZFS), one command per snapshot otherwise
(zfs-fuse), every exit status checked.  A list that fails (a snapshot held or busy since the listing) is
retried one by one, so the others still go and the refusal is named; a
snapshot still held by an interrupted run's hold of ours is released and
destroyed once more."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from ..commands import zfs
from ..errors import CommandFailed
from ..jobs.endpoint import Endpoint
from ..planning import destroys, inventory, retention, selection, sizes
from ..planning.capabilities import Capabilities
from ..planning.inventory import Inventory
from . import holds
from .context import RunState

BATCH = 500  # snapshots per `zfs destroy` command line


def prune(s: RunState, src_inv: Inventory, dst_inv: Inventory, stuck: frozenset[str] = frozenset()) -> None:
    """Prune both sides; `stuck` are the source datasets in a conflict this run.  Only the
    datasets in `src_inv` (without those a recursive job leaves out) and their copies are touched."""
    job = s.job
    chosen = selection.for_job(job)
    if chosen.source == selection.EVERY:
        return
    now = (s.opts.now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    doomed_dst: dict[str, list[str]] = {}
    doomed_src: dict[str, list[str]] = {}
    for name in inventory.children(src_inv, job.source.dataset):
        target = inventory.relocate(name, job.source.dataset, job.destination.dataset)
        dst_snaps = dst_inv[target].snapshots if target in dst_inv else []
        old_src, old_dst = retention.prunable(
            chosen.prunes_source,
            src_inv[name].snapshots,
            dst_snaps,
            job.keep,
            job.retention,
            name in stuck,
            now,
            chosen.prunes_destination,
        )
        if name in stuck and old_src and not s.ex.dry_run:
            s.outcome.warnings.append(
                f"{name} is in a conflict (see the error): {len(old_src)} of its replication snapshots that "
                f"could not be sent are pruned, the newest {max(job.keep, 1)} kept until it is resolved"
            )
        for endpoint, caps, dataset, doomed, side in (
            (s.dst, s.dst_caps, target, old_dst, doomed_dst),
            (s.src, s.src_caps, name, old_src, doomed_src),
        ):
            if doomed and s.ex.dry_run:
                s.ex.echo(
                    f"# prune on {endpoint.label}: {dataset}: {len(doomed)} snapshot(s): "
                    + ", ".join("@" + n for n in doomed)
                    + _frees(s, endpoint, caps, dataset, doomed)
                )
            if doomed:
                side[dataset] = list(doomed)
    _side(s, s.dst, s.dst_caps, doomed_dst, dst_inv, job.destination.dataset)
    _side(s, s.src, s.src_caps, doomed_src, src_inv, job.source.dataset)


def _side(
    s: RunState, endpoint: Endpoint, caps: Capabilities, doomed: dict, inv: Inventory, root: str
) -> None:
    """One side's destroys: one `zfs destroy -r` for each name the whole tree lets go
    (planning/destroys.py), the rest dataset by dataset; a recursive one that fails (held or
    busy since the listing) is done dataset by dataset too, so the refusal is named."""
    whole, rest = destroys.recursive(doomed, inv, root)
    for group in [whole] if caps.batch_destroy and whole else [[n] for n in whole]:
        result = s.ex.run(endpoint, zfs.destroy_recursive(root, group), changes=True, check=False)
        if result is not None and result.status != 0:
            for dataset, names in doomed.items():
                again = [n for n in names if n in group]
                if again:
                    rest.setdefault(dataset, []).extend(again)
    for dataset, names in rest.items():
        destroy(s, endpoint, caps, dataset, names)


def _frees(s: RunState, endpoint: Endpoint, caps: Capabilities, dataset: str, names: Sequence[str]) -> str:
    """`(frees 1.2 MiB)` where zfs can tell without destroying (OpenZFS `destroy -nvp`), else nothing."""
    if not caps.batch_destroy:
        return ""
    answer = s.ex.run(endpoint, zfs.destroy_estimate(dataset, names[:BATCH]), changes=False, check=False)
    freed = sizes.parse_reclaim(answer.stdout) if answer.status == 0 else None
    return "" if freed is None else f" (frees {sizes.human(freed)})"


def destroy(s: RunState, endpoint: Endpoint, caps: Capabilities, dataset: str, names: Sequence[str]) -> None:
    """Destroy `names` of `dataset`: in lists where zfs takes them, else one by one."""
    if not caps.batch_destroy or len(names) < 2:
        for snap in names:
            _one(s, endpoint, dataset, snap)
        return
    for start in range(0, len(names), BATCH):
        chunk = names[start : start + BATCH]
        result = s.ex.run(endpoint, zfs.destroy_snapshots(dataset, chunk), changes=True, check=False)
        if result is not None and result.status != 0:  # all or nothing: find which one refuses
            for snap in chunk:
                _one(s, endpoint, dataset, snap)


def _one(s: RunState, endpoint: Endpoint, dataset: str, snap: str) -> None:
    try:
        s.ex.run(endpoint, zfs.destroy_snapshot(dataset, snap), changes=True)
    except CommandFailed as exc:
        if "could not find any snapshots to destroy" in exc.stderr or "does not exist" in exc.stderr:
            return  # gone already (a list that partly went through)
        held = "busy" in exc.stderr or "being held" in exc.stderr
        if held:  # a hold of ours left behind by an interrupted run: release it, retry once
            holds.release(s, endpoint, dataset, snap)
            retry = s.ex.run(endpoint, zfs.destroy_snapshot(dataset, snap), changes=True, check=False)
            if retry.status == 0:
                return
        s.outcome.warnings.append(
            f"could not prune {dataset}@{snap} on {endpoint.label}: {exc.stderr.strip()}"
        )
