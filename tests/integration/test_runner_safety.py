"""What the runner refuses, and what a failure tells: on real zfs-fuse hosts."""

from __future__ import annotations

import json
import os
import signal

import pytest

from .replication import assert_same, ok, snapshot, unwrap_command, wait_for_process, wrap_command

pytestmark = pytest.mark.timeout(240)


def both_sides(hosts) -> tuple:
    return hosts.src.props("tank"), hosts.dst.props("backup")


def test_dry_run_changes_nothing_and_prints_exact_commands(hosts, media):
    before = both_sides(hosts)
    first = media.run("--dry-run", "media")
    assert first.returncode == 0, first.stderr
    assert both_sides(hosts) == before
    assert "tank/media -> backup/media: full @zsw_media_" in first.stdout
    assert "zfs snapshot tank/media@zsw_media_" in first.stdout
    assert f"root@{hosts.dst.address} '{{ mbuffer" in first.stdout
    assert "| zfs receive -u backup/media'" in first.stdout

    ok(media.run("media"))
    snapshot(hosts.src, "tank/media", "manual")
    before = both_sides(hosts)
    old = next(iter(hosts.dst.snapshots("backup/media")))
    second = media.run("-n", "media")
    assert second.returncode == 0, second.stderr
    assert both_sides(hosts) == before
    assert f"zfs send -I tank/media@{old} tank/media@zsw_media_" in second.stdout
    assert f"zfs destroy backup/media@{old}" in second.stdout  # the prune it would do
    assert not (media.state / "runs" / "media.json").read_text().count("dry-run")


def test_diverged_destination_is_refused_unchanged_then_rolled_back_only_when_asked(hosts, media):
    src, dst = hosts.src, hosts.dst
    ok(media.run("media"))
    snapshot(dst, "backup/media", "made-on-backup")
    src.write_random("tank/media", "new.bin", 10 << 10)
    before_dst = dst.props("backup")
    before_src_snaps = src.snapshots("tank/media")

    refused = media.run("media")
    assert refused.returncode == 1
    assert "newer than the last common snapshot" in refused.stderr
    assert "@made-on-backup" in refused.stderr and "--rollback" in refused.stderr
    assert "destination snapshots:" in refused.stderr and "source snapshots:" in refused.stderr
    assert dst.props("backup") == before_dst
    assert src.snapshots("tank/media") == before_src_snaps  # no replication snapshot piled up

    ok(media.run("--rollback", "media"))
    assert "made-on-backup" not in dst.snapshots("backup/media")
    assert dst.snapshots("backup/media") == src.snapshots("tank/media")


def test_modified_destination_names_receive_and_the_way_out(hosts, media):
    src, dst = hosts.src, hosts.dst
    ok(media.run("media"))
    dst.run(["zfs", "set", "readonly=off", "backup/media"])
    dst.run(["zfs", "mount", "backup/media"], check=False)
    dst.write_file("backup/media", "edited-on-backup.txt", b"local change\n")
    src.write_random("tank/media", "new.bin", 10 << 10)
    result = media.run("media")
    assert result.returncode == 1
    assert "stage 'zfs receive' failed on" in result.stderr
    assert "modified" in result.stderr and "--rollback" in result.stderr


def test_no_common_snapshot_is_refused_and_nothing_overwritten(hosts, media):
    dst = hosts.dst
    dst.run(["zfs", "create", "backup/media"])
    dst.write_file("backup/media", "precious.txt", b"not from the source\n")
    snapshot(dst, "backup/media", "theirs")
    before = dst.props("backup")
    result = media.run("media")
    assert result.returncode == 1
    assert "no snapshot in common" in result.stderr and "@theirs" in result.stderr
    assert dst.props("backup") == before


@pytest.mark.parametrize(
    ("side", "subcommand", "where", "command"),
    [
        ("src", "send", "localhost", "zfs send tank/media@zsw_media_"),
        ("dst", "receive", "root@{address}", "zfs receive -u backup/media"),
    ],
)
def test_failing_zfs_stage_is_named_with_its_host_and_command(hosts, media, side, subcommand, where, command):
    host = getattr(hosts, side)
    fail = f'[ "$1" = {subcommand} ] && {{ echo "cannot {subcommand}: injected failure" >&2; exit 1; }}'
    wrap_command(host, "/usr/sbin/zfs", fail + '; exec "$REAL" "$@"')
    try:
        result = media.run("media")
    finally:
        unwrap_command(host, "/usr/sbin/zfs")
    assert result.returncode == 1
    where = where.format(address=hosts.dst.address)
    assert f"stage 'zfs {subcommand}' failed on {where} (exit 1): {command}" in result.stderr
    assert f"cannot {subcommand}: injected failure" in result.stderr


def test_failing_remote_mbuffer_is_blamed_not_the_receive(hosts, media):
    wrap_command(hosts.dst, "/usr/bin/mbuffer", 'echo "mbuffer: injected failure" >&2; exit 1')
    try:
        result = media.run("media")
    finally:
        unwrap_command(hosts.dst, "/usr/bin/mbuffer")
    assert result.returncode == 1
    assert f"stage 'mbuffer' failed on root@{hosts.dst.address} (exit 1): mbuffer -q" in result.stderr


def test_ssh_to_a_closed_port_names_ssh_and_changes_nothing(hosts, media):
    job = media.config / "jobs" / "media.yaml"
    job.write_text(job.read_text().replace("host: root@", "port: 2222\n  host: root@"))
    before = both_sides(hosts)
    result = media.run("media")
    assert result.returncode == 1
    assert f"ssh to root@{hosts.dst.address}:2222 failed" in result.stderr
    assert "Connection refused" in result.stderr
    assert both_sides(hosts) == before


def test_missing_mbuffer_on_the_destination_is_named_with_its_package(hosts, media):
    hosts.dst.hide_command("mbuffer")
    before = both_sides(hosts)
    result = media.run("media")
    assert result.returncode == 1
    assert f"missing on root@{hosts.dst.address}: 'mbuffer' (package mbuffer)" in result.stderr
    assert both_sides(hosts) == before
    check = media.run("--check", "media")
    assert check.returncode == 1 and "'mbuffer' (package mbuffer)" in check.stderr


def test_check_reports_every_side(hosts, media):
    result = media.run("--check", "media")
    assert result.returncode == 0, result.stderr
    assert "media: localhost: ok (mbuffer, pv, ssh, zfs, zstd)" in result.stdout
    assert f"media: root@{hosts.dst.address}: ok (mbuffer, zfs, zstd)" in result.stdout


def test_a_second_run_of_the_same_job_is_refused_by_the_lock(hosts, media):
    media.slow("media", "40k")  # ~5 s for 200 KiB
    first, _ = media.start_locked("media")
    second = media.run("media")
    assert second.returncode == 3
    assert second.stderr.strip().startswith("zfs-sync-run: media: job media is already running (pid ")
    assert len(second.stderr.strip().splitlines()) == 1
    ok(first.wait())


def test_invalid_job_file_exits_2_naming_file_and_key(hosts, media):
    bad = media.config / "jobs" / "bad.yaml"
    bad.write_text(
        "source: {dataset: tank/media}\ndestination: {dataset: backup/x}\ntransfer: {compresion: zstd}\n"
    )
    before = both_sides(hosts)
    result = media.run("bad")
    assert result.returncode == 2
    assert f"{bad}: transfer.compresion: unknown key (allowed: compression," in result.stderr
    assert both_sides(hosts) == before


def test_interrupted_run_exits_130_and_the_next_run_completes(hosts, media):
    media.slow("media", "20k")  # ~10 s for 200 KiB
    running, pid = media.start_locked("media")
    wait_for_process(hosts.src, "^[^ ]*zfs send")  # inside the transfer
    os.kill(pid, signal.SIGTERM)
    stopped = running.wait()
    assert stopped.returncode == 130, stopped.stderr
    assert "interrupted" in stopped.stderr
    assert json.loads((media.state / "runs" / "media.json").read_text())["result"] == "interrupted"

    job = media.config / "jobs" / "media.yaml"
    job.write_text(job.read_text().replace("bandwidth_limit: 20k", "bandwidth_limit: null"))
    ok(media.run("media"))
    assert_same(hosts.src, "tank/media", hosts.dst, "backup/media")
