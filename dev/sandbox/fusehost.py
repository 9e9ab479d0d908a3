"""A host of the zfs-fuse sandbox: commands run inside its namespaces.

``nsenter`` enters the host's mount, UTS and network namespaces (kept alive
by bind-mounted namespace files), so a command sees the host's own /run
(zfs-fuse socket, sshd), its pools' mounts, its hostname and its address.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import proc
from .host import Host
from .proc import Input, SandboxError

# $1: directory, $2: fresh scratch dir on the host's /run, $3...: names to hide.
_OVERLAY_SCRIPT = r"""
set -eu
dir=$1 top=$2
shift 2
if [ "$(findmnt -n -o SOURCE --mountpoint "$dir" || true)" = zsw-hide ]; then
    umount -l "$dir"
fi
[ "$#" -gt 0 ] || exit 0
mkdir -p "$top/upper" "$top/work"
for name; do mknod "$top/upper/$name" c 0 0; done  # overlayfs whiteouts
mount -t overlay zsw-hide -o "lowerdir=$dir,upperdir=$top/upper,workdir=$top/work" "$dir"
"""


class FuseHost(Host):
    mode = "fuse"

    def __init__(self, *, ns_dir: Path, **kw):
        super().__init__(**kw)
        self.ns_files = {kind: ns_dir / f"{self.name}.{kind}" for kind in ("mnt", "uts", "net")}
        self._hidden: dict[str, list[str]] = {}
        self._overlay_count = 0
        self._boot_mounts: set[int] = set()

    def _enter(self, argv: Sequence[str], cwd: str, env: Mapping[str, str] | None) -> list[str]:
        # nsenter opens --wd in the root namespace before entering: any path
        # the caller can see works, even one the host has mounted over.
        assignments = [f"{k}={v}" for k, v in self.environment(env).items()]
        return [
            "nsenter",
            f"--mount={self.ns_files['mnt']}",
            f"--uts={self.ns_files['uts']}",
            f"--net={self.ns_files['net']}",
            f"--wd={cwd}",
            "--",
            "env",
            "-i",
            *assignments,
            *argv,
        ]

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
        workdir = os.fspath(cwd) if cwd is not None else os.getcwd()
        full = self._enter(argv, workdir, env)
        return proc.run(full, where=self.name, check=check, input=input, timeout=timeout, shown=argv)

    def spawn(self, argv: Sequence[str], *, log: Path) -> subprocess.Popen[bytes]:
        """Start a foreground daemon on this host; ``stop`` kills and reaps it."""
        daemon = proc.spawn(self._enter(argv, "/", None), log=log)
        self.daemons.append(daemon)
        return daemon

    # -- hiding tools -----------------------------------------------------------

    def hide_command(self, name: str) -> None:
        """Make ``name`` missing on this host, also for ssh sessions into it.

        Each directory holding it gets an overlay (in the host's mount
        namespace only) with a whiteout for it: the file is then absent, as
        on a machine without the tool. A non-executable file mounted over it
        would not do: bash's ``command -v`` still prints such a file.
        """
        if name in self._hidden:
            return
        found = self.sh(
            'IFS=:; for d in $PATH; do [ -e "$d/$1" ] && readlink -f "$d/$1"; done; true',
            name,
        ).stdout.split()
        if not found:
            raise SandboxError(f"on {self.name}: no {name!r} on PATH to hide")
        self._hidden[name] = list(dict.fromkeys(found))
        self._rebuild_overlays({os.path.dirname(p) for p in found})
        if self.sh('command -v "$1"', name, check=False).returncode == 0:
            raise SandboxError(f"on {self.name}: {name!r} is still found after hiding")

    def unhide_command(self, name: str) -> None:
        paths = self._hidden.pop(name, [])
        self._rebuild_overlays({os.path.dirname(p) for p in paths})

    def _rebuild_overlays(self, dirs: set[str]) -> None:
        # An overlay's whiteouts can't change while mounted: replace it.
        for directory in sorted(dirs):
            names = [
                os.path.basename(p)
                for paths in self._hidden.values()
                for p in paths
                if os.path.dirname(p) == directory
            ]
            self._overlay_count += 1
            top = f"/run/zsw-hide/{self._overlay_count}"
            self.sh(_OVERLAY_SCRIPT, directory, top, *names)

    # -- between tests ------------------------------------------------------------

    def reset(self) -> None:
        """Kill stray processes, undo mounts and destroy every pool on the host.

        All pools go, not only those made through ``create_pool``: on this
        throwaway host a pool a test imported or renamed is just as stale.
        Every mount made since boot goes too (hidden tools, wrapped ones),
        pools' own mounts after their pools.
        """
        self.kill_strays()
        self._unmount_since_boot(keep_fstype="fuse.zfs")
        self._hidden.clear()
        super().reset()
        for pool in self.pools():
            self.destroy_pool(pool)
        self._unmount_since_boot()

    def remember_boot_mounts(self) -> None:
        """Record the mount table that ``reset`` returns to."""
        self._boot_mounts = {mount_id for mount_id, _, _ in self._mounts()}

    def _mounts(self) -> list[tuple[int, str, str]]:
        """(mount id, mountpoint, fstype) of each mount the host sees."""
        mounts = []
        for line in self.run(["cat", "/proc/self/mountinfo"]).stdout.splitlines():
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            mounts.append((int(fields[0]), fields[4].replace("\\040", " "), fstype))
        return mounts

    def _unmount_since_boot(self, keep_fstype: str = "") -> None:
        # Newest first: a later mount may sit on top of an earlier one.
        extra = sorted(
            (m for m in self._mounts() if m[0] not in self._boot_mounts and m[2] != keep_fstype),
            reverse=True,
        )
        if extra:
            self.sh('for m; do umount -l "$m"; done', *[mountpoint for _, mountpoint, _ in extra])

    def processes(self) -> list[int]:
        """Pids of every process inside this host's mount namespace."""
        return proc.processes_in([self.ns_files["mnt"]])

    def kill_strays(self) -> None:
        """Kill what a test left running on the host (sessions, receivers...)."""
        keep = {daemon.pid for daemon in self.daemons}
        proc.kill_all([pid for pid in self.processes() if pid not in keep])
