"""OpenZFS tier: real OpenZFS 2.x (kernel module) in two qemu guests, a and b.

Every test in tests/openzfs is marked ``openzfs`` (``-m "not openzfs"``
leaves the tier out). Before the tier's first test, the guest image is
built if it is not cached (``guest/build-image``, about 6 minutes, outside
any test timeout; ``tests/run`` builds it before pytest starts). The tier
is skipped with the reason where guests cannot run: not root, qemu
missing, the image build failing, or ``ZSW_NO_OPENZFS`` set. With
``ZSW_GUEST_NO_BUILD`` set (tests/run sets it after its own build attempt)
a missing image skips the tier instead of being built here.

Fixtures:
- ``guests`` (session): both guests booted once per run (software emulation
  unless the CPU offers vmx/svm: about 30-60 s), killed at the end.
- ``pools`` (function): fresh pool ``tank`` on guest a (``pools.src``) and
  ``backup`` on guest b (``pools.dst``); afterwards every pool on both
  guests is destroyed and stray processes (zfs, pv, mbuffer, ssh, python,
  ...) are killed, so tests do not depend on each other.

The guest API is in ``guest/guests.py`` (qemu and state: ``guest/machine.py``,
the image: ``guest/image.py`` and ``guest/build-image``); docs/openzfs-tier.md
has the rest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dev.sandbox.proc import run_parallel
from tests.openzfs.guest import guests as guestlib
from tests.openzfs.guest.guests import Guest, Guests

HERE = Path(__file__).resolve().parent
MARK = "openzfs"

_skip_reason: str | None = None
_booted: Guests | None = None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}: needs the qemu guests with real OpenZFS (tests/openzfs)")


def _in_tier(item: pytest.Item) -> bool:
    return HERE in Path(str(item.fspath)).resolve().parents


def pytest_itemcollected(item: pytest.Item) -> None:
    # Marked as collected, so that -m deselection already sees the mark.
    if _in_tier(item):
        item.add_marker(MARK)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # trylast: after -k/-m deselection, so the image is built only when a
    # test of the tier is actually going to run.
    global _skip_reason
    tier = [item for item in items if _in_tier(item)]
    if not tier:
        return
    _skip_reason = guestlib.unavailable()
    if _skip_reason is None and not guestlib.image_ready() and os.environ.get("ZSW_GUEST_NO_BUILD"):
        # tests/run already ran build-image, and it failed: don't try twice.
        _skip_reason = f"OpenZFS guest image not built (build-image failed; its log: {guestlib.build_log()})"
    if _skip_reason is None and not guestlib.image_ready():
        capture = config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            try:
                guestlib.build_image()
            except Exception as e:  # noqa: BLE001 - any failure means: skip, saying why
                _skip_reason = f"OpenZFS guest image could not be built: {e}"
        if _skip_reason is None and not guestlib.image_ready():
            _skip_reason = f"OpenZFS guest image missing: run {guestlib.BUILD_SCRIPT}"
    if _skip_reason:
        for item in tier:
            item.add_marker(pytest.mark.skip(reason=_skip_reason))


@pytest.fixture(scope="session")
def guests(installed) -> Iterator[Guests]:  # the product is installed before the first test
    global _booted
    if _skip_reason:
        pytest.skip(_skip_reason)
    booted = Guests().start()
    _booted = booted
    try:
        yield booted
    finally:
        booted.stop()


@dataclass
class Pools:
    """A fresh pool on each guest: ``src`` on ``a``, ``dst`` on ``b``."""

    guests: Guests
    a: Guest
    b: Guest
    src: str = "tank"
    dst: str = "backup"


@pytest.fixture
def pools(guests: Guests) -> Iterator[Pools]:
    fresh = Pools(guests, guests.a, guests.b)
    try:
        run_parallel([lambda: fresh.a.create_pool(fresh.src), lambda: fresh.b.create_pool(fresh.dst)])
        yield fresh
    finally:
        guests.reset()


def pytest_terminal_summary(terminalreporter) -> None:
    if _booted is not None and _booted.timings:
        shown = ", ".join(f"{k} {v:.1f} s" for k, v in _booted.timings.items())
        terminalreporter.write_line(f"openzfs guests: {shown}")
