"""compression.choose: the wire compressor decided by the data (planning/compression.py)."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import compression
from zfs_sync_wizard.planning.compression import FAST

LZ4_2X = {"compression": "lz4", "compressratio": "2.00x"}
LZ4_1X = {"compression": "lz4", "compressratio": "1.03x"}  # a media library: video does not compress
OFF = {"compression": "off", "compressratio": "1.00x"}  # says nothing about the data
OPENZFS_P = {"compression": "zstd", "compressratio": "1.52"}  # zfs get -p leaves out the x
MODERN = ["-L", "-e", "-c"]


@pytest.mark.parametrize(
    "setting, crosses, flags, props, codec, reason",
    [
        # never on this machine, whatever the setting
        ("auto", False, [], OFF, None, "stays on this machine"),
        ("zstd", False, [], OFF, None, "stays on this machine"),
        # explicit settings are used as asked
        ("none", True, [], OFF, None, "transfer.compression: none"),
        ("zstd", True, MODERN, LZ4_1X, "zstd", "transfer.compression: zstd"),
        ("lz4", True, ["-w"], {}, "lz4", "transfer.compression: lz4"),
        # auto: already compressed streams
        ("auto", True, ["-w"], LZ4_2X, None, "raw send of encrypted data"),
        ("auto", True, MODERN, LZ4_2X, None, "zfs send -c: blocks travel compressed (lz4)"),
        ("auto", True, MODERN, OPENZFS_P, None, "zfs send -c"),
        # auto: data the dataset found incompressible (zfs-fuse: no -c)
        ("auto", True, [], LZ4_1X, None, "does not compress (compressratio 1.03x)"),
        ("auto", True, [], {"compression": "on", "compressratio": "1.09x"}, None, "does not compress"),
        # OpenZFS: the dataset's own ratio, not its children's
        ("auto", True, [], dict(LZ4_2X, refcompressratio="1.01x"), None, "(compressratio 1.01x)"),
        ("auto", True, [], dict(LZ4_1X, refcompressratio="3.00x"), FAST, "fastest level"),
        # auto: compressible, sent uncompressed: the fast level
        ("auto", True, [], {"compression": "on", "compressratio": "1.10x"}, FAST, "fastest level"),
        ("auto", True, [], LZ4_2X, FAST, "fastest level"),
        ("auto", True, [], {"compression": "gzip", "compressratio": "1.52"}, FAST, "fastest level"),
        # auto: stored uncompressed, so the ratio tells nothing, even with -c
        ("auto", True, MODERN, OFF, FAST, "fastest level"),
        ("auto", True, [], OFF, FAST, "fastest level"),
        # auto: unknown (not listed yet, or `-` on a volume's odd property)
        ("auto", True, [], {}, FAST, "fastest level"),
        ("auto", True, [], {"compression": "lz4", "compressratio": "-"}, FAST, "fastest level"),
    ],
)
def test_choose(setting, crosses, flags, props, codec, reason):
    choice = compression.choose(setting, crosses, flags, props)
    assert choice.codec == codec
    assert reason in choice.reason
    assert choice.describe().startswith(f"compression: {codec or 'none'} (")


def test_fast_is_a_compressor_the_pipeline_knows():
    from zfs_sync_wizard.commands.pipeline import COMPRESSORS

    assert COMPRESSORS[FAST][0] == ["zstd", "-q", "-c", "-1"]
