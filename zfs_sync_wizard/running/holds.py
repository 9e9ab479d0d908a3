"""Holds on the incremental base: the newest common snapshot is held on both
sides (`zfs hold zsw_<job>`), so neither retention nor a hand can destroy
the next incremental's base ("dataset is busy", or OpenZFS 2.3's "it's
being held"); the hold on the previous base is released, and so is any
other hold of the job's (planning/holds.py decides which): one `zfs holds`
and one `zfs release` per side (zfs-fuse has no `zfs holds`: there, one
release per held snapshot, which fails harmlessly where the tag is not ours)."""

from __future__ import annotations

from collections.abc import Sequence

from ..commands import zfs
from ..jobs.endpoint import Endpoint
from ..planning import holds as decide
from ..planning import inventory
from ..planning.inventory import Inventory
from ..planning.plan import Pair
from .context import RunState


def move(s: RunState, arrived: Sequence[Pair]) -> None:
    """Hold each dataset's new common snapshot on both sides (reconcile releases the old base)."""
    if not s.job.hold:
        return
    for pair in arrived:
        new = pair.plan.sends[-1].target
        for endpoint, dataset in ((s.src, pair.source), (s.dst, pair.destination)):
            _hold(s, endpoint, dataset, new)
        s.outcome.held.append(f"{pair.source}@{new}")


def release(s: RunState, endpoint: Endpoint, dataset: str, name: str) -> bool:
    """Release the job's hold (a snapshot it does not hold is no error); whether it was ours."""
    result = s.ex.run(endpoint, zfs.release(s.job.hold_tag, dataset, name), changes=True, check=False)
    return result is None or result.status == 0  # a dry run expects it released


def _released(inv: Inventory, snapshots: Sequence[str]) -> None:
    """One hold fewer on each of `snapshots` in the listing, so pruning sees what is still held."""
    for snapshot in snapshots:
        dataset, _, name = snapshot.partition("@")
        snap = inv[dataset].snapshot(name) if dataset in inv else None
        refs = snap.props.get("userrefs", "0") if snap else "0"
        if snap is not None and refs.isdigit() and int(refs) > 0:
            snap.props["userrefs"] = str(int(refs) - 1)


def _hold(s: RunState, endpoint: Endpoint, dataset: str, name: str) -> None:
    result = s.ex.run(endpoint, zfs.hold(s.job.hold_tag, dataset, name), changes=True, check=False)
    if result is not None and result.status != 0 and "already exists" not in result.stderr:
        s.outcome.warnings.append(
            f"could not hold {dataset}@{name} on {endpoint.label}: {result.stderr.strip()}"
        )


def reconcile(
    s: RunState, src_inv: Inventory, dst_inv: Inventory, stuck: frozenset[str] = frozenset()
) -> None:
    """Release every hold of the job's but the one on each dataset's base, on both sides.

    Datasets in a conflict (`stuck`) keep theirs: the way out may need them.
    The listings' `userrefs` are lowered for each hold released, so the prune
    that follows sees which snapshots someone else still holds.
    """
    job = s.job
    keep = decide.bases(src_inv, dst_inv, job.source.dataset, job.destination.dataset) if job.hold else {}
    names = [n for n in inventory.children(src_inv, job.source.dataset) if n not in stuck]
    targets = {n: inventory.relocate(n, job.source.dataset, job.destination.dataset) for n in names}
    dst_keep = {targets[n]: base for n, base in keep.items() if n in targets}
    sides = (
        (s.src, src_inv, names, keep),
        (s.dst, dst_inv, [targets[n] for n in names], dst_keep),
    )
    for endpoint, inv, datasets, side_keep in sides:
        held = decide.held_elsewhere(inv, datasets, side_keep)
        if not held:
            continue
        listed = s.ex.run(endpoint, zfs.holds(held), changes=False, check=False)
        if listed.status != 0:  # no `zfs holds` (zfs-fuse): release ours where there is one, one by one
            _released(inv, [snap for snap in held if release(s, endpoint, *snap.split("@", 1))])
            continue
        stale = decide.ours(listed.stdout, job.hold_tag)
        if stale:
            result = s.ex.run(endpoint, zfs.release_all(job.hold_tag, stale), changes=True, check=False)
            if result is not None and result.status != 0:
                s.outcome.warnings.append(
                    f"could not release {', '.join(stale)} on {endpoint.label}: {result.stderr.strip()}"
                )
            else:
                _released(inv, stale)
