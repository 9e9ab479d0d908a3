"""The argv of every zfs command the runner issues (pure)."""

from __future__ import annotations

from .planning import Send


def send(dataset: str, step: Send) -> list[str]:
    argv = ["zfs", "send"]
    if step.base is not None:
        argv += ["-I" if step.intermediate else "-i", f"{dataset}@{step.base}"]
    return argv + [f"{dataset}@{step.target}"]


def receive(dataset: str, step: Send) -> list[str]:
    # -u: never mount on the destination (no atime changes, no mountpoint clashes)
    argv = ["zfs", "receive", "-u"]
    if step.force:
        argv.append("-F")
    return argv + [dataset]


def snapshot(dataset: str, name: str, recursive: bool) -> list[str]:
    return ["zfs", "snapshot"] + (["-r"] if recursive else []) + [f"{dataset}@{name}"]


def destroy_snapshot(dataset: str, name: str) -> list[str]:
    # one snapshot per command: zfs-fuse has no comma lists or ranges
    return ["zfs", "destroy", f"{dataset}@{name}"]


def rollback(dataset: str, name: str) -> list[str]:
    return ["zfs", "rollback", "-r", f"{dataset}@{name}"]


def create_parents(dataset: str) -> list[str]:
    return ["zfs", "create", "-p", dataset]


def set_readonly(dataset: str) -> list[str]:
    return ["zfs", "set", "readonly=on", dataset]
