"""Replication on real zfs-fuse hosts: push, pull, local, recursive, prune."""

from __future__ import annotations

import json

import pytest

from .replication import Product, assert_same, ok, processes, remote_script, snapshot

pytestmark = pytest.mark.timeout(240)


def push_job(dst, **extra) -> dict:
    job = {
        "version": 1,
        "source": {"dataset": "tank/media"},
        "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
    }
    for section, values in extra.items():
        job.setdefault(section, {}).update(values) if isinstance(values, dict) else job.update(
            {section: values}
        )
    return job


def make_source(src, dataset: str = "tank/media", size: int = 256 << 10) -> None:
    src.run(["zfs", "create", "-p", dataset])
    src.write_random(dataset, "movie.mkv", size)
    src.write_file(dataset, "notes/readme.txt", b"hello from the source\n")


def test_push_full_then_incremental_carries_intermediate_snapshots(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    product = Product(src, tmp_path)
    product.job("media", push_job(dst))

    ok(product.run("media"))
    # before mounting: zfs-fuse's mount shows readonly "off (temporary)"
    assert dst.run(["zfs", "get", "-H", "-o", "value", "readonly", "backup/media"]).stdout.strip() == "on"
    first = assert_same(src, "tank/media", dst, "backup/media")
    assert len(first) == 1 and next(iter(first)).startswith("zsw_media_")

    src.write_random("tank/media", "second.mkv", 64 << 10)
    snapshot(src, "tank/media", "user-1")
    src.write_file("tank/media", "notes/readme.txt", b"changed\n")
    snapshot(src, "tank/media", "user-2")
    ok(product.run("media"))

    after = assert_same(src, "tank/media", dst, "backup/media")
    assert "user-1" in after and "user-2" in after  # -I carried the snapshots in between
    assert [n for n in after if n.startswith("zsw_")] != list(first)  # pruned the old replication snapshot
    assert len([n for n in after if n.startswith("zsw_media_")]) == 1

    record = json.loads((product.state / "runs" / "media.json").read_text())
    assert record["result"] == "ok" and record["exit_code"] == 0
    assert [s["kind"] for s in record["sent"]] == ["incremental"]
    assert record["bytes"] > 64 << 10


def test_pull_full_then_incremental(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    product = Product(dst, tmp_path)  # the product runs on the destination and pulls
    job = {
        "source": {"dataset": "tank/media", "host": f"root@{src.address}"},
        "destination": {"dataset": "backup/pulled"},
    }
    product.job("pull", job)

    ok(product.run("pull"))
    assert_same(src, "tank/media", dst, "backup/pulled")
    src.write_random("tank/media", "more.bin", 100 << 10)
    snapshot(src, "tank/media", "between")
    ok(product.run("pull"))
    assert "between" in assert_same(src, "tank/media", dst, "backup/pulled")


def test_local_replication_to_another_pool_without_compression(hosts, tmp_path):
    src = hosts.src
    src.create_pool("vault")
    make_source(src)
    product = Product(src, tmp_path)
    product.job(
        "local",
        {
            "source": {"dataset": "tank/media"},
            "destination": {"dataset": "vault/copy"},
            "transfer": {"buffer": None},
        },
    )
    ok(product.run("local"))
    assert_same(src, "tank/media", src, "vault/copy")
    dry = product.run("--dry-run", "local")
    assert "zstd" not in dry.stdout and "ssh" not in dry.stdout and "mbuffer" not in dry.stdout


def test_recursive_job_creates_missing_parents_and_handles_children(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src, "tank/media")
    make_source(src, "tank/media/films")
    src.run(["zfs", "create", "tank/media/empty"])  # a child with no data and no snapshot
    product = Product(src, tmp_path)
    job = push_job(dst, source={"recursive": True})
    job["destination"]["dataset"] = "backup/deep/er/media"
    product.job("tree", job)

    ok(product.run("tree"))
    for child in ("", "/films", "/empty"):
        assert_same(src, "tank/media" + child, dst, "backup/deep/er/media" + child)
    src.write_random("tank/media/films", "new.mkv", 32 << 10)
    ok(product.run("tree"))
    assert_same(src, "tank/media/films", dst, "backup/deep/er/media/films")


def test_nothing_to_do_when_not_taking_snapshots_and_up_to_date(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    snapshot(src, "tank/media", "daily-1")
    product = Product(src, tmp_path)
    product.job("existing", push_job(dst, snapshots={"take": False}))
    ok(product.run("existing"))
    assert (
        dst.snapshots("backup/media")
        == src.snapshots("tank/media")
        == {"daily-1": src.snapshots("tank/media")["daily-1"]}
    )
    ok(product.run("existing"))
    record = json.loads((product.state / "runs" / "existing.json").read_text())
    assert record["result"] == "nothing-to-do"


def test_source_without_snapshots_and_take_false_is_an_error(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    product = Product(src, tmp_path)
    product.job("bare", push_job(dst, snapshots={"take": False}))
    result = product.run("bare")
    assert result.returncode == 1
    assert "the source has no snapshots to send" in result.stderr
    assert "does not exist" in dst.run(["zfs", "list", "backup/media"], check=False).stderr


def test_an_empty_existing_destination_is_filled_but_one_with_data_is_not(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    product = Product(src, tmp_path)
    product.job("media", push_job(dst))
    dst.run(["zfs", "create", "backup/media"])  # made by hand, still empty (mounted)
    ok(product.run("media"))
    assert_same(src, "tank/media", dst, "backup/media")

    dst.run(["zfs", "create", "backup/other"])
    dst.write_random("backup/other", "keep-me.bin", 512 << 10)
    before = dst.props("backup/other")
    product.job("other", push_job(dst, destination={"dataset": "backup/other"}))
    refused = product.run("other")
    assert refused.returncode == 1
    assert "exists but holds no snapshot" in refused.stderr
    assert dst.props("backup/other") == before


def test_remote_to_remote_relays_through_this_machine(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    product = Product(src, tmp_path)  # "this machine" reaches both sides over ssh, itself included
    job = {
        "source": {"dataset": "tank/media", "host": f"root@{src.address}"},
        "destination": {"dataset": "backup/relayed", "host": f"root@{dst.address}"},
    }
    product.job("relay", job)
    dry = product.run("--dry-run", "relay")
    line = next(x for x in dry.stdout.splitlines() if x.startswith("ssh "))
    first, middle, last = processes(line)
    assert remote_script(first)[0] == f"root@{src.address}" and remote_script(first)[1].startswith(
        "{ zfs send"
    )
    assert (
        remote_script(first)[1].endswith("| mbuffer -q -s 128k -m 128M") and middle[0] == "pv"
    )  # through here
    assert remote_script(last)[0] == f"root@{dst.address}"
    ok(product.run("relay"))
    ok(product.run("relay"))
    assert_same(src, "tank/media", dst, "backup/relayed")


def test_remote_to_remote_direct_streams_from_source_to_destination(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_source(src)
    product = Product(dst, tmp_path)  # runs on a third party's behalf: here the destination host itself
    job = {
        "source": {"dataset": "tank/media", "host": f"root@{src.address}"},
        "destination": {"dataset": "backup/direct", "host": f"root@{dst.hostname}"},
        "transfer": {"direct": True, "direct_host": f"root@{dst.address}"},  # as the source reaches it
    }
    product.job("direct", job)
    dry = product.run("--dry-run", "direct")
    assert dry.returncode == 0, dry.stderr
    line = next(x for x in dry.stdout.splitlines() if x.startswith("ssh "))
    (only,) = processes(line)  # one process here: the stream never passes through this machine
    host, script = remote_script(only)
    hop = processes(script)[-1]  # the source's own ssh to the destination, as the source reaches it
    assert host == f"root@{src.address}" and remote_script(hop)[0] == f"root@{dst.address}"
    assert remote_script(hop)[1].startswith("{ mbuffer") and remote_script(hop)[1].endswith(
        "zfs receive -u backup/direct"
    )
    ok(product.run("direct"))
    assert_same(src, "tank/media", dst, "backup/direct")
    record = json.loads((product.state / "runs" / "direct.json").read_text())
    assert record["bytes"] > 256 << 10  # pv ran on the source; its count came back through ssh
