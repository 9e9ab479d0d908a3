"""Replication lag and monitoring thresholds (pure).

A dataset's lag is the age of the newest snapshot on the destination, read
from the destination's own listing (a received snapshot keeps the source's
`creation`), so a job whose cron line silently stopped shows a growing lag
whatever its last run record says.  Thresholds are durations such as 90m,
26h or 3d; the state follows the Nagios plugin convention.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .inventory import Inventory

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"([0-9]+)([smhdw]?)")
DURATION_RULE = "a duration such as 90m, 26h or 3d (units s, m, h, d, w; a plain number is seconds)"


def parse_duration(text: str) -> int:
    """Seconds in '90m', '26h', '3d', '1w', '45s' or '3600'; ValueError says what is allowed."""
    m = _DURATION.fullmatch(str(text).strip().lower())
    if not m:
        raise ValueError(f"{text!r} is not {DURATION_RULE}")
    return int(m.group(1)) * _UNITS[m.group(2) or "s"]


def format_duration(seconds: int) -> str:
    """'45s', '12m', '3h 12m', '2d 3h': the two largest units, for people."""
    seconds = max(0, int(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count or (unit == "s" and not parts):
            parts.append(f"{count}{unit}")
        if len(parts) == 2:
            break
    return " ".join(parts)


def newest_creation(inv: Inventory, dataset: str) -> int | None:
    """Creation time (epoch seconds) of the dataset's newest snapshot, None without one."""
    ds = inv.get(dataset)
    if ds is None or not ds.snapshots:
        return None
    return max(s.creation for s in ds.snapshots)


def lags(inv: Inventory, now: int) -> dict[str, int | None]:
    """Lag in seconds of every dataset of a destination listing (None: no snapshot at all).

    A snapshot dated in the future (clocks apart) counts as no lag.
    """
    out = {}
    for name in sorted(inv):
        newest = newest_creation(inv, name)
        out[name] = None if newest is None else max(0, now - newest)
    return out


class State(enum.IntEnum):
    """Nagios plugin exit statuses."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


# worst first: a known problem outranks not knowing, which outranks OK (monitoring-plugins' max_state_alt)
_RANK = [State.OK, State.UNKNOWN, State.WARNING, State.CRITICAL]


def worst(states: Iterable[State]) -> State:
    return max(states, key=_RANK.index, default=State.OK)


@dataclass(frozen=True)
class Thresholds:
    warn: int  # seconds
    crit: int

    @classmethod
    def parse(cls, warn: str, crit: str) -> Thresholds:
        """From the command line's words; ValueError names the option at fault."""
        try:
            w = parse_duration(warn)
        except ValueError as exc:
            raise ValueError(f"--warn: {exc}") from None
        try:
            c = parse_duration(crit)
        except ValueError as exc:
            raise ValueError(f"--crit: {exc}") from None
        if w > c:
            raise ValueError(f"--warn ({warn}) is longer than --crit ({crit}); warn must come first")
        return cls(w, c)


def state(lag: int | None, limits: Thresholds) -> State:
    """A dataset's state: past crit (or never replicated) CRITICAL, past warn WARNING."""
    if lag is None or lag > limits.crit:
        return State.CRITICAL
    if lag > limits.warn:
        return State.WARNING
    return State.OK


def perfdata(label: str, lag: int, limits: Thresholds) -> str:
    """One Nagios performance datum: `lag=NNNs;WARN;CRIT;0`."""
    return f"{label}={lag}s;{limits.warn};{limits.crit};0"
