"""zfs-sync-run as pip installed it (tests/installed.py), run on this machine,
replicating between the two guests."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import yaml

from tests import installed
from tests.integration.replication import NO_PERIODS, ok

__all__ = ["Product", "kill_here", "ok", "same"]


class Product:
    def __init__(self, base: Path):
        self.config, self.state = base / "config", base / "state"
        (self.config / "jobs").mkdir(parents=True, exist_ok=True)
        (self.config / "defaults.yaml").write_text(yaml.safe_dump(NO_PERIODS))

    def job(self, name: str, source: dict, destination: dict, **sections) -> None:
        data = {"version": 1, "source": source, "destination": destination, **sections}
        (self.config / "jobs" / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    def argv(self, *args: str) -> list:
        program = installed.product().program("zfs-sync-run")
        return [program, "--config-dir", str(self.config), "--state-dir", str(self.state), *args]

    def run(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return subprocess.run(
            self.argv(*args), capture_output=True, text=True, timeout=timeout, env=env, cwd="/"
        )

    def start(self, *args: str) -> Background:
        return Background(lambda: self.run(*args))

    def record(self, name: str) -> dict:
        return json.loads((self.state / "runs" / f"{name}.json").read_text())


class Background:
    def __init__(self, call):
        self.result = None
        self.thread = threading.Thread(target=lambda: setattr(self, "result", call()), daemon=True)
        self.thread.start()

    def wait(self, timeout: float = 300) -> subprocess.CompletedProcess:
        self.thread.join(timeout)
        assert self.result is not None, "the run did not finish"
        return self.result


def kill_here(pattern: str, timeout: float = 60) -> int:
    """SIGKILL the first process on this machine matching `pattern` (pgrep -f), once it exists."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
        if found:
            subprocess.run(["kill", "-KILL", found[0]], check=False)
            return int(found[0])
        time.sleep(0.1)
    raise AssertionError(f"no process matching {pattern!r}")


def same(src, src_ds: str, dst, dst_ds: str) -> dict:
    """Same snapshots (by GUID) and same files in the newest snapshot on both guests."""
    src_snaps, dst_snaps = src.snapshots(src_ds), dst.snapshots(dst_ds)
    assert src_snaps and dst_snaps == src_snaps
    newest = list(src_snaps)[-1]
    assert dst.checksum(f"{dst_ds}@{newest}") == src.checksum(f"{src_ds}@{newest}")
    return dst_snaps
