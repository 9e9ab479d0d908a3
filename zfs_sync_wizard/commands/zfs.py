"""The argv of every zfs (and zpool) command this tool issues (pure).

Nothing else builds a zfs command line: the runner, the wizard and the
probes take theirs from here, so what a dry run prints, what a test expects
and what runs are the same lists.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..planning.inventory import PROPERTIES
from ..planning.plan import Send


def listing(dataset: str, recursive: bool, extra: Sequence[str] = ()) -> list[str]:
    """One side's datasets and snapshots with exact integers (planning/inventory.py parses it)."""
    props = ",".join(list(PROPERTIES) + list(extra))
    argv = ["zfs", "get", "-Hp"]
    if recursive:
        argv.append("-r")
    else:
        argv += ["-d", "1"]  # the dataset and its own snapshots only
    return argv + ["-o", "name,property,value", props, dataset]


def snapshots_listing(datasets: Sequence[str], name: str) -> list[str]:
    """The listing of snapshot `name` of each dataset (one command for all)."""
    return ["zfs", "get", "-Hp", "-o", "name,property,value", ",".join(PROPERTIES)] + [
        f"{d}@{name}" for d in datasets
    ]


def all_datasets() -> list[str]:
    """Every dataset and snapshot of every pool, with type and sizes (the wizard's list)."""
    return ["zfs", "get", "-Hp", "-o", "name,property,value", "type,used,referenced"]


def pool_sync(pool: str) -> list[str]:
    """Commit the pool's open transaction group, so `written` counts what was just written."""
    return ["zpool", "sync", pool]


def pools() -> list[str]:
    return ["zpool", "list", "-H", "-o", "name"]


def value(prop: str, dataset: str, parsable: bool = False) -> list[str]:
    """One property's value alone (`-p`: exact integers)."""
    return ["zfs", "get", "-Hp" if parsable else "-H", "-o", "value", prop, dataset]


def written(dataset: str, base: str | None) -> list[str]:
    """Bytes written since `base` (or referenced, for a full send): a stream's approximate size."""
    return value(f"written@{base}" if base else "referenced", dataset, parsable=True)


def local_properties(dataset: str, props: Sequence[str]) -> list[str]:
    """Which of `props` the dataset and its descendants set themselves (a tree stream carries them)."""
    return ["zfs", "get", "-H", "-r", "-s", "local", "-o", "name,property", ",".join(props), dataset]


def bookmarks(dataset: str) -> list[str]:
    """The dataset's own bookmarks with their createtxg (OpenZFS; zfs-fuse has none and fails)."""
    return ["zfs", "list", "-H", "-p", "-t", "bookmark", "-o", "name,createtxg", "-d", "1", dataset]


def resume_token(dataset: str) -> list[str]:
    return value("receive_resume_token", dataset)


def send(dataset: str, step: Send, flags: Sequence[str] = (), tree: bool = False) -> list[str]:
    """`tree`: the dataset and every descendant in one replication stream (-R, planning/tree.py)."""
    argv = ["zfs", "send", *flags, *(["-R"] if tree else [])]
    if step.base is not None:
        argv += ["-I" if step.intermediate else "-i", f"{dataset}@{step.base}"]
    return argv + [f"{dataset}@{step.target}"]


def receive(
    dataset: str, step: Send | None, resumable: bool = False, options: Sequence[str] = ()
) -> list[str]:
    # -u: never mount on the destination (no atime changes, no mountpoint clashes)
    # -s: an interrupted receive keeps its progress (receive_resume_token)
    # options: -o PROPERTY=VALUE / -x PROPERTY (destination.properties)
    argv = ["zfs", "receive", "-u"]
    if resumable:
        argv.append("-s")
    if step is not None and step.force:
        argv.append("-F")
    return argv + list(options) + [dataset]


def send_token(token: str) -> list[str]:
    """Resume a partial receive: the token carries the stream's flags."""
    return ["zfs", "send", "-t", token]


def estimate(send_argv: Sequence[str]) -> list[str]:
    """The dry-run form of a send, which prints its size (`size<TAB>BYTES`)."""
    return [*send_argv[:2], "-nvP", *send_argv[2:]]


def abort_receive(dataset: str) -> list[str]:
    return ["zfs", "receive", "-A", dataset]


def hold(tag: str, dataset: str, name: str) -> list[str]:
    return ["zfs", "hold", tag, f"{dataset}@{name}"]


def hold_all(tag: str, snapshots: Sequence[str]) -> list[str]:
    """One `zfs hold` for many snapshots (`dataset@name`): one command per side, not per dataset."""
    return ["zfs", "hold", tag, *snapshots]


def release(tag: str, dataset: str, name: str) -> list[str]:
    return ["zfs", "release", tag, f"{dataset}@{name}"]


def holds(snapshots: Sequence[str]) -> list[str]:
    """Every hold on these snapshots (`NAME<TAB>TAG<TAB>TIMESTAMP`), one command for all."""
    return ["zfs", "holds", "-H", *snapshots]


def release_all(tag: str, snapshots: Sequence[str]) -> list[str]:
    return ["zfs", "release", tag, *snapshots]


def snapshot(dataset: str, name: str, recursive: bool) -> list[str]:
    return ["zfs", "snapshot"] + (["-r"] if recursive else []) + [f"{dataset}@{name}"]


def snapshots(datasets: Sequence[str], name: str) -> list[str]:
    """Snapshot `name` of each of `datasets` (several at once, atomically, on OpenZFS)."""
    return ["zfs", "snapshot", *(f"{d}@{name}" for d in datasets)]


def destroy_snapshot(dataset: str, name: str) -> list[str]:
    # one snapshot per command: what zfs-fuse takes (it has no comma lists or ranges)
    return ["zfs", "destroy", f"{dataset}@{name}"]


def destroy_snapshots(dataset: str, names: Sequence[str]) -> list[str]:
    """Several snapshots of one dataset in one command (OpenZFS: `ds@a,b,c`)."""
    return ["zfs", "destroy", f"{dataset}@{','.join(names)}"]


def destroy_recursive(dataset: str, names: Sequence[str]) -> list[str]:
    """Snapshots `names` of `dataset` and of every descendant that has them (`-r`; several names
    only where zfs takes a list: OpenZFS)."""
    return ["zfs", "destroy", "-r", f"{dataset}@{','.join(names)}"]


def destroy_estimate(dataset: str, names: Sequence[str]) -> list[str]:
    """What destroying them would free, destroying nothing (`-n`; OpenZFS: `reclaim<TAB>BYTES`)."""
    return ["zfs", "destroy", "-nvp", f"{dataset}@{','.join(names)}"]


def rollback(dataset: str, name: str) -> list[str]:
    return ["zfs", "rollback", "-r", f"{dataset}@{name}"]


def create_parents(dataset: str) -> list[str]:
    return ["zfs", "create", "-p", dataset]


def unmount(dataset: str) -> list[str]:
    return ["zfs", "unmount", dataset]


def set_readonly(*datasets: str) -> list[str]:
    """readonly=on for every dataset named: one command for all that arrived in full."""
    return ["zfs", "set", "readonly=on", *datasets]


def rename(old: str, new: str) -> list[str]:
    """Swapping a restored dataset into place is two of these (never run without a second yes)."""
    return ["zfs", "rename", old, new]


def mount_state(dataset: str) -> list[str]:
    """`mounted` and `mountpoint`, one value a line (--verify --deep: can .zfs be reached?)."""
    return ["zfs", "get", "-H", "-o", "value", "mounted,mountpoint", dataset]


def readonly_clone(dataset: str, snapshot: str, clone: str, mountpoint: str) -> list[str]:
    """A temporary read-only clone to read a snapshot where `.zfs` cannot be (zfs-fuse, unmounted)."""
    return [
        "zfs",
        "clone",
        "-o",
        "readonly=on",
        "-o",
        f"mountpoint={mountpoint}",
        f"{dataset}@{snapshot}",
        clone,
    ]


def mount(dataset: str) -> list[str]:
    return ["zfs", "mount", dataset]


def destroy_clone(clone: str) -> list[str]:
    # -f unmounts it even while busy: it is ours, temporary and read-only
    return ["zfs", "destroy", "-f", clone]
