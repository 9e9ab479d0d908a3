"""How big a stream is, as each side can tell (pure): the total of a
`zfs send -nvP` estimate, or a `written@base`/`referenced` value where the
snapshot to send does not exist yet (a dry run) or zfs cannot estimate."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^size\s+(\d+)\s*$", re.M)
_RECLAIM = re.compile(r"^reclaim\s+(\d+)\s*$", re.M)


def parse_estimate(text: str) -> int | None:
    """The total of a `zfs send -nvP` estimate."""
    found = _SIZE.findall(text)
    return int(found[-1]) if found else None


def parse_reclaim(text: str) -> int | None:
    """The space a `zfs destroy -nvp` would free (`reclaim<TAB>BYTES`)."""
    found = _RECLAIM.findall(text)
    return int(found[-1]) if found else None


def human(count: float) -> str:
    """`1.2 MiB`: imported when a size is shown, not by every command that might show one."""
    import humanize

    return humanize.naturalsize(count, binary=True)


def parse_value(text: str) -> int | None:
    """A `zfs get -Hp -o value` integer, None where zfs gave none."""
    value = text.strip()
    return int(value) if value.isdigit() else None
