"""A sandbox host: run commands on it, make pools, write and inspect data.

``Host`` holds what both modes share; ``FuseHost`` (fusehost.py) runs
commands inside the host's namespaces and ``LocalHost`` (openzfs.py) runs
them on this machine. Every command gets a clean environment: the PATH
below, ``HOME=/root`` and ``LANG=C.UTF-8``, plus caller-given env.  No
PYTHONPATH and no virtualenv on PATH: a test runs the product by the path
pip installed it at, so it never picks up the checkout by accident.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import proc
from .proc import SYSTEM_PATH, CommandError, Input

TREEHASH_SCRIPT = Path(__file__).with_name("treehash.py")


class Host:
    """One throwaway ZFS host; see the package docstring for the API."""

    mode = ""

    def __init__(
        self,
        *,
        name: str,
        hostname: str,
        address: str,
        ssh_port: int,
        client_key: Path,
        known_hosts: Path,
        altroot: str,
        image_dir: Path,
    ) -> None:
        self.name = name
        self.hostname = hostname
        self.address = address
        self.ssh_port = ssh_port
        self.client_key = client_key
        self.known_hosts = known_hosts
        self.sshd_log: Path | None = None  # where the host's sshd logs (VERBOSE), once started
        self.altroot = altroot
        self.image_dir = image_dir
        self._pools: dict[str, str] = {}
        self.daemons: list[subprocess.Popen[bytes]] = []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.hostname} {self.address}>"

    # -- running commands -------------------------------------------------

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {"PATH": SYSTEM_PATH, "HOME": "/root", "LANG": "C.UTF-8"}
        env.update(extra or {})
        return env

    def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: Input = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` on this host; text stdout/stderr are captured.

        ``input`` may be str or bytes. ``cwd`` defaults to the caller's
        working directory. With ``check`` a non-zero exit raises
        ``CommandError`` whose message names the host, command and stderr.
        """
        raise NotImplementedError

    def spawn(self, argv: Sequence[str], *, log: Path) -> subprocess.Popen[bytes]:
        """Start a foreground daemon on this host; ``reap_daemons`` ends it."""
        raise NotImplementedError

    def reap_daemons(self) -> None:
        for daemon in self.daemons:
            proc.reap(daemon)
        self.daemons.clear()

    def sh(self, script: str, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        """Run ``sh -c script`` on this host; ``args`` become ``$1``, ``$2``..."""
        return self.run(["sh", "-c", script, "sh", *args], **kwargs)

    # -- pools ----------------------------------------------------------------

    def pool_name(self, name: str) -> str:
        """The real pool name for ``name`` (modes that share a machine prefix it)."""
        return name

    def create_pool(
        self,
        name: str,
        size: str = "128M",
        properties: Mapping[str, str] | None = None,
    ) -> str:
        """Create a file-backed pool; return its real name.

        The pool is created with ``-R <altroot> -m /<name>``: it mounts at
        ``<altroot>/<name>`` and stays out of any pool cache, so nothing
        imports it behind the sandbox's back. ``properties`` become ``-O``.
        zfs-fuse needs at least 64M.
        """
        real = self.pool_name(name)
        self.image_dir.mkdir(parents=True, exist_ok=True)
        image = self.image_dir / f"{real}.img"
        proc.run(["truncate", "-s", size, str(image)])
        argv = ["zpool", "create", "-R", self.altroot, "-m", f"/{name}"]
        for key, value in (properties or {}).items():
            argv += ["-O", f"{key}={value}"]
        self._before_create(real)
        self.run([*argv, real, str(image)])
        self._pools[name] = real
        return real

    def _before_create(self, real_name: str) -> None:
        """Hook: openzfs mode records the name so a crashed run is reaped."""

    def destroy_pool(self, name: str) -> None:
        """Destroy a pool (by the name given to ``create_pool`` or its real name)."""
        real = self._pools.pop(name, None) or self.pool_name(name)
        self._pools = {k: v for k, v in self._pools.items() if v != real}
        try:
            self.run(["zpool", "destroy", "-f", real])
        except CommandError:
            # zfs-fuse often says "dataset is busy" right after a write.
            time.sleep(0.05)
            self.run(["zpool", "destroy", "-f", real])
        (self.image_dir / f"{real}.img").unlink(missing_ok=True)

    def created_pools(self) -> list[str]:
        """Real names of the pools created through this object and not destroyed."""
        return list(self._pools.values())

    def reset(self) -> None:
        """Return the host to its just-started state (between tests)."""
        for real in self.created_pools():
            self.destroy_pool(real)

    # -- data -----------------------------------------------------------------

    def mountpoint(self, dataset: str) -> str:
        """Where ``dataset`` is mounted on this host; error if it is not."""
        out = self.run(["zfs", "get", "-H", "-o", "property,value", "mountpoint,mounted", dataset]).stdout
        values = dict(line.split("\t", 1) for line in out.splitlines())
        if values.get("mounted") != "yes":
            raise proc.SandboxError(f"on {self.name}: {dataset} is not mounted")
        return values["mountpoint"]

    def path(self, dataset: str, relpath: str) -> str:
        return f"{self.mountpoint(dataset)}/{relpath.lstrip('/')}"

    def write_file(self, dataset: str, relpath: str, data: bytes) -> None:
        """Write ``data`` to ``relpath`` inside the mounted ``dataset``."""
        self.sh(
            'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"',
            self.path(dataset, relpath),
            input=bytes(data),
        )

    def write_random(self, dataset: str, relpath: str, size: int) -> None:
        """Write ``size`` random bytes to ``relpath`` inside ``dataset``."""
        self.sh(
            'mkdir -p -- "$(dirname -- "$1")" && head -c "$2" /dev/urandom > "$1"',
            self.path(dataset, relpath),
            str(int(size)),
        )

    def checksum(self, name: str) -> str:
        """sha256 over the mounted tree of a dataset or snapshot (treehash.py).

        Child datasets' mounts are not descended into; equal content gives an
        equal checksum on either host, whatever the mountpoint. A snapshot
        (``pool/fs@snap``) is read through a temporary clone, since zfs-fuse
        has no ``.zfs`` directory. Prefer snapshots on a receiving side:
        listing a live received dataset updates atime, which counts as a
        modification, and the next incremental receive without -F fails.
        """
        if "@" not in name:
            return self._tree_hash(self.mountpoint(name))
        leaf = f"zsw-checksum-{secrets.token_hex(4)}"
        clone = f"{name.split('@')[0].split('/')[0]}/{leaf}"
        self.run(["zfs", "clone", "-o", f"mountpoint=/{leaf}", name, clone])
        try:
            return self._tree_hash(self.mountpoint(clone))
        finally:
            self.destroy_dataset(clone)

    def _tree_hash(self, root: str) -> str:
        return self.run([sys.executable, "-I", str(TREEHASH_SCRIPT), root]).stdout.strip()

    def destroy_dataset(self, dataset: str) -> None:
        """Unmount and destroy ``dataset`` (recursively), retrying once if busy."""
        self.run(["zfs", "umount", dataset], check=False)
        try:
            self.run(["zfs", "destroy", "-r", dataset])
        except CommandError:
            # zfs-fuse: "dataset is busy" right after use; it passes on retry.
            time.sleep(0.05)
            self.run(["zfs", "destroy", "-r", dataset])

    def snapshots(self, dataset: str) -> dict[str, str]:
        """``{snapshot name after "@": guid}`` of ``dataset``, oldest first."""
        out = self.run(
            ["zfs", "get", "-Hp", "-r", "-o", "name,property,value", "guid,createtxg", dataset]
        ).stdout
        fields: dict[str, dict[str, str]] = {}
        for line in out.splitlines():
            name, prop, value = line.split("\t")
            if name.startswith(f"{dataset}@"):
                fields.setdefault(name.split("@", 1)[1], {})[prop] = value
        ordered = sorted(fields.items(), key=lambda item: int(item[1]["createtxg"]))
        return {snap: values["guid"] for snap, values in ordered}

    def props(self, dataset: str) -> str:
        """``zfs get -Hp -r all dataset``: for before/after comparisons.

        zfs-fuse's ``all`` leaves out guid and createtxg; see ``snapshots``.
        """
        return self.run(["zfs", "get", "-Hp", "-r", "all", dataset]).stdout

    def pools(self) -> list[str]:
        """Names of all pools this host's ZFS sees."""
        out = self.run(["zpool", "list", "-H", "-o", "name"]).stdout
        return out.split()

    # -- tools ----------------------------------------------------------------

    def hide_command(self, name: str) -> None:
        """Make the tool ``name`` missing on this host only."""
        raise NotImplementedError(f"{self.mode} mode cannot hide commands per host")

    def unhide_command(self, name: str) -> None:
        raise NotImplementedError(f"{self.mode} mode cannot hide commands per host")
