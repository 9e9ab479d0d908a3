"""Which of the job's holds to let go (pure).

The job holds exactly one snapshot per dataset and side: the newest one both
sides share (the next incremental's base).  Any other hold with the job's
tag (left by a killed run, a re-seed, a failed verification, a resume) is
released, so holds never pile up and never block anyone's pruning.
Snapshots nobody holds (`userrefs` 0 in the listing) are not even asked about.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import inventory
from .inventory import Inventory


def newest_common(src: inventory.Dataset | None, dst: inventory.Dataset | None) -> str | None:
    """The newest source snapshot the destination has (by GUID); its name on the source."""
    if src is None or dst is None:
        return None
    there = {s.guid for s in dst.snapshots}  # a dry run's planned snapshot (None) is on both sides
    return next((s.name for s in reversed(src.snapshots) if s.guid in there), None)


def bases(src_inv: Inventory, dst_inv: Inventory, src_root: str, dst_root: str) -> dict[str, str]:
    """{source dataset: its base snapshot name} for every dataset of the job that has one."""
    out = {}
    for name in inventory.children(src_inv, src_root):
        base = newest_common(src_inv[name], dst_inv.get(inventory.relocate(name, src_root, dst_root)))
        if base:
            out[name] = base
    return out


def held_elsewhere(inv: Inventory, datasets: Iterable[str], keep: dict[str, str]) -> list[str]:
    """`dataset@snapshot` of every held snapshot (by anyone) other than the dataset's base in `keep`."""
    out = []
    for name in datasets:
        for snap in inv[name].snapshots if name in inv else ():
            refs = snap.props.get("userrefs", "0")
            if refs.isdigit() and int(refs) > 0 and snap.name != keep.get(name):
                out.append(f"{name}@{snap.name}")
    return out


def ours(holds_output: str, tag: str) -> list[str]:
    """The snapshots `zfs holds -H` lists with our tag."""
    found = []
    for line in holds_output.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[1] == tag:
            found.append(parts[0])
    return found
