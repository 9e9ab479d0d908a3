"""A recursive tree in one `zfs send -R` stream on real OpenZFS: placement properties kept
off with `zfs receive -x`, nothing the destination alone holds destroyed, and a stream
killed half way finished in the same run from the resume token it left."""

from __future__ import annotations

import pytest

from .product import Product, kill_here, ok, same

pytestmark = pytest.mark.timeout(600)
MiB = 1 << 20
TREE = ("", "/movies", "/shows")


def value_and_source(guest, dataset: str, prop: str) -> str:
    return guest.run(["zfs", "get", "-H", "-o", "value,source", prop, dataset]).stdout.strip()


def make_tree(a, sizes=(256 << 10, 256 << 10, 256 << 10)) -> None:
    for name, size in zip(TREE, sizes):
        a.run(["zfs", "create", f"tank/media{name}"])
        a.write_random(f"tank/media{name}", "video.mkv", size)


def tree_job(pools, product: Product, **transfer) -> None:
    source = dict(pools.a.job_side("tank/media"), recursive=True)
    sections = {"transfer": transfer} if transfer else {}
    product.job("tree", source, pools.b.job_side("backup/media"), **sections)


def test_one_stream_keeps_placement_properties_off_and_destroys_nothing_on_the_destination(pools, tmp_path):
    a, b = pools.a, pools.b
    make_tree(a)
    a.run(["zfs", "set", "mountpoint=/srv/movies", "quota=1G", "tank/media/movies"])
    a.run(["zfs", "set", "compression=lz4", "tank/media/shows"])
    product = Product(tmp_path)
    tree_job(pools, product)

    dry = product.run("--dry-run", "tree")
    assert dry.returncode == 0, dry.stderr
    assert "# tank/media and its 2 descendants in one stream (zfs send -R" in dry.stdout
    assert " -R tank/media@zsw_tree_" in dry.stdout
    assert "zfs receive -u -s -x sharenfs -x sharesmb -x mountpoint -x quota backup/media" in dry.stdout
    ok(product.run("tree"))
    for name in TREE:
        same(a, f"tank/media{name}", b, f"backup/media{name}")
    # placement stays the destination's own; other properties travel with -R, as received ones
    assert value_and_source(b, "backup/media/movies", "mountpoint").split("\t")[0] != "/srv/movies"
    assert value_and_source(b, "backup/media/movies", "quota") == "none\tdefault"
    assert value_and_source(b, "backup/media/shows", "compression") == "lz4\treceived"
    assert b.prop("backup/media/movies", "mounted") == "no"

    a.run(["zfs", "snapshot", "-r", "tank/media@user-1"])
    a.write_random("tank/media/shows", "episode.mkv", 64 << 10)
    ok(product.run("tree"))
    assert "user-1" in b.snapshots("backup/media/shows")
    # the source prunes a snapshot the destination still keeps: received without -F, it stays
    a.run(["zfs", "destroy", "-r", "tank/media@user-1"])
    a.write_random("tank/media/shows", "finale.mkv", 64 << 10)
    ok(product.run("tree"))
    assert product.record("tree")["sent"][0]["datasets"] == len(TREE)
    for name in TREE:
        kept = b.snapshots(f"backup/media{name}")
        assert "user-1" in kept
        assert {k: v for k, v in kept.items() if k != "user-1"} == a.snapshots(f"tank/media{name}")


def test_a_tree_stream_killed_half_way_is_finished_in_the_same_run_from_its_token(pools, tmp_path):
    a, b = pools.a, pools.b
    make_tree(a, sizes=(64 << 10, 16 * MiB, 64 << 10))
    product = Product(tmp_path)
    # slow, and no mbuffer: it would take the whole stream at once and let the sender finish early
    tree_job(pools, product, compression="none", buffer=None, bandwidth_limit="1M", retry_delay=1)
    before = b.allocated(pools.dst)
    running = product.start("tree")
    b.wait_for_process("zfs receive -u -s", timeout=120)
    b.wait_for_allocated(pools.dst, before + 2 * MiB)  # movies' data on disk: a token to resume from
    kill_here(f"ssh .*-p {b.ssh_port} .*zfs receive -u -s")
    ok(running.wait())

    record = product.record("tree")
    assert record["result"] == "ok"
    assert "the one stream failed" in record["retries"][0]
    kinds = [(s["dataset"], s["kind"]) for s in record["sent"]]
    assert ("tank/media/movies", "resume") in kinds  # from the token, not from the start
    for name in TREE:
        same(a, f"tank/media{name}", b, f"backup/media{name}")
        assert b.prop(f"backup/media{name}", "receive_resume_token") == "-"
