"""What the pools of one side hold: datasets with size, snapshot count and sanoid.

One `zfs get` lists every dataset and snapshot of every pool with exact
byte counts (zfs-fuse's `zfs list` has no -p); sanoid's configuration is
read from the same side.  Parsing is pure; `list_datasets` runs the two
read-only commands through the Executor.
"""

from __future__ import annotations

from dataclasses import dataclass

import humanize

from ..commands import zfs
from ..jobs.endpoint import Endpoint
from ..running.execute import Executor
from ..sanoid import config as sanoid


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    kind: str = "filesystem"  # or volume
    used: int = 0
    referenced: int = 0
    snapshots: int = 0
    sanoid: str = ""  # why sanoid looks after it: "sanoid.conf", "autosnap snapshots" or ""

    @property
    def pool(self) -> str:
        return self.name.split("/", 1)[0]


def parse(text: str, sanoid_sections: dict[str, dict[str, str]] | None = None) -> list[DatasetInfo]:
    """Datasets (not snapshots), sorted by name, from `zfs get -Hp` of commands/zfs.py all_datasets()."""
    props: dict[str, dict[str, str]] = {}
    snaps: dict[str, list[str]] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or "#" in parts[0]:
            continue
        name, prop, value = parts
        fs, at, snap = name.partition("@")
        if at:
            if prop == "type":  # one line per snapshot
                snaps.setdefault(fs, []).append(snap)
        else:
            props.setdefault(fs, {})[prop] = value
    out = []
    for name, p in props.items():
        own = snaps.get(name, [])
        why = ""
        if sanoid.manages(name, sanoid_sections or {}):
            why = "sanoid.conf"
        elif any(s.startswith(sanoid.SNAPSHOT_PREFIX) for s in own):
            why = "autosnap snapshots"
        out.append(
            DatasetInfo(
                name,
                p.get("type", "filesystem"),
                _int(p.get("used")),
                _int(p.get("referenced")),
                len(own),
                why,
            )
        )
    return sorted(out, key=lambda d: d.name)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def list_datasets(ex: Executor, endpoint: Endpoint) -> list[DatasetInfo]:
    """Every dataset on `endpoint` (raises CommandFailed when zfs cannot list)."""
    listing = ex.run(endpoint, zfs.all_datasets(), changes=False)
    conf = ex.run(endpoint, ["cat", sanoid.CONF], changes=False, check=False)
    sections = sanoid.parse(conf.stdout) if conf.status == 0 else {}
    return parse(listing.stdout, sections)


def pools(ex: Executor, endpoint: Endpoint) -> list[str]:
    return ex.run(endpoint, zfs.pools(), changes=False).stdout.split()


def children(datasets: list[DatasetInfo], name: str) -> list[DatasetInfo]:
    return [d for d in datasets if d.name.startswith(name + "/")]


def size(n: int) -> str:
    return humanize.naturalsize(n, binary=True)


def title(info: DatasetInfo, width: int) -> str:
    """One line of the dataset menu: name, used size, snapshots, sanoid."""
    snaps = f"{info.snapshots} snapshot{'' if info.snapshots == 1 else 's'}"
    line = f"{info.name:<{width}}  {size(info.used):>10}  {snaps:>13}"
    if info.kind == "volume":
        line += "  volume"
    if info.sanoid:
        line += f"  sanoid ({info.sanoid})"
    return line


def titles(datasets: list[DatasetInfo]) -> list[tuple[str, str]]:
    width = max((len(d.name) for d in datasets), default=0)
    return [(title(d, width), d.name) for d in datasets]
