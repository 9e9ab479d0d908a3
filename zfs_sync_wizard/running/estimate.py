"""How big a stream will be, asked of the source: `zfs send -nvP` where its
zfs can estimate, or written@base for a snapshot a dry run has not taken."""

from __future__ import annotations

from collections.abc import Sequence

from ..commands import zfs
from ..planning import sizes
from .context import RunState


def estimate(s: RunState, send: Sequence[str]) -> int | None:
    """Bytes the send will produce, from `zfs send -nvP` where the source has it."""
    if not s.src_caps.estimate:
        return None
    result = s.ex.run(s.src, zfs.estimate(send), changes=False, check=False)
    return sizes.parse_estimate(result.stdout + result.stderr) if result.status == 0 else None


def written_since(s: RunState, dataset: str, base: str | None) -> int | None:
    """Bytes written since `base` (or referenced, for a full send): a stream's approximate size."""
    result = s.ex.run(s.src, zfs.written(dataset, base), changes=False, check=False)
    return sizes.parse_value(result.stdout) if result.status == 0 else None
