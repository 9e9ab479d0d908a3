"""Snapshot inventory: what one side holds, parsed from one `zfs get` (pure).

`zfs get -Hp -r -o name,property,value guid,createtxg,creation DATASET` gives
exact integers on zfs-fuse and OpenZFS alike (zfs-fuse's `zfs list` has no
-p), so one command per side lists every dataset and snapshot of a job.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import sizes

PROPERTIES = ("guid", "createtxg", "creation")  # what commands/zfs.py's listing asks for


@dataclass(frozen=True)
class Snapshot:
    name: str  # the part after "@"
    guid: int | None  # None only for a snapshot a dry run plans to take
    createtxg: int
    creation: int = 0
    props: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # the other listed ones


@dataclass
class Dataset:
    name: str
    guid: int = 0
    snapshots: list[Snapshot] = field(default_factory=list)
    props: dict[str, str] = field(default_factory=dict)

    def by_guid(self) -> dict[int, Snapshot]:
        return {s.guid: s for s in self.snapshots}

    def snapshot(self, name: str) -> Snapshot | None:
        return next((s for s in self.snapshots if s.name == name), None)


Inventory = dict[str, Dataset]


def parse(text: str) -> Inventory:
    """Datasets (with their snapshots sorted oldest first) from `zfs get -Hp` output."""
    datasets: Inventory = {}
    snaps: dict[str, dict[str, dict[str, str]]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"unexpected line from zfs get: {line!r}")
        name, prop, value = parts
        fs, at, snap = name.partition("@")
        if "#" in fs:
            continue  # bookmarks are listed by their own command
        ds = datasets.setdefault(fs, Dataset(fs))
        if at:
            snaps.setdefault(fs, {}).setdefault(snap, {})[prop] = value
        elif prop == "guid":
            ds.guid = _int(value)
        else:
            ds.props[prop] = value
    for fs, by_name in snaps.items():
        found = [
            Snapshot(
                n,
                _int(p.get("guid")),
                _int(p.get("createtxg")),
                _int(p.get("creation")),
                {k: v for k, v in p.items() if k not in PROPERTIES},
            )
            for n, p in by_name.items()
        ]
        datasets[fs].snapshots = sorted(found, key=lambda s: (s.createtxg, s.name))
    return datasets


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


MODIFIED_PROPERTIES = ("written", "referenced", "used")  # what `modified` reads (written: OpenZFS only)


def modified(ds: Dataset) -> bool:
    """Whether a dataset was written to since its newest snapshot (a receive would refuse it).

    OpenZFS says so exactly (`written` > 0).  Where there is no `written`
    (zfs-fuse), a file added or removed changes `referenced` and one
    overwritten gives the newest snapshot space of its own (`used` > 0).
    """
    if not ds.snapshots:
        return False
    written = sizes.parse_value(ds.props.get("written", ""))
    if written is not None:
        return written > 0
    newest = ds.snapshots[-1]
    now, then = (
        sizes.parse_value(ds.props.get("referenced", "")),
        sizes.parse_value(newest.props.get("referenced", "")),
    )
    own = sizes.parse_value(newest.props.get("used", ""))
    return (now is not None and then is not None and now != then) or bool(own)


def bare(inv: Inventory, name: str) -> bool:
    """An existing dataset with no snapshots and no children (maybe empty: look inside)."""
    ds = inv.get(name)
    return ds is not None and not ds.snapshots and not any(n.startswith(name + "/") for n in inv)


def children(inv: Inventory, root: str) -> list[str]:
    """`root` and the datasets below it, parents before children."""
    return sorted(
        (n for n in inv if n == root or n.startswith(root + "/")),
        key=lambda n: (n.count("/"), n),
    )


def relocate(name: str, src_root: str, dst_root: str) -> str:
    """The destination name of source dataset `name`."""
    return dst_root + name[len(src_root) :]


def copy(inv: Inventory) -> Inventory:
    """A copy whose snapshot lists can be changed without touching `inv`."""
    return {name: replace(ds, snapshots=list(ds.snapshots), props=dict(ds.props)) for name, ds in inv.items()}


def append(inv: Inventory, dataset: str, name: str, guid: int | None, creation: int) -> None:
    """Add snapshot `name` as the newest of `dataset` (created in `inv` if absent)."""
    ds = inv.setdefault(dataset, Dataset(dataset))
    txg = (ds.snapshots[-1].createtxg if ds.snapshots else 0) + 1
    ds.snapshots = [s for s in ds.snapshots if s.name != name] + [Snapshot(name, guid, txg, creation)]
