"""What the runner refuses, and what a failure tells: on real zfs-fuse hosts."""

from __future__ import annotations

import json
import os
import signal

import pytest

from .replication import (
    SENDING,
    assert_same,
    ok,
    processes,
    receive_held,
    remote_script,
    snapshot,
    unwrap_command,
    wait_for_process,
    wait_until,
    wrap_command,
)

pytestmark = pytest.mark.timeout(240)


def record(product) -> dict:
    return json.loads((product.state / "runs" / "media.json").read_text())


def both_sides(hosts) -> tuple:
    return hosts.src.props("tank"), hosts.dst.props("backup")


def test_dry_run_changes_nothing_and_prints_exact_commands(hosts, media):
    before = both_sides(hosts)
    first = media.run("--dry-run", "media")
    assert first.returncode == 0, first.stderr
    assert both_sides(hosts) == before
    assert "tank/media -> backup/media: full @zsw_media_" in first.stdout
    assert "zfs snapshot tank/media@zsw_media_" in first.stdout
    line = next(x for x in first.stdout.splitlines() if x.startswith("zfs send tank/media@zsw_media_"))
    host, script = remote_script(processes(line)[-1])
    assert host == f"root@{hosts.dst.address}"
    assert script.startswith("{ mbuffer") and script.endswith("| zfs receive -u backup/media")

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

    rolled = media.run("--rollback", "media")
    assert rolled.returncode == 0, rolled.stderr
    # what it destroyed is said on stderr (cron mails it) and kept in the run record
    assert rolled.stdout == ""
    assert rolled.stderr == (
        f"zfs-sync-run: media: destroying on the destination: root@{dst.address}:backup/media: "
        f"snapshot @made-on-backup (zfs rollback -r to @{list(before_src_snaps)[-1]})\n"
    )
    assert record(media)["destroyed"] == [rolled.stderr.split("destroying on the destination: ")[1].strip()]
    assert "made-on-backup" not in dst.snapshots("backup/media")
    assert dst.snapshots("backup/media") == src.snapshots("tank/media")


def _writable_backup_with_a_local_change(hosts, media) -> str:
    """A replicated backup/media (readonly off) with a file written on the backup; the common snapshot."""
    src, dst = hosts.src, hosts.dst
    job = media.config / "jobs" / "media.yaml"
    job.write_text(job.read_text() + "  readonly: false\n")  # a backup someone can write into
    ok(media.run("media"))
    dst.run(["zfs", "mount", "backup/media"], check=False)
    dst.write_file("backup/media", "edited-on-backup.txt", b"local change\n")
    src.write_random("tank/media", "new.bin", 10 << 10)
    return list(src.snapshots("tank/media"))[-1]


def _follow_the_advice(hosts, media, refused, common: str) -> None:
    advice = "run once with --rollback"
    assert advice in refused.stderr, refused.stderr
    followed = media.run(advice.rsplit(" ", 1)[1], "media")  # exactly what it says
    assert followed.returncode == 0, followed.stderr
    assert followed.stderr == (
        f"zfs-sync-run: media: destroying on the destination: root@{hosts.dst.address}:backup/media: "
        f"changes written since @{common} (zfs receive -F)\n"
    )
    assert record(media)["destroyed"] == [followed.stderr.split("destroying on the destination: ")[1].strip()]
    assert_same(hosts.src, "tank/media", hosts.dst, "backup/media")  # file by file: the local change is gone


def test_a_modified_destination_is_refused_before_anything_runs_and_the_advice_works(hosts, media):
    src, dst = hosts.src, hosts.dst
    common = _writable_backup_with_a_local_change(hosts, media)
    # once the change is on disk the listing shows it (zfs-fuse: referenced moved; OpenZFS: written)
    wait_until(
        dst,
        f'[ "$(zfs get -Hp -o value referenced backup/media)" != '
        f'"$(zfs get -Hp -o value referenced backup/media@{common})" ]',
    )
    before_dst, before_src = dst.props("backup"), src.snapshots("tank/media")
    refused = media.run("media")
    assert refused.returncode == 1
    assert "the destination has been modified since its newest snapshot" in refused.stderr
    assert dst.props("backup") == before_dst and src.snapshots("tank/media") == before_src  # nothing done
    _follow_the_advice(hosts, media, refused, common)


def test_a_change_not_yet_on_disk_is_refused_by_receive_and_the_advice_works_all_the_same(hosts, media):
    common = _writable_backup_with_a_local_change(hosts, media)
    dst = hosts.dst
    before = dst.snapshots("backup/media"), dst.checksum("backup/media")
    refused = media.run("media")  # at once: the listing may not show the change yet, zfs receive does
    assert refused.returncode == 1
    assert "modified" in refused.stderr
    assert (dst.snapshots("backup/media"), dst.checksum("backup/media")) == before  # the change is kept
    _follow_the_advice(hosts, media, refused, common)


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
    with receive_held(hosts.dst) as release:
        first, _ = media.start_locked("media")
        second = media.run("media")
        release()
        ok(first.wait())
    assert second.returncode == 3
    assert second.stderr.strip().startswith("zfs-sync-run: media: job media is already running (pid ")
    assert len(second.stderr.strip().splitlines()) == 1


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
    wait_for_process(hosts.src, SENDING)  # inside the transfer
    os.kill(pid, signal.SIGTERM)
    stopped = running.wait()
    assert stopped.returncode == 130, stopped.stderr
    assert "interrupted" in stopped.stderr
    assert json.loads((media.state / "runs" / "media.json").read_text())["result"] == "interrupted"

    job = media.config / "jobs" / "media.yaml"
    job.write_text(job.read_text().replace("bandwidth_limit: 20k", "bandwidth_limit: null"))
    ok(media.run("media"))
    assert_same(hosts.src, "tank/media", hosts.dst, "backup/media")


def test_two_jobs_into_one_destination_are_refused_naming_both_files(hosts, media):
    twin = media.job(
        "twin",
        {
            "source": {"dataset": "tank/other"},
            "destination": {"dataset": "backup/media", "host": f"root@{hosts.dst.address}"},
        },
    )
    before = both_sides(hosts)
    refused = media.run("media")
    assert refused.returncode == 2
    assert (
        f"{media.config / 'jobs' / 'media.yaml'}: destination.dataset: root@{hosts.dst.address}:backup/media is also written by the job in {twin}"
        in refused.stderr
    )
    assert both_sides(hosts) == before


def test_one_destination_takes_one_run_at_a_time_whatever_the_config_dir(hosts, media, tmp_path):
    from .replication import Product

    other = Product(hosts.src, tmp_path / "other")  # another config dir, the same state dir
    other.state = media.state
    other.job(
        "copy",
        {
            "source": {"dataset": "tank/media"},
            "destination": {"dataset": "backup/media", "host": f"root@{hosts.dst.address}"},
        },
    )
    with receive_held(hosts.dst) as release:
        running, pid = media.start_locked("media")
        skipped = other.run("copy")
        release()
        assert running.wait().returncode == 0
    assert skipped.returncode == 3
    assert skipped.stderr == (
        f"zfs-sync-run: copy: another run is receiving into root@{hosts.dst.address}:backup/media (pid {pid}); skipped\n"
    )
    ok(other.run("copy"))


def test_a_child_stuck_in_a_conflict_does_not_pile_up_snapshots(hosts, tmp_path):
    from .replication import Product

    src, dst = hosts.src, hosts.dst
    for name in ("tank/media", "tank/media/shows"):
        src.run(["zfs", "create", name])
    product = Product(src, tmp_path)
    product.job(
        "tree",
        {
            "source": {"dataset": "tank/media", "recursive": True},
            "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
        },
    )
    ok(product.run("tree"))
    snapshot(dst, "backup/media/shows", "made-on-backup")  # the child diverges; its parent does not
    for _ in range(3):
        src.write_random("tank/media/shows", "episode.mkv", 8 << 10)
        stuck = product.run("tree")
        assert stuck.returncode == 1 and "backup/media/shows" in stuck.stderr and "--rollback" in stuck.stderr
    ours = [name for name in src.snapshots("tank/media/shows") if name.startswith("zsw_tree_")]
    assert len(ours) == 2  # the common one and the newest: never one more per run
    assert "could not be sent are pruned, the newest 1 kept" in stuck.stderr
    assert dst.snapshots("backup/media") == src.snapshots("tank/media")  # the parent went on as usual
