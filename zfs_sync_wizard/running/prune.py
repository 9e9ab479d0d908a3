"""Destroying the job's older replication snapshots on both sides, as
planning/retention.py decides; a snapshot still held by an interrupted
run's hold of ours is released and destroyed once more."""

from __future__ import annotations

from ..commands import zfs
from ..errors import CommandFailed
from ..jobs.endpoint import Endpoint
from ..planning import inventory, retention
from ..planning.inventory import Inventory
from . import holds
from .context import RunState


def prune(s: RunState, src_inv: Inventory, dst_inv: Inventory, stuck: frozenset[str] = frozenset()) -> None:
    """Prune both sides; `stuck` are the source datasets in a conflict this run."""
    job = s.job
    if not job.take_snapshots:
        return
    for name in inventory.children(src_inv, job.source.dataset):
        target = inventory.relocate(name, job.source.dataset, job.destination.dataset)
        dst_snaps = dst_inv[target].snapshots if target in dst_inv else []
        old_src, old_dst = retention.prunable(
            job.snapshot_stem, src_inv[name].snapshots, dst_snaps, job.keep, job.retention, name in stuck
        )
        if name in stuck and old_src and not s.ex.dry_run:
            s.outcome.warnings.append(
                f"{name} is in a conflict (see the error): {len(old_src)} of its replication snapshots that "
                f"could not be sent are pruned, the newest {max(job.keep, 1)} kept until it is resolved"
            )
        for endpoint, dataset, names in ((s.dst, target, old_dst), (s.src, name, old_src)):
            for snap in names:
                _destroy(s, endpoint, dataset, snap)


def _destroy(s: RunState, endpoint: Endpoint, dataset: str, snap: str) -> None:
    try:
        s.ex.run(endpoint, zfs.destroy_snapshot(dataset, snap), changes=True)
    except CommandFailed as exc:
        held = "busy" in exc.stderr or "being held" in exc.stderr
        if held:  # a hold of ours left behind by an interrupted run: release it, retry once
            holds.release(s, endpoint, dataset, snap)
            retry = s.ex.run(endpoint, zfs.destroy_snapshot(dataset, snap), changes=True, check=False)
            if retry.status == 0:
                return
        s.outcome.warnings.append(
            f"could not prune {dataset}@{snap} on {endpoint.label}: {exc.stderr.strip()}"
        )
