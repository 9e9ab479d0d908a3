"""compression.choose: the wire compressor decided by the data (planning/compression.py)."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.planning import compression
from zfs_sync_wizard.planning.compression import FAST
from zfs_sync_wizard.planning.inventory import Dataset, Snapshot

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


MiB = 1 << 20


@pytest.mark.parametrize(
    ("size", "small"),
    [(None, False), (0, True), (MiB, True), (compression.SMALL - 1, True), (compression.SMALL, False)],
)
def test_a_small_stream_goes_uncompressed_and_an_unknown_one_is_not_small(size, small):
    assert compression.small(size) is small


def dataset(props: dict, *snaps: tuple[str, int, dict]) -> Dataset:
    return Dataset(
        "tank/m",
        snapshots=[Snapshot(name, i + 1, txg, props=p) for i, (name, txg, p) in enumerate(snaps)],
        props=props,
    )


@pytest.mark.parametrize(
    ("ds", "base", "expected"),
    [
        # grew by 3 MiB since @a, which holds nothing of its own
        (
            dataset({"referenced": str(5 * MiB)}, ("a", 1, {"referenced": str(2 * MiB), "used": "0"})),
            "a",
            3 * MiB,
        ),
        # overwritten in place: no growth, but @a and @b hold what was overwritten
        (
            dataset(
                {"referenced": str(5 * MiB)},
                ("old", 1, {"referenced": str(MiB), "used": str(9 * MiB)}),
                ("a", 2, {"referenced": str(5 * MiB), "used": str(MiB)}),
                ("b", 3, {"referenced": str(5 * MiB), "used": str(2 * MiB)}),
            ),
            "a",
            3 * MiB,
        ),
        # stored compressed: the stream carries it uncompressed
        (
            dataset(
                {"referenced": str(MiB), "compressratio": "4.00x"},
                ("a", 1, {"referenced": "0", "used": "0"}),
            ),
            "a",
            4 * MiB,
        ),
        # shrank: nothing new but what @a holds alone
        (
            dataset({"referenced": str(MiB)}, ("a", 1, {"referenced": str(3 * MiB), "used": str(2 * MiB)})),
            "a",
            2 * MiB,
        ),
        # the snapshot this run just took, added to the listing without sizes: nothing of its own
        (
            dataset(
                {"referenced": str(3 * MiB)},
                ("a", 1, {"referenced": str(2 * MiB), "used": str(MiB)}),
                ("zsw_new", 2, {}),
            ),
            "a",
            2 * MiB,
        ),
        # sizes not listed (OpenZFS estimates instead), or no such base
        (dataset({}, ("a", 1, {})), "a", None),
        (dataset({"referenced": str(MiB)}, ("a", 1, {"referenced": "0", "used": "0"})), "gone", None),
    ],
)
def test_changed_since_a_snapshot_from_the_listing(ds, base, expected):
    assert compression.changed(ds, base) == expected


def test_a_full_stream_is_the_referenced_data_uncompressed():
    assert compression.full_size(dataset({"referenced": str(MiB), "compressratio": "2.50x"})) == 5 * MiB // 2
    assert compression.full_size(dataset({})) is None


def test_a_tree_is_stored_compressed_where_any_dataset_is_and_compresses_as_its_root_says():
    props = compression.of_tree(
        [{"compression": "off", "compressratio": "1.04x"}, {"compression": "lz4"}, {"compression": "off"}]
    )
    assert props == {"compression": "lz4", "compressratio": "1.04x"}
    assert (
        compression.choose("auto", True, (), props).codec is None
    )  # stored compressed, and it did not shrink
    assert compression.of_tree([{"compression": "off"}]) == {}  # nothing stored compressed, no ratio listed


@pytest.mark.parametrize(
    ("props", "untold"),
    [(OFF, True), ({}, True), ({"compression": "-"}, True), (LZ4_2X, False), (LZ4_1X, False)],
)
def test_data_stored_uncompressed_is_untold(props, untold):
    assert compression.untold(props) is untold


@pytest.mark.parametrize(
    ("codec", "size", "untold", "sampled"),
    [
        (FAST, compression.SAMPLE_FROM, True, True),
        (FAST, compression.SAMPLE_FROM - 1, True, False),  # a sample would cost more than it saves
        (FAST, None, True, False),  # size unknown: the properties' choice stands
        (FAST, 1 << 30, False, False),  # stored compressed at 1.10x or more: evidence enough
        ("zstd", 1 << 30, True, False),  # asked for by name
        ("none", 1 << 30, True, False),
    ],
)
def test_only_a_large_stream_of_untold_data_auto_would_compress_is_sampled(codec, size, untold, sampled):
    assert compression.sampled(codec, size, untold) is sampled


SAMPLE = compression.SAMPLE


@pytest.mark.parametrize(
    ("read", "compressed", "codec", "reason"),
    [
        (
            SAMPLE,
            SAMPLE + 120,
            None,
            "the data does not compress: 4.0 MiB of the stream came out of zstd -1 as 4.0 MiB",
        ),
        (SAMPLE, int(SAMPLE / 1.09), None, "the data does not compress: "),
        (
            SAMPLE,
            int(SAMPLE / 1.11),
            FAST,
            "auto: zstd's fastest level; 4.0 MiB of the stream came out of zstd -1 as 3.6",
        ),
        (
            SAMPLE,
            300,
            FAST,
            "auto: zstd's fastest level; 4.0 MiB of the stream came out of zstd -1 as 300",
        ),  # zeros
        (
            0,
            13,
            FAST,
            "auto: zstd's fastest level; the sample of the stream failed (read nothing)",
        ),  # send failed
        (MiB, MiB, FAST, "auto: zstd's fastest level; the sample of the stream failed (read 1.0 MiB)"),
        (None, None, FAST, "auto: zstd's fastest level; the sample of the stream failed (read nothing)"),
    ],
)
def test_a_sample_that_does_not_shrink_goes_uncompressed(read, compressed, codec, reason):
    choice = compression.of_sample(read, compressed)
    assert choice.codec == codec and choice.reason.startswith(reason), choice
