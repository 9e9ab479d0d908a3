"""Compression on the wire, decided by the data (pure).

`transfer.compression: auto` compresses only where it can pay: never a
stream that stays on this machine, never one that is already compressed
(raw sends of encrypted data; `zfs send -c`, whose blocks travel as the
dataset stores them, compressed), never data the dataset itself found
incompressible (its `refcompressratio`, the ratio of its own data, where zfs
has it (OpenZFS); else its `compressratio`, which counts its children too
(zfs-fuse): both read in the same source listing), and
otherwise at zstd's fastest level, so that the compressor is never the
bottleneck.  Where the dataset stores its data uncompressed, zfs cannot say
whether it compresses: a large stream of one dataset is then sampled first
(`sampled`, `of_sample`: its first 4 MiB through that same zstd) and goes
uncompressed where the sample does not shrink (video, archives, encrypted
files).  A tree's stream is not sampled: it begins with every dataset's
properties, which compress whatever the data.  An explicit `zstd` or `lz4`
is used as asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import sizes
from .inventory import Dataset

FAST = "zstd-fast"  # commands/pipeline.py's COMPRESSORS: zstd -1
PROPERTIES = ("compression", "compressratio")  # what `choose` reads off the source listing
OWN_RATIO = "refcompressratio"  # listed too where zfs has it (OpenZFS): the dataset's own data only
INCOMPRESSIBLE = 1.10  # a dataset stored with compression that saves less than this compresses no further


@dataclass(frozen=True)
class Choice:
    codec: str | None  # a key of commands/pipeline.py's COMPRESSORS, None for no compression
    reason: str

    def describe(self) -> str:
        """The dry run's line: `compression: none (...)`."""
        return f"compression: {self.codec or 'none'} ({self.reason})"


def untold(props: Mapping[str, str]) -> bool:
    """Whether the listing cannot tell if a dataset's data compresses: it is stored
    uncompressed (or its compression is not listed), so its compressratio means nothing."""
    return props.get("compression", "") in ("", "-", "off")


def choose(setting: str, crosses_ssh: bool, send_flags: Sequence[str], props: Mapping[str, str]) -> Choice:
    """The compressor for one dataset's stream.

    `setting` is transfer.compression, `send_flags` the dataset's `zfs send`
    flags, `props` its listed properties (compression, [ref]compressratio;
    absent where unknown, e.g. before a listing).
    """
    if not crosses_ssh:
        return Choice(None, "the stream stays on this machine")
    if setting == "none":
        return Choice(None, "transfer.compression: none")
    if setting != "auto":
        return Choice(setting, f"transfer.compression: {setting}")
    if "-w" in send_flags:
        return Choice(None, "raw send of encrypted data, which does not compress")
    stored = not untold(props)
    if stored and "-c" in send_flags:
        return Choice(None, f"zfs send -c: blocks travel compressed ({props['compression']})")
    ratio = _ratio(props.get(OWN_RATIO) or props.get("compressratio", ""))
    if stored and ratio is not None and ratio < INCOMPRESSIBLE:
        return Choice(None, f"the data does not compress (compressratio {ratio:.2f}x)")
    return Choice(FAST, "auto: zstd's fastest level")


def _ratio(value: str) -> float | None:
    """`1.52x` (zfs get) or `1.52` (zfs get -p on OpenZFS) as a number, None when unknown."""
    try:
        return float(value.strip().rstrip("x"))
    except ValueError:
        return None


def of_tree(datasets: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """A tree stream's data as `choose` reads it, from each dataset's listed properties, the root
    first: stored compressed where any dataset is, and the root's `compressratio`, which counts
    its descendants (not its own `refcompressratio`)."""
    stored = [p["compression"] for p in datasets if not untold(p)]
    props = {"compression": stored[0]} if stored else {}
    if datasets and "compressratio" in datasets[0]:
        props["compressratio"] = datasets[0]["compressratio"]
    return props


SMALL = 32 << 20  # under auto, a stream this small goes uncompressed (see `small`)
SAMPLE_FROM = 64 << 20  # under auto, a stream this large is sampled before it is compressed
SAMPLE = 4 << 20  # bytes of the stream's start the sample reads


def sampled(codec: str | None, size: int | None, untold_data: bool) -> bool:
    """Whether auto's choice of `codec` for one dataset's stream of about `size` bytes waits
    for a sample of it: only zstd's fastest level for data stored uncompressed (`untold`;
    a ratio of 1.10 or more is evidence enough), only a large stream (the sample costs a
    send's start and 4 MiB read, some 0.05 s)."""
    return untold_data and codec == FAST and size is not None and size >= SAMPLE_FROM


def of_sample(read: int | None, compressed: int | None) -> Choice:
    """Auto's choice once the stream's first `read` bytes (SAMPLE, unless the send failed)
    came out of zstd's fastest level as `compressed` bytes; where the sample failed, the
    properties' choice stands."""
    if read is None or compressed is None or read < SAMPLE:
        got = "nothing" if not read else sizes.human(read)
        return Choice(FAST, f"auto: zstd's fastest level; the sample of the stream failed (read {got})")
    ratio = read / max(compressed, 1)
    shown = f"{sizes.human(read)} of the stream came out of zstd -1 as {sizes.human(compressed)}"
    if ratio < INCOMPRESSIBLE:
        return Choice(None, f"the data does not compress: {shown}")
    return Choice(FAST, f"auto: zstd's fastest level; {shown}")


def small(size: int | None) -> bool:
    """Whether a stream is too small to compress under auto: a compressor passes data on only in
    whole blocks, and at the end of the input, so on a small stream it holds back what the
    receiver could already be writing (a tree of many small datasets most of all), for a gain
    of little time on any link.  Unknown sizes are not small."""
    return size is not None and size < SMALL


def logical(props: Mapping[str, str], stored: int | None) -> int | None:
    """Bytes stored compressed as the stream carries them (uncompressed): times the listed
    compressratio, where it is listed."""
    ratio = _ratio(props.get("compressratio", ""))
    return None if stored is None else int(stored * (ratio or 1.0))


def full_size(dataset: Dataset) -> int | None:
    """Roughly how big a full stream of the dataset is, from the listing alone (zfs-fuse)."""
    return logical(dataset.props, sizes.parse_value(dataset.props.get("referenced", "")))


def changed(dataset: Dataset, base: str) -> int | None:
    """Roughly how many bytes changed since snapshot `base`, from listed sizes alone (where zfs
    cannot estimate a stream: zfs-fuse): what the dataset grew by, plus what `base` and the later
    snapshots hold on their own (overwritten or deleted since).  None where sizes are not listed."""
    then = dataset.snapshot(base)
    now = sizes.parse_value(dataset.props.get("referenced", ""))
    before = sizes.parse_value(then.props.get("referenced", "")) if then else None
    if now is None or before is None:
        return None
    after = [s for s in dataset.snapshots if s.createtxg >= then.createtxg]
    # (a snapshot listed without `used` was just taken, after the listing: nothing of its own yet)
    own = [sizes.parse_value(s.props.get("used", "")) or 0 for s in after]
    return logical(dataset.props, max(0, now - before) + sum(own))
