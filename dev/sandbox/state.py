"""Where sandboxes keep their state, and how dead ones are reaped.

Layout (``<id>`` is 8 random hex digits, so sandboxes can coexist)::

    /run/zsw-sandbox/<id>/         state (tmpfs: gone after a reboot)
        owner                      "<pid> <start time>" of the owning process
        mode                       "fuse" or "openzfs"
        ns/                        private bind mount holding namespace files
        pids/                      pid files of daemons started outside hosts
        pools                      pool names created in openzfs mode
        client/                    client key and known_hosts (/root/.ssh)
        src/, dst/                 fuse mode: host keys, sshd config, logs, pids
        mnt/<host>/                openzfs mode: the hosts' pool altroots
    /var/tmp/zsw-sandbox/<id>/     pool image files (may be large)

A sandbox whose owner is dead is reaped by the next ``Sandbox.start()``:
every process inside its host namespaces is killed, its daemons are killed
by pid file, the pools it created (openzfs mode, by recorded name) are
destroyed, its mounts are lazily unmounted and its directories removed.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from . import proc

DEFAULT_RUN_BASE = Path("/run/zsw-sandbox")
DEFAULT_DATA_BASE = Path("/var/tmp/zsw-sandbox")

# A state dir without an owner file is only stale once it is clearly not
# one being created right now.
_UNOWNED_GRACE_SECONDS = 60


@dataclass(frozen=True)
class SandboxDirs:
    id: str
    run: Path
    data: Path

    @property
    def ns(self) -> Path:
        return self.run / "ns"

    @property
    def pids(self) -> Path:
        return self.run / "pids"

    @property
    def pools_file(self) -> Path:
        return self.run / "pools"

    @property
    def pool_prefix(self) -> str:
        """Prefix of every pool name this sandbox creates in openzfs mode."""
        return f"zsw{self.id}"


def create(run_base: Path, data_base: Path, mode: str) -> SandboxDirs:
    """Make directories for a new sandbox owned by this process."""
    run_base.mkdir(mode=0o755, parents=True, exist_ok=True)
    while True:
        sid = secrets.token_hex(4)
        try:
            (run_base / sid).mkdir(mode=0o755)
            break
        except FileExistsError:
            continue
    dirs = SandboxDirs(sid, run_base / sid, data_base / sid)
    me = os.getpid()
    (dirs.run / "owner").write_text(f"{me} {proc.start_time(me)}\n")
    (dirs.run / "mode").write_text(mode + "\n")
    dirs.pids.mkdir()
    dirs.data.mkdir(parents=True)
    return dirs


def owner_alive(dirs: SandboxDirs) -> bool:
    try:
        pid_text, started = (dirs.run / "owner").read_text().split()
    except (OSError, ValueError):
        age = time.time() - _mtime(dirs.run)
        return age < _UNOWNED_GRACE_SECONDS
    pid = int(pid_text)
    return proc.pid_alive(pid) and proc.start_time(pid) == started


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def reap_stale(run_base: Path, data_base: Path) -> list[str]:
    """Reap every sandbox under these bases whose owner is dead; return ids."""
    if not run_base.is_dir():
        return []
    reaped = []
    # Two sandboxes starting at once must not reap the same one twice.
    with open(run_base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for entry in sorted(run_base.iterdir()):
            if not entry.is_dir():
                continue
            dirs = SandboxDirs(entry.name, entry, data_base / entry.name)
            if not owner_alive(dirs):
                reap(dirs)
                reaped.append(dirs.id)
        _remove_orphan_data(run_base, data_base)
    return reaped


def _remove_orphan_data(run_base: Path, data_base: Path) -> None:
    # After a reboot /run is empty but /var/tmp still holds pool images.
    if data_base.is_dir():
        for entry in data_base.iterdir():
            if not (run_base / entry.name).exists():
                shutil.rmtree(entry, ignore_errors=True)


def reap(dirs: SandboxDirs) -> None:
    """Forcefully remove one sandbox; safe to call on a half-built one."""
    kill_namespace_processes(dirs)
    kill_pidfile_daemons(dirs)
    destroy_recorded_pools(dirs)
    unmount_under(dirs.run)
    shutil.rmtree(dirs.run, ignore_errors=True)
    shutil.rmtree(dirs.data, ignore_errors=True)


def kill_namespace_processes(dirs: SandboxDirs) -> None:
    """Kill every process inside the sandbox's host mount namespaces.

    Killing by namespace (not just by pid file) also gets ssh sessions,
    receivers and product runs a crashed test left behind in a host.
    """
    ns_files = sorted(dirs.ns.glob("*.mnt")) if dirs.ns.is_dir() else []
    proc.kill_all(proc.processes_in(ns_files))


def kill_pidfile_daemons(dirs: SandboxDirs) -> None:
    """Kill daemons started outside any namespace (openzfs mode's sshd)."""
    daemons = []
    for pidfile in dirs.pids.glob("*.pid") if dirs.pids.is_dir() else ():
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        # Pid files outlive their process: only kill what is still sshd.
        if proc.command_name(pid) == "sshd":
            daemons.append(pid)
    daemons += [pid for pid in _children(daemons) if proc.command_name(pid) == "sshd"]
    proc.kill_all(daemons)


def _children(parents: list[int]) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(stat[1]) in parents:
                found.append(int(entry.name))
    return found


def recorded_pools(dirs: SandboxDirs) -> list[str]:
    try:
        names = dirs.pools_file.read_text().split()
    except OSError:
        return []
    # Never trust the file alone with a destroy: the name must be ours.
    return [n for n in dict.fromkeys(names) if n.startswith(dirs.pool_prefix)]


def destroy_recorded_pools(dirs: SandboxDirs) -> None:
    for name in recorded_pools(dirs):
        listed = proc.run(["zpool", "list", "-H", "-o", "name", name], check=False)
        if listed.returncode == 0:
            proc.run(["zpool", "destroy", "-f", name], check=False)


def unmount_under(path: Path) -> None:
    """Lazily unmount every mount at or below ``path`` (deepest first)."""
    for mountpoint in sorted(_mountpoints_under(path), reverse=True):
        proc.run(["umount", "-l", mountpoint], check=False)


def _mountpoints_under(path: Path) -> list[str]:
    prefix = str(path)
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            mountpoint = line.split()[4].replace("\\040", " ")
            if mountpoint == prefix or mountpoint.startswith(prefix + "/"):
                found.append(mountpoint)
    return found
