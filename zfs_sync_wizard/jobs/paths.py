"""Where configuration and state live (flag, then environment, then default)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SYSTEM_CONFIG_DIR = Path("/etc/zfs-sync-wizard")
SYSTEM_STATE_DIR = Path("/var/lib/zfs-sync-wizard")


def _is_root() -> bool:
    return os.geteuid() == 0


def config_dir(flag: str | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    if flag:
        return Path(flag)
    if environ.get("ZFS_SYNC_CONFIG_DIR"):
        return Path(environ["ZFS_SYNC_CONFIG_DIR"])
    if _is_root():
        return SYSTEM_CONFIG_DIR
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "zfs-sync-wizard"


def state_dir(flag: str | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    if flag:
        return Path(flag)
    if environ.get("ZFS_SYNC_STATE_DIR"):
        return Path(environ["ZFS_SYNC_STATE_DIR"])
    if _is_root():
        return SYSTEM_STATE_DIR
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "zfs-sync-wizard"


def jobs_dir(conf: Path) -> Path:
    return conf / "jobs"


def job_path(conf: Path, name: str) -> Path:
    return jobs_dir(conf) / f"{name}.yaml"


def defaults_path(conf: Path) -> Path:
    return conf / "defaults.yaml"
