"""After the sends: verify by GUID, move the holds, prune.

- Every snapshot sent must be on the destination with the source's GUID
  (zfs-fuse can exit 0 on a receive that did nothing).
- The newest common snapshot is held on both sides (`zfs hold zsw_<job>`),
  so neither retention nor a hand can destroy the next incremental's base
  ("dataset is busy", or OpenZFS 2.3's "it's being held"); the hold on the
  previous base is released.
- The job's own older replication snapshots are pruned on both sides.
"""

from __future__ import annotations

import time
from dataclasses import replace

from . import inventory, planning, retention, zfscmd
from .errors import CommandFailed, VerificationFailed
from .session import Session
from .ssh import Endpoint


def assume_arrived(dst_inv: inventory.Inventory, pairs) -> inventory.Inventory:
    """The destination as a dry run expects it after the sends."""
    after = {name: replace(ds, snapshots=list(ds.snapshots)) for name, ds in dst_inv.items()}
    for pair in pairs:
        if isinstance(pair.plan, planning.Transfer) and pair.plan.sends:
            ds = after.setdefault(pair.destination, inventory.Dataset(pair.destination))
            txg = (ds.snapshots[-1].createtxg if ds.snapshots else 0) + 1
            last = pair.plan.sends[-1]
            arrived = inventory.Snapshot(last.target, last.target_guid, txg, int(time.time()))
            ds.snapshots = ds.snapshots + [arrived]
    return after


def verify(s: Session, pairs, after: inventory.Inventory) -> list:
    """Pairs whose every sent snapshot is on the destination (errors recorded for the rest)."""
    arrived = []
    for pair in pairs:
        if not isinstance(pair.plan, planning.Transfer) or not pair.plan.sends:
            continue
        sent = {e["snapshot"] for e in s.outcome.sent if e["dataset"] == pair.source}
        have = after.get(pair.destination)
        guids = {snap.guid for snap in have.snapshots} if have else set()
        missing = [step for step in pair.plan.sends if step.target in sent and step.target_guid not in guids]
        for step in missing:
            s.outcome.errors.append(
                str(
                    VerificationFailed(
                        f"{pair.source}@{step.target} (guid {step.target_guid}) is not on the destination "
                        f"{pair.destination} although zfs receive reported success"
                    )
                )
            )
        if pair.plan.sends[-1].target in sent and not missing:
            arrived.append(pair)
    return arrived


def move_holds(s: Session, arrived) -> None:
    """Hold each dataset's new common snapshot on both sides; release the old base."""
    if not s.job.hold:
        return
    tag = s.job.hold_tag
    for pair in arrived:
        new, base = pair.plan.sends[-1].target, pair.plan.sends[0].base
        for endpoint, dataset in ((s.src, pair.source), (s.dst, pair.destination)):
            _hold(s, endpoint, dataset, new)
            if base and base != new:
                s.ex.run(endpoint, zfscmd.release(tag, dataset, base), changes=True, check=False)
        s.outcome.held.append(f"{pair.source}@{new}")


def _hold(s: Session, endpoint: Endpoint, dataset: str, name: str) -> None:
    result = s.ex.run(endpoint, zfscmd.hold(s.job.hold_tag, dataset, name), changes=True, check=False)
    if result is not None and result.status != 0 and "already exists" not in result.stderr:
        s.outcome.warnings.append(
            f"could not hold {dataset}@{name} on {endpoint.label}: {result.stderr.strip()}"
        )


def prune(s: Session, src_inv: inventory.Inventory, dst_inv: inventory.Inventory) -> None:
    job = s.job
    if not job.take_snapshots:
        return
    for name in inventory.children(src_inv, job.source.dataset):
        target = inventory.relocate(name, job.source.dataset, job.destination.dataset)
        dst_snaps = dst_inv[target].snapshots if target in dst_inv else []
        old_src, old_dst = retention.prunable(
            job.snapshot_stem, src_inv[name].snapshots, dst_snaps, job.keep, job.retention
        )
        for endpoint, dataset, names in ((s.dst, target, old_dst), (s.src, name, old_src)):
            for snap in names:
                _destroy(s, endpoint, dataset, snap)


def _destroy(s: Session, endpoint: Endpoint, dataset: str, snap: str) -> None:
    try:
        s.ex.run(endpoint, zfscmd.destroy_snapshot(dataset, snap), changes=True)
    except CommandFailed as exc:
        held = "busy" in exc.stderr or "being held" in exc.stderr
        if held:  # a hold of ours left behind by an interrupted run: release it, retry once
            s.ex.run(endpoint, zfscmd.release(s.job.hold_tag, dataset, snap), changes=True, check=False)
            retry = s.ex.run(endpoint, zfscmd.destroy_snapshot(dataset, snap), changes=True, check=False)
            if retry.status == 0:
                return
        s.outcome.warnings.append(
            f"could not prune {dataset}@{snap} on {endpoint.label}: {exc.stderr.strip()}"
        )
