"""A recursive tree in one `zfs send -R` stream (planning/tree.py), on real zfs-fuse hosts:
what arrives, what the destination keeps, when the tree goes dataset by dataset, and a
stream that drops half way."""

from __future__ import annotations

import json

import pytest

from .replication import Product, assert_same, ok, wait_for_process, wait_until
from .test_runner_scaling import commands_of_last_run

pytestmark = pytest.mark.timeout(300)
TREE = ("", "/movies", "/shows", "/shows/kids")


def make_tree(src, size: int = 64 << 10, shows: int | None = None) -> None:
    """The tree, each dataset with `size` bytes of video (`shows` for the two shows datasets)."""
    for name in TREE:
        src.run(["zfs", "create", f"tank/media{name}"])
        big = shows if shows and name.startswith("/shows") else size
        src.write_random(f"tank/media{name}", "video.mkv", big)


def tree_job(product: Product, dst, **transfer) -> None:
    job = {
        "source": {"dataset": "tank/media", "recursive": True},
        "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
    }
    if transfer:
        job["transfer"] = transfer
    product.job("tree", job)


def sends(product: Product) -> list[str]:
    """The transfer pipelines of the last run, as its log shows them."""
    text = (product.state / "logs" / "tree.log").read_text()
    return [line for line in text[text.rindex("run started") :].splitlines() if "pipeline: zfs send" in line]


def assert_tree_same(src, dst) -> None:
    for name in TREE:
        assert_same(src, f"tank/media{name}", dst, f"backup/media{name}")


def test_a_tree_that_shares_one_plan_goes_in_one_stream_and_the_destination_keeps_its_own(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_tree(src)
    product = Product(src, tmp_path)
    tree_job(product, dst)

    dry = product.run("--dry-run", "tree")
    assert dry.returncode == 0, dry.stderr
    assert "# tank/media and its 3 descendants in one stream (zfs send -R" in dry.stdout
    assert dst.run(["zfs", "list", "backup/media"], check=False).returncode != 0  # the dry run sent nothing

    ok(product.run("tree"))
    (first,) = sends(product)
    assert " -R tank/media@zsw_tree_" in first and " -I " not in first
    assert "zstd" not in first  # a small stream: a compressor would hold it back
    for name in TREE:  # every dataset received in full is made read-only, in one command
        # (read before mounting: zfs-fuse's mount shows readonly "off (temporary)")
        assert (
            dst.run(["zfs", "get", "-H", "-o", "value", "readonly", f"backup/media{name}"]).stdout.strip()
            == "on"
        )
    assert commands_of_last_run(product, "tree")["zfs set"] == 1
    assert_tree_same(src, dst)

    src.write_random("tank/media/shows/kids", "episode.mkv", 32 << 10)
    src.run(["zfs", "snapshot", "-r", "tank/media@user-1"])
    ok(product.run("tree"))
    (second,) = sends(product)
    assert " -R -I tank/media@zsw_tree_" in second and "zstd" not in second
    assert_tree_same(src, dst)
    assert "user-1" in dst.snapshots("backup/media/movies")  # -I carried the snapshot in between

    # the source drops a snapshot the destination still has: the stream is received without -F,
    # so nothing the source no longer has is destroyed on the destination
    src.run(["zfs", "destroy", "tank/media/movies@user-1"])
    src.write_random("tank/media/movies", "new.mkv", 32 << 10)
    ok(product.run("tree"))
    (third,) = sends(product)
    assert " -R -I " in third
    assert "user-1" in dst.snapshots("backup/media/movies")
    kept = dst.snapshots("backup/media/movies")
    assert {k: v for k, v in kept.items() if k != "user-1"} == src.snapshots("tank/media/movies")


def test_a_mountpoint_set_on_the_source_keeps_the_tree_apart_where_receive_has_no_x(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_tree(src)
    src.run(["zfs", "set", "mountpoint=/srv/movies", "tank/media/movies"])
    product = Product(src, tmp_path)
    tree_job(product, dst)

    dry = product.run("--dry-run", "tree")
    assert dry.returncode == 0, dry.stderr
    why = "tank/media/movies sets mountpoint, and this zfs receive has no -x to keep it off"
    assert f"# dataset by dataset, not in one stream: {why}" in dry.stdout
    ok(product.run("tree"))
    assert len(sends(product)) == len(TREE)
    assert all(" -R " not in line for line in sends(product))
    for name in TREE:  # (the read-only copy of tank/media has no directory to mount movies on)
        assert dst.snapshots(f"backup/media{name}") == src.snapshots(f"tank/media{name}")
    where = dst.run(["zfs", "get", "-H", "-o", "value,source", "mountpoint", "backup/media/movies"])
    assert where.stdout.split()[0] != "/srv/movies"


def test_transfer_tree_stream_never_sends_dataset_by_dataset(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_tree(src)
    product = Product(src, tmp_path)
    tree_job(product, dst, tree_stream="never")
    ok(product.run("tree"))
    assert len(sends(product)) == len(TREE)
    assert_tree_same(src, dst)


def test_a_tree_stream_that_drops_half_way_goes_on_dataset_by_dataset_in_the_same_run(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_tree(src, shows=1 << 20)
    product = Product(src, tmp_path)
    # no compressor on the wire, which would hold back a block at a time
    tree_job(product, dst, bandwidth_limit="100k", retry_delay=1, compression="none")
    running = product.start("tree")
    # the stream carries the datasets parents first: once the destination's mbuffer has passed
    # 400 KB on to zfs receive (the first two datasets and some of the third), the data connection
    # drops, with some 15 s to go (zfs-fuse's daemon, not `zfs receive`, reads the stream)
    buffer = "$(pgrep --ns $$ --nslist net -f '^mbuffer' | head -n 1)"
    passed = f"awk '/^wchar/ {{print $2}}' /proc/{buffer}/io 2>/dev/null || echo 0"
    wait_until(dst, f'[ "$({passed})" -gt 400000 ]')
    (ssh,) = wait_for_process(src, "^[^ ]*/ssh .*zfs receive -u")
    src.sh(f"kill -KILL {ssh}")
    ok(running.wait())

    assert_tree_same(src, dst)
    lines = sends(product)
    assert " -R " in lines[0] and all(" -R " not in line for line in lines[1:])
    record = json.loads((product.state / "runs" / "tree.json").read_text())
    assert record["result"] == "ok"
    (note,) = record["retries"]
    assert "tank/media and its 3 descendants: the one stream failed (ssh to root@" in note
    assert note.endswith("sending dataset by dataset")
