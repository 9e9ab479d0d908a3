"""Which transfer waits for which when datasets are sent at once (pure).

A dataset received in full creates its destination, and `zfs receive`
cannot create a dataset whose parent does not exist: so a first send
waits for its nearest ancestor among the job's datasets when that one is
received in full too.  Everything else (incrementals, a child whose
parent already exists) has no order and may start at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from .plan import Pair, Transfer


def first_full(pair: Pair) -> bool:
    """The pair's plan starts with a full send: its destination is created (or received over empty)."""
    return isinstance(pair.plan, Transfer) and bool(pair.plan.sends) and pair.plan.sends[0].kind == "full"


def waits_for(pairs: Sequence[Pair]) -> dict[str, str]:
    """{destination: the destination whose transfer must have arrived before it starts}."""
    by_destination = {pair.destination: pair for pair in pairs}
    out = {}
    for pair in pairs:
        if not first_full(pair):
            continue
        parent = _nearest_ancestor(pair.destination, by_destination)
        if parent is not None and first_full(by_destination[parent]):
            out[pair.destination] = parent
    return out


def _nearest_ancestor(dataset: str, known) -> str | None:
    name = dataset
    while "/" in name:
        name = name.rpartition("/")[0]
        if name in known:
            return name
    return None
