"""After the sends: every snapshot sent must be on the destination with the
source's GUID (zfs-fuse can exit 0 on a receive that did nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import VerificationFailed
from ..planning import plan
from ..planning.inventory import Inventory
from ..planning.plan import Pair
from .context import RunState, Sent


def verify(s: RunState, pairs: Sequence[Pair], after: Inventory) -> list[Pair]:
    """Pairs whose every sent snapshot is on the destination (errors recorded for the rest)."""
    arrived = []
    for pair in plan.transfers(pairs):
        sent = {e.snapshot for e in s.outcome.sent if _carried(e, pair.source)}
        have = after.get(pair.destination)
        guids = {snap.guid for snap in have.snapshots} if have else set()
        missing = [step for step in pair.plan.sends if step.target in sent and step.target_guid not in guids]
        for step in missing:
            s.outcome.errors.append(
                str(
                    VerificationFailed(
                        f"{pair.source}@{step.target} (guid {step.target_guid}) is not on the destination "
                        f"{pair.destination} although zfs receive reported success"
                    )
                )
            )
        if pair.plan.sends[-1].target in sent and not missing:
            arrived.append(pair)
    return arrived


def _carried(sent: Sent, dataset: str) -> bool:
    """Whether the stream carried `dataset`: its own, or a tree stream of an ancestor."""
    return sent.dataset == dataset or sent.datasets > 1 and dataset.startswith(sent.dataset + "/")
