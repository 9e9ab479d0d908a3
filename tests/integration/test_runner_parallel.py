"""Datasets sent at once (`transfer.parallel`) on real zfs-fuse hosts: every
dataset arrives, parents' first sends before their children's, a dataset
that fails does not stop the others, and SIGTERM mid-run leaves a state the
next run completes.  Per-dataset streams are forced (`tree_stream: never`):
these tests are about transfers at once, not one `zfs send -R` stream."""

from __future__ import annotations

import json
import re

import pytest

from .replication import SENDING, Product, assert_same, ok, unwrap_command, wait_until, wrap_command

pytestmark = pytest.mark.timeout(300)
CHILDREN = ("show0", "show1", "show2", "show3")
SEND = re.compile(r" DEBUG pipeline: zfs send .*?(tank/media[\w/]*)@")
SENT = re.compile(r" INFO (tank/media[\w/]*) -> backup/media[\w/]*: \S+ sent, \d+ bytes")


def make_tree(src, size: int = 96 << 10) -> None:
    src.run(["zfs", "create", "tank/media"])
    for child in CHILDREN:
        src.run(["zfs", "create", f"tank/media/{child}"])
        src.write_random(f"tank/media/{child}", "episode.mkv", size)
    src.run(["zfs", "create", "tank/media/show0/extras"])
    src.write_random("tank/media/show0/extras", "making-of.mkv", size // 2)


def tree_job(product: Product, dst, rate: str | None = "60k") -> None:
    product.job(
        "tree",
        {
            "source": {"dataset": "tank/media", "recursive": True},
            "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
            "transfer": {"parallel": 3, "tree_stream": "never", "bandwidth_limit": rate, "retry_delay": 1},
        },
    )


def datasets() -> list[str]:
    return ["", *(f"/{c}" for c in CHILDREN), "/show0/extras"]


def assert_all_arrived(src, dst) -> None:
    for name in datasets():
        assert_same(src, "tank/media" + name, dst, "backup/media" + name)


def last_run_log(product: Product) -> list[str]:
    text = (product.state / "logs" / "tree.log").read_text()
    return text[text.rindex("run started") :].splitlines()


def streams(lines: list[str]) -> list[tuple[str, str]]:
    """("start" | "end", source dataset) in the order the log tells them."""
    out = []
    for line in lines:
        if m := SEND.search(line):
            out.append(("start", m.group(1)))
        elif m := SENT.search(line):
            out.append(("end", m.group(1)))
    return out


def most_at_once(events: list[tuple[str, str]]) -> int:
    now = most = 0
    for kind, _ in events:
        now += 1 if kind == "start" else -1
        most = max(most, now)
    return most


def test_a_tree_goes_at_once_parents_first_and_the_next_run_too(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_tree(src)
    product = Product(src, tmp_path)
    tree_job(product, dst)

    ok(product.run("tree"))
    assert_all_arrived(src, dst)
    lines = last_run_log(product)
    events = streams(lines)
    assert sorted(d for kind, d in events if kind == "end") == sorted("tank/media" + n for n in datasets())
    assert 2 <= most_at_once(events) <= 3  # datasets at once, never more than `parallel`
    # parents first: a dataset's stream starts only after its parent's arrived
    for child, parent in [
        *((f"tank/media/{c}", "tank/media") for c in CHILDREN),
        ("tank/media/show0/extras", "tank/media/show0"),
    ]:
        assert events.index(("end", parent)) < events.index(("start", child)), (child, events)
    for line in lines:  # every pipeline's own line names its dataset, whichever thread ran it
        if "pipeline done in" in line or "pipeline failed after" in line:
            assert re.search(r"\(tank/media[\w/]*\)$", line), line

    for child in ("show1", "show3"):
        src.write_random(f"tank/media/{child}", "episode-2.mkv", 64 << 10)
    ok(product.run("tree"))  # incrementals: no order between them
    assert_all_arrived(src, dst)
    events = streams(last_run_log(product))
    assert len([e for e in events if e[0] == "end"]) == len(datasets())
    assert most_at_once(events) >= 2
    record = json.loads((product.state / "runs" / "tree.json").read_text())
    assert record["result"] == "ok" and len(record["sent"]) == len(datasets())


# the destination's receive of one dataset dies (as the OOM killer would kill it); the others' run
# the real zfs.  A real full pool would not do: it refuses every receive running at that moment.
KILL_ONE_RECEIVE = (
    'if [ "$1" = receive ]; then eval "target=\\${$#}"; '
    '[ "$target" = backup/media/show0 ] && kill -KILL $$; fi; exec "$REAL" "$@"'
)


def test_a_dataset_that_fails_does_not_stop_the_others_and_its_children_say_why(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_tree(src, size=64 << 10)
    product = Product(src, tmp_path)
    tree_job(product, dst, rate=None)
    wrap_command(dst, "/usr/sbin/zfs", KILL_ONE_RECEIVE)
    try:
        failed = product.run("tree")
    finally:
        unwrap_command(dst, "/usr/sbin/zfs")
    assert failed.returncode == 1, (failed.returncode, failed.stderr)
    assert "tank/media/show0 -> backup/media/show0: stage 'zfs receive' failed" in failed.stderr
    assert (
        "tank/media/show0/extras -> backup/media/show0/extras: not sent: its parent backup/media/show0 "
        "was not received" in failed.stderr
    )
    for name in ("", "/show1", "/show2", "/show3"):  # the others arrived all the same
        assert_same(src, "tank/media" + name, dst, "backup/media" + name)
    listed = dst.run(["zfs", "list", "-H", "-o", "name", "-r", "backup/media"]).stdout.split()
    assert "backup/media/show0" not in listed and "backup/media/show0/extras" not in listed
    record = json.loads((product.state / "runs" / "tree.json").read_text())
    assert record["result"] == "failed" and len(record["errors"]) == 2

    ok(product.run("tree"))  # the receive lives again: the next run sends what is missing
    assert_all_arrived(src, dst)


def test_sigterm_during_transfers_at_once_stops_them_all_and_the_next_run_completes(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    make_tree(src, size=200 << 10)
    product = Product(src, tmp_path)
    tree_job(product, dst, rate="20k")  # ~10 s a child
    running, pid = product.start_locked("tree")
    sends = f'"{SENDING}"'
    wait_until(src, f'[ "$(pgrep --ns $$ --nslist net -fc {sends})" -ge 2 ]')  # children at once
    src.run(["kill", "-TERM", str(pid)])
    stopped = running.wait()
    assert stopped.returncode == 130, (stopped.returncode, stopped.stderr)
    assert "interrupted; the next run continues from here" in stopped.stderr
    # every transfer stopped with it, on both sides
    wait_until(src, f"! pgrep --ns $$ --nslist net -f {sends}")
    wait_until(dst, '! pgrep --ns $$ --nslist net -f "^zfs receive"')
    record = json.loads((product.state / "runs" / "tree.json").read_text())
    assert record["result"] == "interrupted"

    tree_job(product, dst, rate=None)
    ok(product.run("tree"))  # no manual step
    assert_all_arrived(src, dst)
