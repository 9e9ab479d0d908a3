"""`--verify` and `--verify --deep` on real zfs-fuse hosts: equal after real
runs, and each difference introduced on purpose found and named; neither
side changed by a deep check (`zfs get -Hp -r all` before and after)."""

from __future__ import annotations

import pytest

from .replication import ok, snapshot, unwrap_command, wait_for_process, wait_until, wrap_command

pytestmark = pytest.mark.timeout(240)


def recursive_media(src, product, dst) -> None:
    """tank/media with a child, replicated twice with user snapshots in between."""
    src.run(["zfs", "create", "tank/media/photos"])
    src.write_file("tank/media/photos", "cat.jpg", b"meow\n" * 1000)
    product.job(
        "media",
        {
            "source": {"dataset": "tank/media", "recursive": True},
            "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
            "snapshots": {"keep": 3},
        },
    )
    ok(product.run("media"))
    src.write_random("tank/media", "second.mkv", 64 << 10)
    snapshot(src, "tank/media", "user-1")
    src.write_file("tank/media/photos", "dog.jpg", b"woof\n" * 500)
    ok(product.run("media"))


def properties(host, datasets: list[str]) -> set[str]:
    """Every property of the job's datasets and snapshots as `zfs get -Hp -r all` prints them.

    Except `available`: the pool's free space, which every zfs command that
    writes (the temporary clone, and the pool history recording it) takes a
    little of for the pool's own metadata; the datasets' own `used`,
    `referenced` and the rest must not move.
    """
    lines = "".join(host.props(d) for d in datasets).splitlines()
    return {line for line in lines if line.split("\t")[1] != "available"}


def mount_dirs(host) -> str:
    """The temporary clones' mountpoints on a host (under the sandbox pools' altroot too)."""
    return host.sh("ls -d /tmp/zsw-verify.* /run/pools/tmp/zsw-verify.* 2>/dev/null || true").stdout


def test_verify_and_deep_report_equality_and_change_nothing(hosts, media):
    src, dst = hosts.src, hosts.dst
    recursive_media(src, media, dst)
    before = properties(src, ["tank/media"]), properties(dst, ["backup/media"])
    temporary = mount_dirs(src), mount_dirs(dst)

    result = media.run("--verify", "media")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert (
        lines[0].startswith("media: tank/media -> backup/media: equal (")
        and "by GUID up to @zsw_media_" in lines[0]
    )
    assert lines[1].startswith("media: tank/media/photos -> backup/media/photos: equal (")

    deep = media.run("--verify", "--deep", "media")
    assert deep.returncode == 0, deep.stdout + deep.stderr
    assert "media: tank/media -> backup/media: content of @zsw_media_" in deep.stdout
    assert "equal (2 files)" in deep.stdout  # movie.mkv, second.mkv
    assert "tank/media/photos -> backup/media/photos: content of @zsw_media_" in deep.stdout

    after = properties(src, ["tank/media"]), properties(dst, ["backup/media"])
    assert after[0] ^ before[0] == set() and after[1] ^ before[1] == set()
    for host, pool in ((src, "tank"), (dst, "backup")):  # the temporary clones are gone
        names = host.run(["zfs", "list", "-H", "-o", "name", "-r", pool]).stdout
        assert "zsw-verify" not in names
    assert (mount_dirs(src), mount_dirs(dst)) == temporary  # and so are their mountpoints
    ok(media.run("media"))  # the next incremental still receives: the destination was not touched


def test_a_snapshot_destroyed_on_the_destination_is_named(hosts, media):
    src, dst = hosts.src, hosts.dst
    recursive_media(src, media, dst)
    dst.run(["zfs", "destroy", "backup/media@user-1"])

    result = media.run("--verify", "media")
    assert result.returncode == 1
    assert "media: tank/media -> backup/media: DIFFERENT" in result.stdout
    assert "  missing on the destination: @user-1" in result.stdout
    assert "tank/media/photos -> backup/media/photos: equal" in result.stdout
    assert "media: the destination differs from the source (see above)" in result.stderr


def own_snapshots_only(dst) -> dict:
    """The media job, sending only the snapshots the test takes (so their names are known)."""
    return {
        "source": {"dataset": "tank/media"},
        "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
        "snapshots": {"take": False},
    }


def test_a_destination_received_from_another_source_is_found(hosts, media, tmp_path):
    """Same dataset and snapshot names, other data: GUIDs differ, and --deep names the file."""
    src, dst = hosts.src, hosts.dst
    media.job("media", own_snapshots_only(dst))
    snapshot(src, "tank/media", "monday")
    ok(media.run("media"))
    equal = media.run("--verify", "--deep", "media")
    assert equal.returncode == 0 and "content of @monday equal (1 file)" in equal.stdout

    # a look-alike: another dataset with the same file names and the same snapshot name, one file changed
    src.run(["zfs", "create", "tank/other"])
    src.sh('cp -p "$1"/movie.mkv "$2"/', src.mountpoint("tank/media"), src.mountpoint("tank/other"))
    src.write_file("tank/other", "movie.mkv", b"not the movie\n")
    snapshot(src, "tank/other", "monday")
    dst.run(["zfs", "release", "zsw_media", "backup/media@monday"])  # the job's hold on its base
    dst.run(["zfs", "destroy", "-r", "backup/media"])
    src.sh(
        f"zfs send tank/other@monday | ssh root@{dst.address} zfs receive -u backup/media",
    )

    result = media.run("--verify", "media")
    assert result.returncode == 1
    assert "media: tank/media -> backup/media: DIFFERENT" in result.stdout
    assert "no snapshot in common with the source (by GUID)" in result.stdout
    assert "same name, different GUID: @monday (source guid " in result.stdout

    before = properties(src, ["tank/media"]), properties(dst, ["backup/media"])
    deep = media.run("--verify", "--deep", "media")
    assert deep.returncode == 1
    assert "media: tank/media -> backup/media: content of @monday DIFFERENT (1 of 1 files)" in deep.stdout
    assert "  content differs: 'movie.mkv'" in deep.stdout
    assert (properties(src, ["tank/media"]), properties(dst, ["backup/media"])) == before


def test_deep_names_missing_and_extra_files(hosts, media):
    src, dst = hosts.src, hosts.dst
    media.job("media", own_snapshots_only(dst))
    movie = bytes(range(256)) * 64
    src.write_file("tank/media", "movie.mkv", movie)
    src.write_file("tank/media", "only-here.txt", b"source only\n")
    snapshot(src, "tank/media", "monday")
    ok(media.run("media"))
    dst.run(["zfs", "release", "zsw_media", "backup/media@monday"])  # the job's hold on its base
    # the destination replaced by a copy where one file is gone and another appeared
    dst.run(["zfs", "destroy", "-r", "backup/media"])
    dst.run(["zfs", "create", "backup/media"])
    dst.write_file("backup/media", "movie.mkv", movie)
    dst.write_file("backup/media", "stray.txt", b"destination only\n")
    snapshot(dst, "backup/media", "monday")

    deep = media.run("--verify", "--deep", "media")
    assert deep.returncode == 1
    assert "content of @monday DIFFERENT (2 of 3 files)" in deep.stdout
    assert "  missing on the destination: 'only-here.txt'" in deep.stdout
    assert "  only on the destination: 'stray.txt'" in deep.stdout


def test_deep_needs_verify(media):
    result = media.run("--deep", "media")
    assert result.returncode == 2
    assert "--deep goes with --verify" in result.stderr


WAITING = "/run/zsw-wrap/verify-waiting"


def test_an_interrupted_deep_check_removes_its_clones(hosts, media):
    """SIGTERM while the destination is checksumming: exit 130, no clone, mountpoint or process left."""
    src, dst = hosts.src, hosts.dst
    ok(media.run("media"))
    before = properties(src, ["tank/media"]), properties(dst, ["backup/media"])
    temporary = mount_dirs(src), mount_dirs(dst)
    # the destination's checksums wait (their pid in a file: the hosts share one pid namespace)
    wrap_command(dst, "/usr/bin/sha256sum", f'echo $$ > {WAITING}; sleep 600; exec "$REAL" "$@"')
    try:
        running = media.start("--verify", "--deep", "media")
        wait_until(dst, f"[ -s {WAITING} ]")
        [pid] = wait_for_process(src, f"^[^ ]*python[^ ]* [^ ]*zfs-sync-run --config-dir {media.config} ")
        src.run(["kill", "-TERM", str(pid)])
        result = running.wait()
    finally:
        unwrap_command(dst, "/usr/bin/sha256sum")
    assert result.returncode == 130, result.stderr
    assert "media: verification interrupted" in result.stderr
    for host, pool in ((src, "tank"), (dst, "backup")):
        assert "zsw-verify" not in host.run(["zfs", "list", "-H", "-o", "name", "-r", pool]).stdout
    assert (mount_dirs(src), mount_dirs(dst)) == temporary
    # the remote checksums ended (gone, or a zombie: the hosts' init does not reap orphans)
    gone = dst.sh(
        'p=$(cat "$1"); [ ! -e /proc/$p ] || grep -q "^State:.*Z" /proc/$p/status', WAITING, check=False
    )
    assert gone.returncode == 0
    after = properties(src, ["tank/media"]), properties(dst, ["backup/media"])
    assert after[0] ^ before[0] == set() and after[1] ^ before[1] == set()
