"""prune.destroy: one `zfs destroy ds@a,b,c` per dataset where zfs takes lists, one per
snapshot where it does not (zfs-fuse), and a refused list retried one by one.

The `zfs` here is a tiny real script on PATH that logs its argv: no ZFS needed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.jobs.job import from_mapping
from zfs_sync_wizard.planning.capabilities import Capabilities
from zfs_sync_wizard.running import prune
from zfs_sync_wizard.running.context import RunOptions, RunState
from zfs_sync_wizard.running.execute import Executor

pytestmark = pytest.mark.timeout(60)

OPENZFS = Capabilities(receive=frozenset("s"), receive_abort=True)
FUSE = Capabilities(receive=frozenset("vnF"))

# refuses comma lists holding "held", and "held" itself, as zfs does for a held snapshot
FAKE_ZFS = """#!/bin/sh
echo "$*" >> "$ZFS_LOG"
case "$*" in
  *held*) echo "cannot destroy snapshot $2: dataset is busy" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def zfs_log(tmp_path: Path, monkeypatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "zfs").write_text(FAKE_ZFS)
    (bin_dir / "zfs").chmod(0o755)
    log = tmp_path / "zfs.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ZFS_LOG", str(log))
    return log


def state() -> RunState:
    job = from_mapping(
        {"source": {"dataset": "tank/a"}, "destination": {"dataset": "backup/a"}}, "j", "j.yaml"
    )
    return RunState(job, RunOptions(), Executor())


def commands(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_a_list_per_dataset_where_zfs_takes_one(zfs_log):
    names = [f"s{n}" for n in range(600)]
    prune.destroy(state(), Endpoint(), OPENZFS, "tank/a", names)
    assert commands(zfs_log) == [
        "destroy tank/a@" + ",".join(names[:500]),
        "destroy tank/a@" + ",".join(names[500:]),
    ]


def test_one_per_snapshot_on_zfs_fuse(zfs_log):
    prune.destroy(state(), Endpoint(), FUSE, "tank/a", ["a", "b"])
    assert commands(zfs_log) == ["destroy tank/a@a", "destroy tank/a@b"]


def test_a_refused_list_is_retried_one_by_one_and_the_refusal_named(zfs_log):
    s = state()
    prune.destroy(s, Endpoint(), OPENZFS, "tank/a", ["a", "held", "b"])
    assert commands(zfs_log) == [
        "destroy tank/a@a,held,b",
        "destroy tank/a@a",
        "destroy tank/a@held",
        "release zsw_j tank/a@held",  # a hold of ours left by a killed run would go
        "destroy tank/a@held",
        "destroy tank/a@b",
    ]
    assert len(s.outcome.warnings) == 1 and "could not prune tank/a@held on" in s.outcome.warnings[0]


def test_nothing_to_destroy_runs_nothing(zfs_log):
    prune.destroy(state(), Endpoint(), OPENZFS, "tank/a", [])
    assert commands(zfs_log) == []
