"""Replication planning: two snapshot lists and a policy give a plan (pure).

The result is one of: nothing to do, a list of sends (full and/or
incremental, maybe after an explicitly allowed rollback), or a typed
conflict that says what both sides hold and which explicit option resolves
it.  Snapshots are matched by GUID, never by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Union

from .inventory import Snapshot

ROLLBACK_HINT = "set 'destination: rollback: true' in the job or run once with --rollback"


@dataclass(frozen=True)
class Policy:
    incremental: str = "intermediate"  # "-I" carries intermediate snapshots; "direct" is "-i"
    initial: str = "oldest"  # full send of the oldest snapshot (then -I), or only the newest
    rollback: bool = False  # may roll the destination back to the common snapshot


@dataclass(frozen=True)
class Send:
    target: str  # snapshot to send (name after "@")
    base: str | None = None  # incremental base, None for a full send
    intermediate: bool = True  # -I rather than -i
    force: bool = False  # receive -F (after an allowed rollback)
    target_guid: int = 0  # 0 when the snapshot is not taken yet (dry run)

    @property
    def kind(self) -> str:
        return "full" if self.base is None else "incremental"


@dataclass(frozen=True)
class Rollback:
    to: str  # destination snapshot name
    destroys: tuple[str, ...]  # destination snapshots that are newer and will be lost


@dataclass(frozen=True)
class Transfer:
    sends: tuple[Send, ...]
    rollback: Rollback | None = None


@dataclass(frozen=True)
class UpToDate:
    common: str


@dataclass(frozen=True)
class Conflict:
    """Planning stopped for this dataset; `message` explains and offers the way out."""

    message: str
    source: tuple[str, ...] = field(default=())
    destination: tuple[str, ...] = field(default=())

    @property
    def kind(self) -> str:
        return type(self).__name__


class NoSourceSnapshots(Conflict):
    pass


class NoCommonSnapshot(Conflict):
    pass


class Diverged(Conflict):
    pass


class TargetModified(Conflict):
    pass


Plan = Union[Transfer, UpToDate, Conflict]


def plan(
    source: Sequence[Snapshot],
    destination: Sequence[Snapshot] | None,
    policy: Policy,
    destination_modified: bool = False,
    destination_empty: bool = False,
) -> Plan:
    """Plan one dataset.

    `destination` is None when the destination dataset does not exist.
    `destination_modified` is True when the destination has been written to
    since its newest snapshot (OpenZFS `written` > 0; unknown on zfs-fuse).
    `destination_empty` is True when an existing destination without
    snapshots holds no data and no children, so receiving over it loses nothing.
    """
    if not source:
        return NoSourceSnapshots(
            "the source has no snapshots to send; enable 'snapshots: take: true' or create one",
            (),
            _names(destination or ()),
        )
    newest = source[-1]
    if destination is None:
        return Transfer(_initial(source, policy))
    if not destination and destination_empty:
        first, *rest = _initial(source, policy)
        return Transfer((replace(first, force=True), *rest))
    if not destination:
        return NoCommonSnapshot(
            "the destination dataset exists but holds no snapshot: a full receive would overwrite it. "
            "Use a destination dataset that does not exist yet (it will be created), "
            "or destroy the empty destination yourself",
            _names(source),
            (),
        )
    in_destination = {s.guid for s in destination}
    common = next((s for s in reversed(source) if s.guid in in_destination), None)
    if common is None:
        return NoCommonSnapshot(
            "source and destination have no snapshot in common, so no incremental is possible and "
            "nothing will be overwritten. Replicate into a new destination dataset, or, if the "
            "destination's data is not needed, destroy it yourself and run again",
            _names(source),
            _names(destination),
        )
    if common.guid == newest.guid:
        return UpToDate(common.name)  # nothing to send, so nothing to roll back either
    dst_common = next(s for s in destination if s.guid == common.guid)
    extra = tuple(s.name for s in destination if s.createtxg > dst_common.createtxg)
    rollback = None
    if extra:
        if not policy.rollback:
            return Diverged(
                f"the destination has snapshots newer than the last common snapshot @{common.name}: "
                f"{', '.join('@' + n for n in extra)}. Rolling back would destroy them; to allow it, "
                + ROLLBACK_HINT,
                _names(source),
                _names(destination),
            )
        rollback = Rollback(dst_common.name, extra)
    elif destination_modified and not policy.rollback:
        return TargetModified(
            f"the destination has been modified since its newest snapshot @{dst_common.name}; "
            "those changes would be lost. To discard them, " + ROLLBACK_HINT,
            _names(source),
            _names(destination),
        )
    force = rollback is not None or destination_modified
    step = Send(
        newest.name,
        common.name,
        policy.incremental == "intermediate",
        force,
        newest.guid,
    )
    return Transfer((step,), rollback)


def _initial(source: Sequence[Snapshot], policy: Policy) -> tuple[Send, ...]:
    newest = source[-1]
    if policy.initial == "newest" or len(source) == 1:
        return (Send(newest.name, target_guid=newest.guid),)
    oldest = source[0]
    full = Send(oldest.name, target_guid=oldest.guid)
    rest = Send(
        newest.name,
        oldest.name,
        policy.incremental == "intermediate",
        False,
        newest.guid,
    )
    return (full, rest)


def _names(snaps: Sequence[Snapshot]) -> tuple[str, ...]:
    return tuple(s.name for s in snaps)


def describe(conflict: Conflict, dataset: str, destination: str, shown: int = 5) -> str:
    """A conflict as the user reads it: both sides' newest snapshots and the way out."""

    def tail(names: Sequence[str]) -> str:
        if not names:
            return "(none)"
        more = f"... {len(names) - shown} older, " if len(names) > shown else ""
        return more + ", ".join("@" + n for n in names[-shown:])

    return (
        f"{dataset} -> {destination}: {conflict.message}\n"
        f"  source snapshots:      {tail(conflict.source)}\n"
        f"  destination snapshots: {tail(conflict.destination)}"
    )
