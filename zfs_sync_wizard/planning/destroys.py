"""Which prunes one recursive `zfs destroy -r ROOT@NAME` does exactly (pure).

A recursive job's snapshots are taken with `zfs snapshot -r`, so a name it
prunes is usually pruned on every dataset of the tree at once.  Then one
`zfs destroy -r` per side replaces one command per dataset (zfs-fuse takes
no lists at all): 101 datasets cost one command.  Only where it destroys
exactly what retention chose: every dataset at or under the root that has
the snapshot (by that side's listing, which lists every descendant, left-out
children too) is to lose it, and nobody holds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import inventory
from .inventory import Inventory


def recursive(
    doomed: Mapping[str, Sequence[str]], inv: Inventory, root: str
) -> tuple[list[str], dict[str, list[str]]]:
    """(names that `zfs destroy -r root@NAME` prunes exactly, {dataset: the names left to destroy
    one dataset at a time}); `doomed` is {dataset: names retention lets go} on one side."""
    tree = inventory.children(inv, root)
    names = dict.fromkeys(n for d in tree for n in doomed.get(d, ()))  # in order, once each
    whole = [name for name in names if _exactly(name, doomed, inv, tree, root)]
    rest = {d: [n for n in doomed[d] if n not in whole] for d in doomed}
    return whole, {d: names for d, names in rest.items() if names}


def _exactly(
    name: str, doomed: Mapping[str, Sequence[str]], inv: Inventory, tree: list[str], root: str
) -> bool:
    having = [d for d in tree if inv[d].snapshot(name) is not None]
    if len(having) < 2 or root not in having:
        return False
    for dataset in having:
        snap = inv[dataset].snapshot(name)
        if name not in doomed.get(dataset, ()) or snap.props.get("userrefs", "0") not in ("0", "-", ""):
            return False
    return True
