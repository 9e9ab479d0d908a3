"""The destination dataset: a suggestion, and what is already there.

Matching is by snapshot GUID, as the runner plans: a destination holding
snapshots of this source is a setup being resumed (the next run continues
incrementally); one holding only other snapshots, or none, is unrelated
data the runner will refuse to overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..commands import zfs
from ..errors import CommandFailed
from ..jobs import names
from ..jobs.endpoint import Endpoint
from ..planning import inventory
from ..running.execute import Executor

ABSENT, RESUMED, UNRELATED, EMPTY = "absent", "resumed", "unrelated", "empty"


@dataclass(frozen=True)
class TargetState:
    kind: str
    snapshots: int = 0
    common: tuple[str, ...] = ()  # destination snapshots that are also on the source (by GUID)

    @property
    def latest_common(self) -> str | None:
        return self.common[-1] if self.common else None


def suggest(source: str, pools: list[str], same_host: bool) -> str:
    """`<destination pool>/<source path>`, e.g. backup/tank/media."""
    src_pool = source.split("/", 1)[0]
    others = [p for p in pools if not (same_host and p == src_pool)]
    if others:
        return f"{others[0]}/{source}"
    rest = source.split("/", 1)[1] if "/" in source else "copy"
    return f"{src_pool}/backup/{rest}"


def compare(source: list[inventory.Snapshot], target: inventory.Dataset | None) -> TargetState:
    """What the destination dataset holds relative to the source (pure)."""
    if target is None:
        return TargetState(ABSENT)
    if not target.snapshots:
        return TargetState(EMPTY)
    source_guids = {s.guid for s in source}
    common = tuple(s.name for s in target.snapshots if s.guid in source_guids)
    kind = RESUMED if common else UNRELATED
    return TargetState(kind, len(target.snapshots), common)


def snapshots_of(ex: Executor, endpoint: Endpoint, dataset: str) -> inventory.Dataset | None:
    """The dataset with its own snapshots, None when it does not exist."""
    result = ex.run(endpoint, zfs.listing(dataset, False), changes=False, check=False)
    if result.status != 0:
        if "does not exist" in result.stderr:
            return None
        raise CommandFailed(
            endpoint.label, " ".join(zfs.listing(dataset, False)), result.status, result.stderr
        )
    return inventory.parse(result.stdout).get(dataset)


OK, WARN, REFUSE = "ok", "warn", "refuse"


def describe(state: TargetState, label: str) -> tuple[str, str]:
    """(OK, WARN or REFUSE, sentence) for the person."""
    if state.kind == ABSENT:
        return OK, f"{label} does not exist yet: the first run creates it with a full send"
    if state.kind == RESUMED:
        return OK, (
            f"{label} already holds {len(state.common)} snapshot(s) of this source (newest common: "
            f"@{state.latest_common}): a resumed setup, the next run continues incrementally"
        )
    if state.kind == EMPTY:
        return WARN, (
            f"{label} exists and has no snapshots: the first run receives into it only if it holds "
            "no files and no child datasets, and refuses otherwise"
        )
    return REFUSE, (
        f"{label} exists and holds {state.snapshots} snapshot(s), none of them from this source: "
        "unrelated data, which runs will refuse to overwrite. Choose another dataset."
    )


def check_name(answer: str, source: str, same_host: bool) -> str:
    """A valid dataset name that does not overlap the source on the same host."""
    name = names.dataset(answer)
    if same_host and (names.is_inside(name, source) or names.is_inside(source, name)):
        raise ValueError(
            f"{name!r} is the source {source!r} or overlaps it on the same host; choose another pool"
        )
    return name
