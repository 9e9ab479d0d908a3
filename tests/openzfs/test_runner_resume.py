"""Resumable transfers on real OpenZFS: killed mid-stream, resumed by the
next run or by a retry in the same run; stale tokens aborted automatically;
size estimates. The product runs on this machine and relays between guests."""

from __future__ import annotations

import pytest

from .product import Product, kill_here, ok, same

pytestmark = pytest.mark.timeout(600)
MiB = 1 << 20
SIZE = 16 * MiB  # at 1 MiB/s: ~16 s on the wire, far more than the pipes and ssh windows hold


@pytest.fixture
def relay(pools, tmp_path):
    a, b = pools.a, pools.b
    a.run(["zfs", "create", "tank/media"])
    a.write_random("tank/media", "movie.mkv", SIZE)
    product = Product(tmp_path)
    # no mbuffer: it would take the whole stream at once and let the sender finish early
    slow = {"compression": "none", "buffer": None, "bandwidth_limit": "1M", "retries": 0, "retry_delay": 1}
    product.job("media", a.job_side("tank/media"), b.job_side("backup/media"), transfer=slow)
    return product


def interrupt(pools, product: Product, what: str):
    """Start a run and kill one part of its pipeline once data flows."""
    a, b = pools.a, pools.b
    before = b.allocated(pools.dst)
    running = product.start("media")
    b.wait_for_process("zfs receive -u -s", timeout=120)
    b.wait_for_allocated(pools.dst, before + MiB)  # data on disk: a token to resume from
    if what == "sender":
        assert a.kill("zfs send") >= 1
    elif what == "receiver":
        assert b.kill("zfs receive -u -s") >= 1
    else:  # the ssh carrying the stream into the destination, on this machine
        kill_here(f"ssh .*-p {b.ssh_port} .*zfs receive -u -s")
    return running.wait()


@pytest.mark.parametrize("what", ["sender", "ssh", "receiver"])
def test_a_transfer_killed_mid_stream_is_resumed_by_the_next_run(pools, relay, what):
    failed = interrupt(pools, relay, what)
    assert failed.returncode == 1, failed.stderr
    token = pools.b.prop("backup/media", "receive_resume_token")
    assert token not in ("", "-"), "the partial receive kept no resume token"

    ok(relay.run("media"))
    record = relay.record("media")
    assert record["sent"][0]["kind"] == "resume"
    same(pools.a, "tank/media", pools.b, "backup/media")
    assert pools.b.prop("backup/media", "receive_resume_token") == "-"


def test_a_token_whose_snapshot_was_destroyed_is_aborted_and_replaced(pools, relay):
    interrupt(pools, relay, "sender")
    (lost,) = pools.a.snapshots("tank/media")
    pools.a.run(["zfs", "destroy", f"tank/media@{lost}"])

    ok(relay.run("media"))
    record = relay.record("media")
    assert any(
        f"{lost} no longer exists on the source" in why or "cannot resume" in why for why in record["aborted"]
    )
    assert lost not in pools.b.snapshots("backup/media")
    same(pools.a, "tank/media", pools.b, "backup/media")


def test_size_estimates_are_within_ten_percent_of_what_was_sent(pools, relay):
    job = relay.config / "jobs" / "media.yaml"
    job.write_text(job.read_text().replace("bandwidth_limit: 1M", "bandwidth_limit: null"))
    ok(relay.run("media"))
    record = relay.record("media")
    (sent,) = record["sent"]
    assert sent["estimated"] and abs(sent["estimated"] - sent["bytes"]) <= sent["bytes"] * 0.10
    assert record["estimated"] == sent["estimated"] and record["bytes"] == sent["bytes"] > SIZE
    pools.a.write_random("tank/media", "more.bin", 1 << 20)
    pools.a.run(["zpool", "sync"])  # written@ counts what reached the pool
    dry = relay.run("--dry-run", "media")  # its snapshot is not taken: estimated from written@base
    line = next(x for x in dry.stdout.splitlines() if x.startswith("# estimated size: "))
    assert 1 << 20 <= int(line.split()[3]) <= 1.2 * (1 << 20)


def test_a_connection_lost_while_checking_a_token_keeps_the_token(pools, relay):
    interrupt(pools, relay, "receiver")
    token = pools.b.prop("backup/media", "receive_resume_token")
    assert token not in ("", "-")
    # the remote side dies while `zfs send -nvP -t` runs: the shell goes, no answer comes back over ssh
    drop = 'case "$*" in *"-nvP -t"*) kill -KILL $PPID; exit 255;; esac'
    pools.a.wrap_command("zfs", drop + '; exec "$REAL" "$@"')
    try:
        failed = relay.run("media")
    finally:
        pools.a.unwrap_command("zfs")
    assert failed.returncode == 1, failed.stderr
    assert (
        "could not check the partial receive's resume token" in failed.stderr
        and "it is kept" in failed.stderr
    )
    assert pools.b.prop("backup/media", "receive_resume_token") == token  # hours of a first sync survive
    assert relay.record("media")["aborted"] == []

    ok(relay.run("media"))
    assert relay.record("media")["sent"][0]["kind"] == "resume"
    same(pools.a, "tank/media", pools.b, "backup/media")


@pytest.mark.parametrize(
    ("side", "carrying"),
    [
        ("destination", "ssh .*-p {b} .*zfs receive -u -s"),  # this machine's ssh into the receiver
        ("source", "ssh .*-p {a} .*zfs send"),  # the stream's first hop, into this machine
    ],
)
def test_an_ssh_drop_is_retried_in_the_same_run_resuming_from_the_token(pools, relay, side, carrying):
    job = relay.config / "jobs" / "media.yaml"
    job.write_text(job.read_text().replace("retries: 0", "retries: 2"))
    before = pools.b.allocated(pools.dst)
    running = relay.start("media")
    pools.b.wait_for_process("zfs receive -u -s", timeout=120)
    pools.b.wait_for_allocated(pools.dst, before + MiB)
    kill_here(carrying.format(a=pools.a.ssh_port, b=pools.b.ssh_port))
    ok(running.wait())
    record = relay.record("media")
    port = pools.b.ssh_port if side == "destination" else pools.a.ssh_port
    assert (
        len(record["retries"]) == 1
        and f"retrying in 1 s: ssh to root@127.0.0.1:{port}" in record["retries"][0]
    )
    assert [entry["kind"] for entry in record["sent"]] == ["resume"]
    same(pools.a, "tank/media", pools.b, "backup/media")
