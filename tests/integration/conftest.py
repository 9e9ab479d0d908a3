"""Integration tier: real ZFS (zfs-fuse) on two sandbox hosts, src and dst.

Fixtures:
- ``sandbox`` (session): one zfs-fuse sandbox for the whole run, after the
  product is installed (``installed``: tests/installed.py); tests run it as
  installed, never the checkout. The tier is
  skipped with a clear message where OpenZFS is present (zfs-fuse conflicts
  with it), without root, or without zfs-fuse and its helper tools.
- ``hosts`` (function): fresh pool ``tank`` on src and ``backup`` on dst;
  afterwards every pool is destroyed, hidden tools come back and stray
  processes on the hosts are killed, so tests do not depend on each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dev.sandbox import Sandbox, fuse_mode_unavailable

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Decided once at collection, so even tests without the fixtures skip.
    reason = fuse_mode_unavailable()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sandbox(installed) -> Iterator[Sandbox]:  # the product is installed before the first test
    reason = fuse_mode_unavailable()
    if reason:
        pytest.skip(reason)
    # A sandbox left by a killed earlier run is reaped by start().
    sbx = Sandbox(mode="fuse").start()
    try:
        yield sbx
    finally:
        sbx.stop()


@pytest.fixture
def hosts(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.src.create_pool("tank")
    sandbox.dst.create_pool("backup")
    try:
        yield sandbox
    finally:
        sandbox.reset()


@pytest.fixture
def media(hosts, tmp_path):
    """A source tank/media with 200 KiB of data and a push job `media` to the destination host."""
    from .replication import Product

    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media"])
    src.write_random("tank/media", "movie.mkv", 200 << 10)
    product = Product(src, tmp_path)
    job = {
        "source": {"dataset": "tank/media"},
        "destination": {"dataset": "backup/media", "host": f"root@{dst.address}"},
    }
    product.job("media", job)
    return product
