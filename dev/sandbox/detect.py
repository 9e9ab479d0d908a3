"""Which sandbox mode this machine allows.

zfs-fuse and OpenZFS (zfsutils-linux) cannot share a machine: zfs-fuse's
daemon answers the same ``zfs``/``zpool`` commands and claims the same
socket and pool cache. So where OpenZFS is present the sandbox never starts
zfs-fuse, and the zfs-fuse test tier is skipped with ``OPENZFS_SKIP_MESSAGE``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .proc import SYSTEM_PATH

OPENZFS_SKIP_MESSAGE = (
    "OpenZFS is present on this machine (zfs kernel module or zfsutils-linux), "
    "so the zfs-fuse integration tier is skipped: zfs-fuse conflicts with "
    "OpenZFS. Run the integration tests where OpenZFS is absent, or in the "
    "OpenZFS qemu guest (tier 2 in TEST-BACKENDS.md)."
)

# What fuse mode needs on the machine, besides root and /dev/fuse.
FUSE_MODE_TOOLS = (
    "zfs-fuse",
    "zfs",
    "zpool",
    "unshare",
    "nsenter",
    "ip",
    "mount",
    "umount",
    "sshd",
    "ssh",
    "ssh-keygen",
)


def _which(tool: str) -> str | None:
    return shutil.which(tool, path=SYSTEM_PATH)


def _quiet(argv: list[str]) -> str:
    """stdout of ``argv``, or "" if it is missing or fails to start."""
    try:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=10,
            env={"PATH": SYSTEM_PATH, "LANG": "C"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout


def openzfs_present() -> bool:
    """True if OpenZFS is loaded, installed, or answers ``zfs version``."""
    if Path("/sys/module/zfs").exists():
        return True
    if _which("dpkg-query"):
        status = _quiet(["dpkg-query", "-W", "-f", "${Status}", "zfsutils-linux"])
        if "install ok installed" in status:
            return True
    if _which("zfs"):
        # zfs-fuse has no "version" subcommand; OpenZFS prints "zfs-2.x.y".
        return _quiet(["zfs", "version"]).startswith("zfs-")
    return False


def fuse_mode_unavailable() -> str | None:
    """Why fuse mode cannot run here, or None if it can."""
    if openzfs_present():
        return OPENZFS_SKIP_MESSAGE
    if os.geteuid() != 0:
        return "the zfs-fuse sandbox needs root (namespaces, mounts, zfs-fuse)"
    if not Path("/dev/fuse").exists():
        return "the zfs-fuse sandbox needs /dev/fuse"
    missing = [tool for tool in FUSE_MODE_TOOLS if not _which(tool)]
    if missing:
        return f"the zfs-fuse sandbox needs these tools: {', '.join(missing)}"
    return None
