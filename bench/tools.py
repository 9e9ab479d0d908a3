"""The tools compared by bench/compare.py and the command each runs per scenario.

Every tool pushes from the sandbox host ``src`` to ``dst`` over ssh with the
same key (the sandbox's /root/.ssh). Each is installed in its own
environment: zfs-sync-run as a wheel in a fresh venv (tests/installed.py),
syncoid from Debian's ``sanoid`` package, zfs_autobackup and bzfs from PyPI in
venvs under /var/tmp/zsw-bench/venvs (created on first use).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.throughput import MEASURE_RSS  # noqa: E402  (prints the runner's peak RSS at exit)
from tests import installed  # noqa: E402

VENVS = Path("/var/tmp/zsw-bench/venvs")
SYNCOID_PROGRAM = "/usr/sbin/syncoid"
PYPI = {"zfs_autobackup": ("zfs-autobackup", "zfs-autobackup"), "bzfs": ("bzfs", "bzfs")}


@dataclass(frozen=True)
class Variant:
    """One column entry: a tool with its settings."""

    key: str  # JSON key
    slug: str  # in dataset and state-directory names
    tool: str  # table column: bare, zfs-sync-run, syncoid, zfs_autobackup, bzfs
    label: str  # how the table cell names the settings ("" for the default)
    compression: str | None = None  # None: the tool's default


BARE = Variant("bare", "bare", "bare", "")
ZSR = Variant("zfs-sync-run", "zsr", "zfs-sync-run", "default")
ZSR_NONE = Variant("zfs-sync-run/none", "zsr-none", "zfs-sync-run", "`compression: none`", "none")
SYNCOID = Variant("syncoid", "syncoid", "syncoid", "default")
SYNCOID_NONE = Variant("syncoid/none", "syncoid-none", "syncoid", "`--compress=none`", "none")
ZAB = Variant("zfs_autobackup", "zab", "zfs_autobackup", "")
BZFS = Variant("bzfs", "bzfs", "bzfs", "")
PEERS = (SYNCOID, ZAB)


def pypi_tool(name: str) -> str:
    """The program of a PyPI peer in its own venv, installed on first use."""
    package, program = PYPI[name]
    venv = VENVS / name
    if not (venv / "bin" / program).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", package]
        subprocess.run(pip, check=True)
    return str(venv / "bin" / program)


class Tools:
    """Installs every tool once and builds the argv of each run on ``src``."""

    def __init__(self, dst_address: str, work: Path):
        self.target = f"root@{dst_address}"
        self.work = work
        self.product = installed.product()
        self.zab = pypi_tool("zfs_autobackup")
        self.bzfs = pypi_tool("bzfs")
        self.bzfs_logs = work / "bzfs-logs"

    def versions(self) -> dict[str, str]:
        def first_line(argv: list[str]) -> str:
            done = subprocess.run(argv, capture_output=True, text=True)
            return (done.stdout + done.stderr).strip().splitlines()[0]

        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True)
        return {
            "zfs-sync-run": f"{first_line([self.product.program('zfs-sync-run'), '--version'])} at {head.stdout.decode().strip()}",
            "syncoid": first_line([SYNCOID_PROGRAM, "--version"]).replace(f"{SYNCOID_PROGRAM} ", ""),
            "zfs_autobackup": first_line([self.zab, "--version"]),
            "bzfs": first_line([self.bzfs, "--version"]).split(",")[0],
        }

    # -- one run of a tool ------------------------------------------------------

    def zsr(self, variant: Variant, source: str, dest: str, *, recursive: bool, state: Path) -> list[str]:
        """zfs-sync-run with a job "bench"; ``state`` (config and state dirs) persists between runs."""
        job: dict = {
            "source": {"dataset": source, "recursive": recursive},
            "destination": {"dataset": dest, "host": self.target},
        }
        if variant.compression:
            job["transfer"] = {"compression": variant.compression}
        (state / "config" / "jobs").mkdir(parents=True, exist_ok=True)
        (state / "config" / "jobs" / "bench.yaml").write_text(yaml.safe_dump(job, sort_keys=False))
        return [
            self.product.python,
            "-c",
            MEASURE_RSS,
            "--config-dir",
            str(state / "config"),
            "--state-dir",
            str(state / "state"),
            "bench",
        ]

    def syncoid(self, variant: Variant, source: str, dest: str, *, recursive: bool) -> list[str]:
        argv = [SYNCOID_PROGRAM]
        if variant.compression:
            argv.append(f"--compress={variant.compression}")
        if recursive:
            argv.append("-r")
        return [*argv, source, f"{self.target}:{dest}"]

    def zfs_autobackup(self, name: str, dest_parent: str, strip: int) -> list[str]:
        """Backs up every source dataset with ``autobackup:<name>`` set (see ``select``)."""
        return [
            self.zab,
            "--ssh-target",
            self.target,
            "--strip-path",
            str(strip),
            name,
            dest_parent,
        ]

    @staticmethod
    def zab_select(name: str, source: str) -> list[str]:
        return ["zfs", "set", f"autobackup:{name}=true", source]

    def bzfs_run(self, source: str, dest: str, *, recursive: bool) -> list[str]:
        argv = [self.bzfs, source, f"{self.target}:{dest}", "--log-dir", str(self.bzfs_logs)]
        return argv + (["--recursive"] if recursive else [])

    @staticmethod
    def bare_send(snapshot: str, dest: str, target: str, *, base: str = "", tree: bool = False) -> str:
        """The bare pipeline: ``zfs send [-R] [-I base] snap | ssh target zfs receive -u dest``."""
        send = ["zfs", "send"] + (["-R"] if tree else []) + (["-I" if tree else "-i", base] if base else [])
        return f"{shlex.join([*send, snapshot])} | ssh {target} zfs receive -u {shlex.quote(dest)}"

    # -- dispatch ------------------------------------------------------------------

    def setup(self, variant: Variant, source: str) -> list[list[str]]:
        """Untimed commands before a tool's first run on ``source``."""
        return [self.zab_select(zab_name(source), source)] if variant is ZAB else []

    def command(self, variant: Variant, source: str, dest: str, *, recursive: bool, state: Path) -> list[str]:
        """The argv of one run of ``variant`` (not bare) replicating ``source`` to ``dest`` on dst."""
        if variant.tool == "zfs-sync-run":
            return self.zsr(variant, source, dest, recursive=recursive, state=state)
        if variant.tool == "syncoid":
            return self.syncoid(variant, source, dest, recursive=recursive)
        if variant is ZAB:
            # zfs_autobackup names the destination after the source: parent + the source's last component.
            parent, leaf = dest.rsplit("/", 1)
            assert leaf == source.rsplit("/", 1)[1], (source, dest)
            return self.zfs_autobackup(zab_name(source), parent, source.count("/"))
        if variant is BZFS:
            return self.bzfs_run(source, dest, recursive=recursive)
        raise ValueError(variant)


def zab_name(source: str) -> str:
    """zfs_autobackup's backup name for ``source``: each source dataset gets its own selection property."""
    return source.replace("/", "_")
