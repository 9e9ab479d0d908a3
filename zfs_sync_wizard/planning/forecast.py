"""How many replication snapshots stay on a side after many runs (pure).

The runner's pruning (retention.py) keeps the `keep` newest, the newest
common one, and the newest of each of the last N hours, days, weeks and
months that have one.  A snapshot kept that way at the end was kept at every
run before (it was the newest of its period from the run after it was
taken), so applying the rule once to every snapshot ever taken gives exactly
what stays: no run-by-run simulation is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .inventory import Snapshot
from .retention import kept_by_period


def kept_after(times: Sequence[int], keep: int, counts: Mapping[str, int]) -> int:
    """Replication snapshots left on one side after runs at `times` (epoch seconds, oldest first),
    every run replicated."""
    snaps = [Snapshot(f"s{i}", i + 1, i + 1, int(t)) for i, t in enumerate(times)]
    if not snaps:
        return 0
    kept = {s.guid for s in snaps[max(0, len(snaps) - keep) :]} if keep else set()
    kept |= kept_by_period(snaps, counts)
    kept.add(snaps[-1].guid)  # the newest common one: the next incremental's base
    return len(kept)
