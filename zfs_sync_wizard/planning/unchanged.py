"""Nothing new, nothing done (pure): whether a run may skip its replication snapshot.

A source dataset whose `written` is 0 has had nothing written since its
newest snapshot (OpenZFS lists `written`; zfs-fuse has no such property).
When that holds for every dataset of the job and the destination already
has each newest snapshot as its own newest, unmodified (every plan made
without a new snapshot is UpToDate), a new snapshot would carry nothing: the
run takes none and sends nothing (`snapshots.when_unchanged: skip`, the default).  Where the
source cannot tell, or `when_unchanged: take` asks for a snapshot per run,
the run takes one as always.  The job is judged whole, never dataset by
dataset, so a recursive job's tree keeps sharing one snapshot; a
destination that diverged or was modified is never skipped, so its
conflict is still reported every run.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import inventory, sizes
from .inventory import Inventory
from .plan import Pair, UpToDate

PROPERTY = "written"  # listed on the source where zfs has it (Capabilities.written)
SKIP, TAKE = "skip", "take"  # snapshots.when_unchanged


def nothing_new(src_inv: Inventory, dst_inv: Inventory, unplanned: Sequence[Pair]) -> bool:
    """True when no source dataset was written to since its newest snapshot and that snapshot is
    the one both sides share (every plan made without a new snapshot, `unplanned`, is up to date
    at the source's newest snapshot: a newer one the job does not carry may hold changes)."""
    if not unplanned or not all(isinstance(p.plan, UpToDate) for p in unplanned):
        return False
    return all(
        _unchanged(src_inv.get(p.source), dst_inv.get(p.destination), p.plan.common) for p in unplanned
    )


def _unchanged(src: inventory.Dataset | None, dst: inventory.Dataset | None, common: str) -> bool:
    if src is None or dst is None or not src.snapshots or not dst.snapshots:
        return False
    written = sizes.parse_value(src.props.get(PROPERTY, ""))
    newest = src.snapshots[-1]
    return (
        written == 0
        and newest.name == common
        and dst.snapshots[-1].guid == newest.guid
        and not inventory.modified(dst)
    )


def describe(when_unchanged: str, source_has_written: bool, src_label: str) -> str:
    """What a run does when nothing is new on the source, for --check."""
    if when_unchanged == TAKE:
        return "a snapshot is taken and sent every run (snapshots.when_unchanged: take)"
    if source_has_written:
        return "no snapshot taken and nothing sent when nothing was written since the last one (written)"
    return (
        f"zfs on {src_label} cannot tell (no `written` property, e.g. zfs-fuse): "
        "a snapshot is taken and sent every run"
    )
