"""How many commands a run issues: a deterministic guard against per-dataset
listing and bookkeeping (the field's top performance complaint), not a timing test."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from .replication import Product, ok

pytestmark = pytest.mark.timeout(300)
CHILDREN = 12


def commands_of_last_run(product: Product, job: str) -> Counter:
    text = (product.state / "logs" / f"{job}.log").read_text()
    last = text[text.rindex("run started") :]
    kinds = Counter()
    for line in last.splitlines():
        m = re.search(r" DEBUG (?:\[[^\]]+\] )?(pipeline: zfs send|zfs \w+|command -v)", line)
        if m:
            kinds[m.group(1)] += 1
    return kinds


def connections(host) -> int:
    return host.sshd_log.read_text().count("Accepted publickey")


def test_listing_is_one_command_per_side_whatever_the_number_of_datasets(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media"])
    for i in range(CHILDREN):
        src.run(["zfs", "create", f"tank/media/show{i}"])
    product = Product(src, tmp_path)
    job = {
        "source": {"dataset": "tank/media", "recursive": True},
        "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
    }
    product.job("many", job)

    accepted_before = connections(dst)
    ok(product.run("many"))
    assert connections(dst) - accepted_before == 1  # one ssh master connection for the whole run
    first = commands_of_last_run(product, "many")
    # listing both sides, the new snapshot's GUIDs, the properties a tree stream would carry
    # (planning/tree.py), and the destination after receiving
    assert first["zfs get"] == 5
    assert first["zfs snapshot"] == 1  # one recursive, atomic snapshot
    assert first["pipeline: zfs send"] == 1  # the whole tree in one stream (zfs send -R)
    assert first["command -v"] == 2  # one probe of programs and zfs features per side
    # bookkeeping: one command per side for every dataset, not one per dataset
    assert first["zfs hold"] == 2  # the new base, on both sides
    assert first["zfs set"] == 1  # readonly=on on every dataset received in full

    ok(product.run("many"))
    second = commands_of_last_run(product, "many")
    assert second["zfs get"] == 5
    assert second["pipeline: zfs send"] == 1
    # the previous replication snapshot, on both sides: the whole tree lets it go, so one
    # `zfs destroy -r` per side (planning/destroys.py)
    assert second["zfs destroy"] == 2
    # the previous base's holds are released, one command per side: zfs-fuse has no `zfs holds`,
    # so it releases every held snapshot at once (all the job's: one release that succeeds)
    assert second["zfs release"] == 2
    assert "zfs holds" not in second  # not asked where zfs has no such command
    assert second["zfs hold"] == 2
    assert "zfs set" not in second  # nothing arrived in full
    assert len(dst.snapshots("backup/media/show3")) == 1
    for host, dataset in ((src, "tank/media"), (dst, "backup/media")):  # every base held, no stale hold
        for name in ["", *(f"/show{i}" for i in range(CHILDREN))]:
            (base,) = host.snapshots(dataset + name)
            userrefs = host.run(["zfs", "get", "-H", "-o", "value", "userrefs", f"{dataset}{name}@{base}"])
            assert userrefs.stdout.strip() == "1", (host, dataset + name)
    assert (
        dst.run(["zfs", "get", "-H", "-o", "value", "readonly", "backup/media/show7"]).stdout.strip() == "on"
    )
