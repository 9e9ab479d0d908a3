"""Holds on the incremental base: the newest common snapshot is held on both
sides (`zfs hold zsw_<job>`), so neither retention nor a hand can destroy
the next incremental's base ("dataset is busy", or OpenZFS 2.3's "it's
being held"); the hold on the previous base is released, and so is any
other hold of the job's (planning/holds.py decides which): one `zfs holds`
and one `zfs release` per side (zfs-fuse has no `zfs holds`: there, one
release of them all, and where that fails, one per held snapshot, which
fails harmlessly where the tag is not ours).  New holds are one `zfs hold`
per side for every dataset."""

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
    """Hold each dataset's new common snapshot on both sides, one command per side (reconcile
    releases the old base)."""
    if not s.job.hold or not arrived:
        return
    news = [(pair, pair.plan.sends[-1].target) for pair in arrived]
    _hold(s, s.src, [f"{pair.source}@{new}" for pair, new in news])
    _hold(s, s.dst, [f"{pair.destination}@{new}" for pair, new in news])
    s.outcome.held += [f"{pair.source}@{new}" for pair, new in news]


def release(s: RunState, endpoint: Endpoint, dataset: str, name: str) -> bool:
    """Release the job's hold (a snapshot it does not hold is no error); whether it was ours."""
    result = s.ex.run(endpoint, zfs.release(s.job.hold_tag, dataset, name), changes=True, check=False)
    return result is None or result.status == 0  # a dry run expects it released


def _release_unlisted(s: RunState, endpoint: Endpoint, inv: Inventory, held: Sequence[str]) -> None:
    """Where zfs cannot list holds: one release of every held snapshot, which succeeds when all
    are ours (the usual case: the previous bases); else one by one, to tell which were."""
    result = s.ex.run(endpoint, zfs.release_all(s.job.hold_tag, held), changes=True, check=False)
    if result is None or result.status == 0:
        _released(inv, held)
        return
    _released(inv, [snap for snap in held if release(s, endpoint, *snap.split("@", 1))])


def _released(inv: Inventory, snapshots: Sequence[str]) -> None:
    """One hold fewer on each of `snapshots` in the listing, so pruning sees what is still held."""
    for snapshot in snapshots:
        dataset, _, name = snapshot.partition("@")
        snap = inv[dataset].snapshot(name) if dataset in inv else None
        refs = snap.props.get("userrefs", "0") if snap else "0"
        if snap is not None and refs.isdigit() and int(refs) > 0:
            snap.props["userrefs"] = str(int(refs) - 1)


def _hold(s: RunState, endpoint: Endpoint, snapshots: Sequence[str]) -> None:
    """zfs holds each snapshot named on its own (one failing does not stop the others): only
    what it says besides "already exists" (held before: fine) is a warning."""
    result = s.ex.run(endpoint, zfs.hold_all(s.job.hold_tag, snapshots), changes=True, check=False)
    if result is None or result.status == 0:
        return
    trouble = [line for line in result.stderr.strip().splitlines() if "already exists" not in line]
    if trouble:
        s.outcome.warnings.append(f"could not hold on {endpoint.label}: {' '.join(trouble)}")


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
        (s.src, src_inv, names, keep, s.src_caps.list_holds),
        (s.dst, dst_inv, [targets[n] for n in names], dst_keep, s.dst_caps.list_holds),
    )
    for endpoint, inv, datasets, side_keep, can_list in sides:
        held = decide.held_elsewhere(inv, datasets, side_keep)
        if not held:
            continue
        listed = s.ex.run(endpoint, zfs.holds(held), changes=False, check=False) if can_list else None
        if (
            listed is None or listed.status != 0
        ):  # no `zfs holds` (zfs-fuse): all at once, else ours one by one
            _release_unlisted(s, endpoint, inv, held)
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
