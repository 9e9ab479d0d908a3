"""resume: reading `zfs send -nvP -t TOKEN` and deciding to resume or abort."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import resume, sizes
from zfs_sync_wizard.planning.inventory import Dataset, Snapshot

TOKEN_OUTPUT = (
    "resume token contents:\n"
    "nvlist version: 0\n"
    "\tobject = 0x2\n"
    "\toffset = 0x1a0000\n"
    "\tbytes = 0x1a2c58\n"
    "\ttoguid = 0x1d3b5d2f0c3e7a11\n"
    "\ttoname = tank/media@zsw_media_20261121T120000Z\n"
    "\tcompressok = 1\n"
    "full\ttank/media@zsw_media_20261121T120000Z\t3145728\n"
    "size\t1468006\n"
)
GUID = 0x1D3B5D2F0C3E7A11
SOURCE = Dataset("tank/media", 1, [Snapshot("zsw_media_20261121T120000Z", GUID, 10)])


def test_parse_token_info():
    info = resume.parse_token_info(TOKEN_OUTPUT)
    assert info == resume.TokenInfo("tank/media@zsw_media_20261121T120000Z", GUID, 1468006)


def test_parse_size_takes_the_total():
    text = "incremental\ta\ttank/m@b\t100\nincremental\tb\ttank/m@c\t200\nsize\t300\n"
    assert sizes.parse_estimate(text) == 300
    assert sizes.parse_estimate("nothing here") is None


def test_parse_reclaim_takes_what_destroy_would_free():
    text = "destroy\ttank/m@a\ndestroy\ttank/m@b\nreclaim\t1234567\n"
    assert sizes.parse_reclaim(text) == 1234567
    assert sizes.parse_reclaim("would destroy tank/m@a\n") is None


@pytest.mark.parametrize(
    "source, error, reason",
    [
        (SOURCE, "", None),
        (
            SOURCE,
            "cannot resume send: 'tank/media@zsw' used in the initial send no longer exists\n",
            "the source cannot resume it",
        ),
        (Dataset("tank/media", 1, []), "", "no longer exists on the source"),
        (Dataset("tank/media", 1, [Snapshot("zsw_media_20261121T120000Z", 99, 10)]), "", "GUID differs"),
        (Dataset("tank/other", 1, SOURCE.snapshots), "", "not for a snapshot of tank/other"),
        (None, "", "not for a snapshot of the source"),
    ],
)
def test_decide(source, error, reason):
    decision = resume.decide(resume.parse_token_info(TOKEN_OUTPUT), source, error)
    if reason is None:
        assert decision is None
    else:
        assert reason in decision


def test_undescribable_token_is_aborted():
    assert "could not describe" in resume.decide(None, SOURCE)
