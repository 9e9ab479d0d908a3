"""What a run spends on real zfs-fuse hosts: compression only where the data compresses."""

from __future__ import annotations

import re

import pytest

from .replication import Product, assert_same, ok, snapshot
from .test_runner_replication import push_job

pytestmark = pytest.mark.timeout(240)


def test_auto_compression_follows_the_data(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "-o", "compression=on", "tank/media"])
    # 40 MiB of text, stored in far less: big enough to be worth compressing on the wire
    src.write_file("tank/media", "notes.txt", b"the same line of text, again and again\n" * (1 << 20))
    src.run(["zfs", "create", "tank/media/films"])  # compression inherited
    src.write_random("tank/media/films", "movie.mkv", 1 << 20)  # video: stored compressed, it does not shrink
    snapshot(src, "tank/media", "written")  # commits the writes, so compressratio counts them
    snapshot(src, "tank/media/films", "written")
    product = Product(src, tmp_path)
    # each dataset its own stream and compressor (as one tree stream, the tree's data decides)
    product.job("media", push_job(dst, source={"recursive": True}, transfer={"tree_stream": "never"}))

    dry = product.run("--dry-run", "media").stdout
    assert "# tank/media/films: compression: none (the data does not compress (compressratio 1.00x))" in dry
    assert "# tank/media: compression: zstd-fast (auto: zstd's fastest level)" in dry
    # the full send of @written compressed; the increment to the new snapshot, empty, not
    assert dry.count("zstd -q -c -1") == 1 and "zstd -q -c -3" not in dry
    assert "# tank/media: compression: none (a small stream, about 0 Bytes: a compressor would" in dry

    ok(product.run("media"))
    assert_same(src, "tank/media", dst, "backup/media")
    assert_same(src, "tank/media/films", dst, "backup/media/films")

    # a small change goes uncompressed: a compressor would hold it back until its end
    src.write_file("tank/media", "more.txt", b"another line of text\n" * 50000)
    dry = product.run("--dry-run", "media").stdout
    small = re.search(
        r"# tank/media: compression: none \(a small stream, about [\d.]+ (\w+): a compressor", dry
    )
    assert small, dry  # (zfs-fuse lists only committed writes: maybe still 0 Bytes)
    assert "zstd -q -c" not in dry

    product.job("tree", push_job(dst, source={"recursive": True}, destination={"dataset": "backup/tree"}))
    tree = product.run("--dry-run", "tree").stdout
    # the root's compressratio counts its descendants: the tree's data compresses as a whole
    assert "# tank/media and its 1 descendant: compression: zstd-fast (auto: zstd's fastest level)" in tree


@pytest.mark.parametrize("data", ["video", "text"])
def test_a_large_stream_of_data_stored_uncompressed_is_sampled_before_it_is_compressed(hosts, tmp_path, data):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "-o", "compression=off", "tank/media"])  # zfs cannot tell what it holds
    if data == "video":
        src.write_random("tank/media", "movie.mkv", 72 << 20)
    else:
        src.write_file(
            "tank/media", "notes.txt", b"the same line of text, again and again\n" * (72 << 20 >> 5)
        )
    snapshot(src, "tank/media", "written")  # commits the writes, so the listing counts them
    product = Product(src, tmp_path)
    product.job("media", push_job(dst))

    dry = product.run("--dry-run", "media").stdout
    assert "# tank/media: compression: zstd-fast (auto: zstd's fastest level)" in dry
    sample = re.search(
        r"^# tank/media: compression decided by a sample of the stream when it runs: (.*)$", dry, re.M
    )
    assert sample and sample.group(1).startswith(
        "sh -c '{ zfs send tank/media@written 2>/dev/null | head -c 4194304 | tee"
    )

    ok(product.run("media"))
    assert_same(src, "tank/media", dst, "backup/media")
    log = (product.state / "logs" / "media.log").read_text()
    pipeline = next(line for line in log.splitlines() if " pipeline: zfs send tank/media@written" in line)
    if data == "video":
        assert "INFO tank/media: compression: none (the data does not compress: 4.0 MiB of the stream" in log
        assert "zstd" not in pipeline
    else:
        assert (
            "INFO tank/media: compression: zstd-fast (auto: zstd's fastest level; 4.0 MiB of the stream"
            in log
        )
        assert "zstd -q -c -1" in pipeline


def test_zfs_fuse_cannot_tell_unchanged_so_every_run_takes_a_snapshot(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media"])
    src.write_random("tank/media", "movie.mkv", 64 << 10)
    product = Product(src, tmp_path)
    product.job("media", push_job(dst))

    checked = ok_check(product.run("--check", "media"))
    assert (
        "media: unchanged source: zfs on localhost cannot tell (no `written` property, e.g. zfs-fuse)"
        in checked
    )
    ok(product.run("media"))
    first = assert_same(src, "tank/media", dst, "backup/media")
    ok(product.run("media"))  # nothing new on the source: zfs-fuse cannot tell, so today's behaviour
    second = assert_same(src, "tank/media", dst, "backup/media")
    assert len(second) == 1 and second != first  # a new replication snapshot, sent; the old one pruned


def ok_check(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout
