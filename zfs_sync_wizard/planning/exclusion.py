"""Which datasets below a recursive job's dataset it leaves out, and why (pure).

A child is left out when the path below the job's dataset (`photos/cache`
for `tank/media/photos/cache` in a job of `tank/media`) matches one of
`source.exclude` (fnmatch globs: `*` also crosses `/`, so `*cache` matches
at every depth), or when the source's listing shows the user property
`zfs-sync:exclude=on` (which ZFS passes down to the children).  Everything
below a left-out dataset is left out with it.  The job's own dataset never
is: a job that should not run is unscheduled, not emptied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase

from . import inventory
from .inventory import Inventory

PROPERTY = "zfs-sync:exclude"  # listed on the source of a recursive job (running/listing.py)


def excluded(inv: Inventory, root: str, patterns: Sequence[str]) -> dict[str, str]:
    """{source dataset: why it is left out}, parents before children."""
    out: dict[str, str] = {}
    for name in inventory.children(inv, root):
        if name == root:
            continue
        parent = next((p for p in out if name.startswith(p + "/")), None)
        below = name[len(root) + 1 :]
        pattern = next((p for p in patterns if fnmatchcase(below, p)), None)
        if parent is not None:
            out[name] = f"below {parent}"
        elif pattern is not None:
            out[name] = f"source.exclude {pattern!r}"
        elif inv[name].props.get(PROPERTY, "").lower() == "on":
            out[name] = f"{PROPERTY}=on"
    return out


def without(inv: Inventory, left_out: Mapping[str, str]) -> Inventory:
    """The listing without the datasets left out."""
    return {name: ds for name, ds in inv.items() if name not in left_out}
