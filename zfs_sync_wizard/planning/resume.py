"""Resume tokens: what a partial receive left, and whether to resume it (pure).

A `receive_resume_token` on the destination is checked the way
zfs_autobackup does, with `zfs send -nvP -t TOKEN` on the source: resumed
when the source can still send it and it leads to the snapshot (same name
and GUID) that the source still has; otherwise the partial state is
aborted (`zfs receive -A`) and the dataset planned afresh; only zfs's own
answer counts, never a connection that failed while asking (running/partials.py
tells them apart by a mark the shell prints after zfs has answered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import sizes
from .inventory import Dataset

_TONAME = re.compile(r"^\s*toname\s*=\s*(\S+)\s*$", re.M)
_TOGUID = re.compile(r"^\s*toguid\s*=\s*(0x[0-9a-fA-F]+|\d+)\s*$", re.M)


@dataclass(frozen=True)
class TokenInfo:
    toname: str  # dataset@snapshot the token's stream ends at
    toguid: int
    size: int | None  # bytes still to send, when zfs estimated it


def parse_token_info(text: str) -> TokenInfo | None:
    name, guid = _TONAME.search(text), _TOGUID.search(text)
    if not name or not guid:
        return None
    return TokenInfo(name.group(1), int(guid.group(1), 0), sizes.parse_estimate(text))


def decide(info: TokenInfo | None, source: Dataset | None, send_error: str = "") -> str | None:
    """None to resume, else the reason to abort the partial receive."""
    if send_error:
        return f"the source cannot resume it ({send_error.strip().splitlines()[-1]})"
    if info is None:
        return "zfs send -t could not describe the token"
    dataset, _, snap = info.toname.partition("@")
    if source is None or dataset != source.name:
        return (
            f"the token is for {info.toname}, not for a snapshot of {source.name if source else 'the source'}"
        )
    have = source.snapshot(snap)
    if have is None:
        return f"its snapshot {info.toname} no longer exists on the source"
    if have.guid != info.toguid:
        return f"its snapshot {info.toname} was replaced on the source (GUID differs)"
    return None
