"""Nothing new, nothing done on real OpenZFS: `written` tells an unchanged source."""

from __future__ import annotations

import pytest

from .product import Product, ok, same

pytestmark = pytest.mark.timeout(600)


def test_a_second_run_with_nothing_new_takes_no_snapshot_and_sends_nothing(pools, tmp_path):
    a, b = pools.a, pools.b
    a.run(["zfs", "create", "tank/media"])
    a.write_random("tank/media", "a.bin", 256 << 10)
    product = Product(tmp_path)
    product.job("media", a.job_side("tank/media"), b.job_side("backup/media"))
    checked = product.run("--check", "media")
    assert checked.returncode == 0, checked.stderr
    assert (
        "media: unchanged source: no snapshot taken and nothing sent when nothing was written"
        in checked.stdout
    )
    ok(product.run("media"))
    first = same(a, "tank/media", b, "backup/media")

    ok(product.run("media"))  # nothing written since: prints nothing, changes nothing
    assert a.snapshots("tank/media") == first and b.snapshots("backup/media") == first
    record = product.record("media")
    assert record["result"] == "nothing-to-do" and record["sent"] == []

    a.write_random("tank/media", "b.bin", 64 << 10)
    ok(product.run("media"))  # something new: a snapshot, sent
    after = same(a, "tank/media", b, "backup/media")
    assert after != first and product.record("media")["result"] == "ok"
