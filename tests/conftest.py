"""Fixtures shared by every tier: ``installed``, the product as pip installs it
(tests/installed.py), built once per session and removed at its end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import installed as installed_product


@pytest.fixture(scope="session")
def installed() -> Iterator[installed_product.Installed]:
    yield installed_product.product()
    installed_product.remove()
