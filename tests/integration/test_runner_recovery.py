"""Protection and recovery on real zfs-fuse hosts: holds on the incremental
base, retries after an ssh drop. (Resumable receives need OpenZFS: see
tests/openzfs.)"""

from __future__ import annotations

import json

import pytest

from .replication import assert_same, ok, unwrap_command, wait_for_process, wrap_command

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


def userrefs(host, snapshot: str) -> int:
    return int(host.run(["zfs", "get", "-H", "-o", "value", "userrefs", snapshot]).stdout)


def test_holds_left_by_earlier_runs_are_released_and_anyone_elses_are_kept(hosts, media):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "snapshot", "tank/media@kept-by-hand"])
    ok(media.run("media"))
    # what a killed run, a re-seed or a resume leaves: the job's hold on a snapshot that is no base
    for host, dataset in ((src, "tank/media"), (dst, "backup/media")):
        host.run(["zfs", "hold", "zsw_media", f"{dataset}@kept-by-hand"])
        host.run(["zfs", "hold", "someone_else", f"{dataset}@kept-by-hand"])
    src.write_random("tank/media", "more.bin", 10 << 10)

    ok(media.run("media"))
    newest = list(src.snapshots("tank/media"))[-1]
    for host, dataset in ((src, "tank/media"), (dst, "backup/media")):
        assert userrefs(host, f"{dataset}@kept-by-hand") == 1  # someone else's hold stays, ours went
        host.run(["zfs", "release", "someone_else", f"{dataset}@kept-by-hand"])
        assert userrefs(host, f"{dataset}@kept-by-hand") == 0
        assert userrefs(host, f"{dataset}@{newest}") == 1  # the base, held by the job
        host.run(["zfs", "release", "zsw_media", f"{dataset}@{newest}"])
    assert_same(src, "tank/media", dst, "backup/media")


# the destination's ssh session is killed right after `zfs receive` finished (once)
DROP_AFTER_RECEIVE = (
    'if [ "$1" = receive ] && [ $# -gt 1 ] && [ ! -e /run/zsw-wrap/dropped ]; then "$REAL" "$@"; status=$?; '
    'touch /run/zsw-wrap/dropped; kill -KILL "$(ps -o ppid= -p $PPID)"; exit $status; fi; '
    'exec "$REAL" "$@"'
)


def test_a_drop_after_the_receive_ended_is_not_sent_again(hosts, media):
    media.slow("media", "10M")  # only for retry_delay: 1
    wrap_command(hosts.dst, "/usr/sbin/zfs", DROP_AFTER_RECEIVE)
    try:
        ok(media.run("media"))  # the retry finds the snapshot there, instead of a refused second receive
    finally:
        unwrap_command(hosts.dst, "/usr/sbin/zfs")
    record = json.loads((media.state / "runs" / "media.json").read_text())
    assert len(record["retries"]) == 1 and "attempt 1 failed" in record["retries"][0]
    assert [s["kind"] for s in record["sent"]] == ["full"]
    assert "arrived before the connection dropped" in (media.state / "logs" / "media.log").read_text()
    assert_same(hosts.src, "tank/media", hosts.dst, "backup/media")
