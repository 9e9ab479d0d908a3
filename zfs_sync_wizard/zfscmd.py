"""The argv of every zfs command the runner issues (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from .planning import Send


def send(dataset: str, step: Send, flags: Sequence[str] = ()) -> list[str]:
    argv = ["zfs", "send", *flags]
    if step.base is not None:
        argv += ["-I" if step.intermediate else "-i", f"{dataset}@{step.base}"]
    return argv + [f"{dataset}@{step.target}"]


def receive(dataset: str, step: Send | None, resumable: bool = False) -> list[str]:
    # -u: never mount on the destination (no atime changes, no mountpoint clashes)
    # -s: an interrupted receive keeps its progress (receive_resume_token)
    argv = ["zfs", "receive", "-u"]
    if resumable:
        argv.append("-s")
    if step is not None and step.force:
        argv.append("-F")
    return argv + [dataset]


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


def release(tag: str, dataset: str, name: str) -> list[str]:
    return ["zfs", "release", tag, f"{dataset}@{name}"]


def snapshot(dataset: str, name: str, recursive: bool) -> list[str]:
    return ["zfs", "snapshot"] + (["-r"] if recursive else []) + [f"{dataset}@{name}"]


def destroy_snapshot(dataset: str, name: str) -> list[str]:
    # one snapshot per command: zfs-fuse has no comma lists or ranges
    return ["zfs", "destroy", f"{dataset}@{name}"]


def rollback(dataset: str, name: str) -> list[str]:
    return ["zfs", "rollback", "-r", f"{dataset}@{name}"]


def create_parents(dataset: str) -> list[str]:
    return ["zfs", "create", "-p", dataset]


def unmount(dataset: str) -> list[str]:
    return ["zfs", "unmount", dataset]


def set_readonly(dataset: str) -> list[str]:
    return ["zfs", "set", "readonly=on", dataset]
