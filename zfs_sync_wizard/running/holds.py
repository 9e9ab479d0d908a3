"""Holds on the incremental base: the newest common snapshot is held on both
sides (`zfs hold zsw_<job>`), so neither retention nor a hand can destroy
the next incremental's base ("dataset is busy", or OpenZFS 2.3's "it's
being held"); the hold on the previous base is released."""

from __future__ import annotations

from collections.abc import Sequence

from ..commands import zfs
from ..jobs.endpoint import Endpoint
from ..planning.plan import Pair
from .context import RunState


def move(s: RunState, arrived: Sequence[Pair]) -> None:
    """Hold each dataset's new common snapshot on both sides; release the old base."""
    if not s.job.hold:
        return
    for pair in arrived:
        new, base = pair.plan.sends[-1].target, pair.plan.sends[0].base
        for endpoint, dataset in ((s.src, pair.source), (s.dst, pair.destination)):
            _hold(s, endpoint, dataset, new)
            if base and base != new:
                release(s, endpoint, dataset, base)
        s.outcome.held.append(f"{pair.source}@{new}")


def release(s: RunState, endpoint: Endpoint, dataset: str, name: str) -> None:
    """Release the job's hold (a snapshot it does not hold is no error)."""
    s.ex.run(endpoint, zfs.release(s.job.hold_tag, dataset, name), changes=True, check=False)


def _hold(s: RunState, endpoint: Endpoint, dataset: str, name: str) -> None:
    result = s.ex.run(endpoint, zfs.hold(s.job.hold_tag, dataset, name), changes=True, check=False)
    if result is not None and result.status != 0 and "already exists" not in result.stderr:
        s.outcome.warnings.append(
            f"could not hold {dataset}@{name} on {endpoint.label}: {result.stderr.strip()}"
        )
