"""Protection and recovery on real zfs-fuse hosts: holds on the incremental
base, retries after an ssh drop. (Resumable receives need OpenZFS: see
tests/openzfs.)"""

from __future__ import annotations

import json

import pytest

from .replication import assert_same, ok, wait_for_process

pytestmark = pytest.mark.timeout(240)


def test_the_incremental_base_is_held_until_a_newer_common_snapshot_exists(hosts, media):
    src, dst = hosts.src, hosts.dst
    ok(media.run("media"))
    (base,) = src.snapshots("tank/media")
    refused = src.run(["zfs", "destroy", f"tank/media@{base}"], check=False)
    assert refused.returncode != 0 and "dataset is busy" in refused.stderr
    assert dst.run(["zfs", "destroy", f"backup/media@{base}"], check=False).returncode != 0

    status = media.run("--status", "media")
    assert status.returncode == 0
    assert f"tank/media@{base} is held (zfs hold zsw_media) on both sides" in status.stdout

    ok(media.run("media"))  # a newer common snapshot: the old base is released and pruned
    (newer,) = src.snapshots("tank/media")
    assert newer != base and dst.snapshots("backup/media") == src.snapshots("tank/media")
    userrefs = src.run(["zfs", "get", "-H", "-o", "value", "userrefs", f"tank/media@{newer}"]).stdout.strip()
    assert userrefs == "1"


def test_an_ssh_drop_mid_transfer_is_retried_and_recorded(hosts, media):
    media.slow("media", "50k")
    running = media.start("media")
    # the data connection, not the master or the remote side
    killed = wait_for_process(hosts.src, "^[^ ]*/ssh .*zfs receive -u")
    hosts.src.sh(f"kill -KILL {killed[0]}")
    ok(running.wait())
    record = json.loads((media.state / "runs" / "media.json").read_text())
    assert len(record["retries"]) == 1
    assert "attempt 1 failed, retrying in 1 s: ssh to root@" in record["retries"][0]
    assert_same(hosts.src, "tank/media", hosts.dst, "backup/media")
