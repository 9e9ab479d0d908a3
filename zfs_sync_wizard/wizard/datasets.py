"""What the pools of one side hold: datasets with size, snapshot count and sanoid.

One `zfs get` lists every dataset and snapshot of every pool with exact
byte counts (zfs-fuse's `zfs list` has no -p); sanoid's configuration is
read from the same side.  Parsing is pure; `list_datasets` runs the two
read-only commands through the Executor.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass

import humanize

from ..execute import Executor
from ..ssh import Endpoint

LIST_ARGV = ["zfs", "get", "-Hp", "-o", "name,property,value", "type,used,referenced"]
POOLS_ARGV = ["zpool", "list", "-H", "-o", "name"]
SANOID_CONF = "/etc/sanoid/sanoid.conf"
SANOID_SNAPSHOT = "autosnap_"


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
    """Datasets (not snapshots), sorted by name, from `zfs get -Hp` of LIST_ARGV."""
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
        if sanoid_manages(name, sanoid_sections or {}):
            why = "sanoid.conf"
        elif any(s.startswith(SANOID_SNAPSHOT) for s in own):
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


def parse_sanoid(text: str) -> dict[str, dict[str, str]]:
    """sanoid.conf sections: dataset sections and templates, options lower-cased."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, inline_comment_prefixes=("#",))
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    return {
        section: {k.lower(): v.strip().lower() for k, v in parser[section].items()}
        for section in parser.sections()
    }


def sanoid_manages(name: str, sections: dict[str, dict[str, str]]) -> bool:
    """True when sanoid takes snapshots of `name` (its section, or a recursive parent's)."""
    parts = name.split("/")
    for depth in range(len(parts), 0, -1):
        candidate = "/".join(parts[:depth])
        options = sections.get(candidate)
        if options is None:
            continue
        is_self = depth == len(parts)
        if not is_self and options.get("recursive", "no") not in ("yes", "zfs"):
            continue
        if is_self and options.get("process_children_only", "no") == "yes":
            return False
        return _option(options, sections, "autosnap", "yes") == "yes"
    return False


def _option(options: dict[str, str], sections: dict[str, dict[str, str]], key: str, default: str) -> str:
    if key in options:
        return options[key]
    for template in options.get("use_template", "").split(","):
        found = sections.get(f"template_{template.strip()}", {})
        if key in found:
            return found[key]
    return sections.get("template_default", {}).get(key, default)


def list_datasets(ex: Executor, endpoint: Endpoint) -> list[DatasetInfo]:
    """Every dataset on `endpoint` (raises CommandFailed when zfs cannot list)."""
    listing = ex.run(endpoint, LIST_ARGV, changes=False)
    conf = ex.run(endpoint, ["cat", SANOID_CONF], changes=False, check=False)
    sections = parse_sanoid(conf.stdout) if conf.status == 0 else {}
    return parse(listing.stdout, sections)


def pools(ex: Executor, endpoint: Endpoint) -> list[str]:
    return ex.run(endpoint, POOLS_ARGV, changes=False).stdout.split()


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
