"""Replication planning: two snapshot lists and a policy give a plan (pure).

The result is one of: nothing to do, a list of sends (full and/or
incremental, maybe after an explicitly allowed rollback), or a typed
conflict that says what both sides hold and which explicit option resolves
it.  Snapshots are matched by GUID, never by name.  A replication snapshot
the run will take before sending is passed in by name (`planned`): it is
planned as the newest source snapshot, its GUID unknown until it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Optional, Union

from . import inventory, naming
from .inventory import Inventory, Snapshot

RELEASE_HINT = "zfs release {tag} {snapshot}"
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
    target_guid: int | None = None  # None while the snapshot is planned, not taken yet

    @property
    def kind(self) -> str:
        return "full" if self.base is None else "incremental"

    @property
    def planned(self) -> bool:
        return self.target_guid is None


@dataclass(frozen=True)
class Rollback:
    to: str  # destination snapshot name
    destroys: tuple[str, ...]  # destination snapshots that are newer and will be lost
    txg: int = 0  # createtxg of `to` on the destination: bookmarks after it go too


@dataclass(frozen=True)
class Transfer:
    sends: tuple[Send, ...]
    rollback: Rollback | None = None
    discards_changes: bool = False  # the destination was modified; zfs receive -F discards that (allowed)

    def taken(self, name: str, guid: int) -> Transfer:
        """This plan once its planned snapshot `name` exists with `guid`."""
        sends = tuple(
            replace(s, target_guid=guid) if s.planned and s.target == name else s for s in self.sends
        )
        return replace(self, sends=sends)


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


class DestinationMissing(Conflict):
    """The destination is gone although this job replicated there (renamed, destroyed)."""


Plan = Union[Transfer, UpToDate, Conflict]
Carried = Optional[Callable[[str], bool]]  # which source snapshots a job sends (None: all)


def plan(
    source: Sequence[Snapshot],
    destination: Sequence[Snapshot] | None,
    policy: Policy,
    destination_modified: bool = False,
    destination_empty: bool = False,
    planned: str | None = None,
    carried: Carried = None,
) -> Plan:
    """Plan one dataset.

    `destination` is None when the destination dataset does not exist.
    `planned` names a snapshot the run takes before sending: the newest.
    `destination_modified` is True when the destination has been written to
    since its newest snapshot (OpenZFS `written` > 0; unknown on zfs-fuse).
    `carried` selects the snapshots sent (snapshots.source: existing): the
    others are stepped over with `-i`; any snapshot both sides share still
    serves as the base.
    `destination_empty` is True when an existing destination without
    snapshots holds no data and no children, so receiving over it loses nothing.
    """
    eligible = [s for s in source if carried(s.name)] if carried else list(source)
    if not eligible and not planned:
        return NoSourceSnapshots(
            "the source has no snapshots to send; enable 'snapshots: take: true' or create one"
            if not carried
            else "no source snapshot matches the job's snapshots.include and snapshots.exclude",
            _names(source),
            _names(destination or ()),
        )
    newest = _Newest(planned, None) if planned else _Newest(eligible[-1].name, eligible[-1].guid)
    if destination is None:
        return Transfer(_initial(source, eligible, newest, policy, carried))
    if not destination and destination_empty:
        first, *rest = _initial(source, eligible, newest, policy, carried)
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
    if common.guid == newest.guid or not planned and eligible[-1].createtxg <= common.createtxg:
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
        rollback = Rollback(dst_common.name, extra, dst_common.createtxg)
    elif destination_modified and not policy.rollback:
        return TargetModified(
            f"the destination has been modified since its newest snapshot @{dst_common.name}; "
            "those changes would be lost. To discard them, " + ROLLBACK_HINT,
            _names(source),
            _names(destination),
        )
    force = rollback is not None or destination_modified
    first, *rest = _chain(source, common, newest, policy, carried)
    return Transfer((replace(first, force=force), *rest), rollback, discards_changes=destination_modified)


@dataclass(frozen=True)
class _Newest:
    """What the sends end at: the newest source snapshot, or the planned one (GUID None)."""

    name: str
    guid: int | None


def _initial(
    source: Sequence[Snapshot],
    eligible: Sequence[Snapshot],
    newest: _Newest,
    policy: Policy,
    carried: Carried,
) -> tuple[Send, ...]:
    """The first sends to a new destination: a full one, then the rest incrementally."""
    oldest = eligible[0] if eligible else None
    if policy.initial == "newest" or oldest is None or oldest.name == newest.name:
        return (Send(newest.name, target_guid=newest.guid),)
    return (Send(oldest.name, target_guid=oldest.guid), *_chain(source, oldest, newest, policy, carried))


def _chain(
    source: Sequence[Snapshot], base: Snapshot, newest: _Newest, policy: Policy, carried: Carried
) -> list[Send]:
    """Incremental steps from `base` to `newest`: one `-I` where every snapshot in between is
    carried; where some are not, `-i` over them to the next carried one, then `-I` again."""
    intermediate = policy.incremental == "intermediate"
    if not carried or not intermediate:
        return [Send(newest.name, base.name, intermediate, False, newest.guid)]
    after = [s for s in source if s.createtxg > base.createtxg]
    steps: list[Send] = []
    previous, gap = base.name, False
    for snap in after:
        if not carried(snap.name):
            gap = True
            continue
        steps = _step(steps, previous, snap.name, snap.guid, gap)
        previous, gap = snap.name, False
        if snap.guid == newest.guid:
            return steps
    return _step(steps, previous, newest.name, newest.guid, gap)  # the planned snapshot, after all


def _step(steps: list[Send], base: str, target: str, guid: int | None, gap: bool) -> list[Send]:
    """`steps` carried on to `target`: the last `-I` extended, or a new step (`-i` over a gap)."""
    if not gap and steps and steps[-1].intermediate:
        return [*steps[:-1], replace(steps[-1], target=target, target_guid=guid)]
    return [*steps, Send(target, base, not gap, False, guid)]


def _names(snaps: Sequence[Snapshot]) -> tuple[str, ...]:
    return tuple(s.name for s in snaps)


@dataclass(frozen=True)
class Pair:
    """One source dataset, where it goes, and its plan."""

    source: str
    destination: str
    plan: Plan


def plan_datasets(
    src_inv: Inventory,
    dst_inv: Inventory,
    src_root: str,
    dst_root: str,
    policy: Policy,
    empties: frozenset[str] = frozenset(),
    planned: str | None = None,
    hold: tuple[str, str] | None = None,
    carried: Carried = None,
) -> list[Pair]:
    """Plan `src_root` and every dataset listed below it, parents first.

    `empties` are destination datasets without snapshots that hold nothing
    (looked inside by the caller), so receiving over them loses nothing.
    A destination written to since its newest snapshot is read off its own
    listing (inventory.modified).  `hold` is the job's (snapshot stem, hold
    tag): a destination that does not exist while the source still holds one
    of the job's snapshots (its base) was renamed or destroyed, and is
    refused, never silently seeded anew beside the old copy.
    """
    pairs = []
    for name in inventory.children(src_inv, src_root):
        target = inventory.relocate(name, src_root, dst_root)
        dst = dst_inv.get(target)
        snaps = dst.snapshots if dst else None
        base = _held_base(src_inv[name], hold) if dst is None and hold else None
        if base:
            pairs.append(Pair(name, target, _missing(src_inv[name], base, hold[1])))
            continue
        result = plan(
            src_inv[name].snapshots,
            snaps,
            policy,
            destination_modified=dst is not None and inventory.modified(dst),
            destination_empty=target in empties,
            planned=planned,
            carried=carried,
        )
        pairs.append(Pair(name, target, result))
    return pairs


def _held_base(source: inventory.Dataset, hold: tuple[str, str]) -> str | None:
    """The newest of the job's snapshots that something holds (the listing's userrefs)."""
    stem = hold[0]
    held = [
        s
        for s in source.snapshots
        if naming.is_ours(stem, s.name) and s.props.get("userrefs", "0") not in ("0", "-", "")
    ]
    return held[-1].name if held else None


def _missing(source: inventory.Dataset, base: str, tag: str) -> DestinationMissing:
    return DestinationMissing(
        f"the destination does not exist, yet this job replicated {source.name} there before (its base "
        f"@{base} is still held on the source): it was renamed or destroyed. If it was renamed or moved, "
        "point the job's destination.dataset at it; to start over with a full copy, release the hold "
        "on the source and run again: " + RELEASE_HINT.format(tag=tag, snapshot=f"{source.name}@{base}"),
        _names(source.snapshots),
        (),
    )


def transfers(pairs: Sequence[Pair]) -> list[Pair]:
    """The pairs that send something."""
    return [p for p in pairs if isinstance(p.plan, Transfer) and p.plan.sends]


def predicted(
    src_inv: Inventory, dst_inv: Inventory, pairs: Sequence[Pair], planned: str | None, now: int
) -> tuple[Inventory, Inventory]:
    """Both sides as a dry run expects them after the sends (for the prune it would do).

    The planned snapshot appears on the source and, where it is sent, on the
    destination, with GUID None on both: it is the same snapshot.
    """
    src_after, dst_after = inventory.copy(src_inv), inventory.copy(dst_inv)
    sent = transfers(pairs)
    if planned and sent:  # taken recursively, so on every dataset of the job
        for pair in pairs:
            inventory.append(src_after, pair.source, planned, None, now)
    for pair in sent:
        for snap in arriving(src_after[pair.source].snapshots, pair.plan.sends):
            inventory.append(dst_after, pair.destination, snap.name, snap.guid, snap.creation or now)
    return src_after, dst_after


def arriving(source: Sequence[Snapshot], sends: Sequence[Send]) -> list[Snapshot]:
    """The source snapshots these sends create on the destination, oldest first
    (`-I` brings every snapshot after its base, `-i` and full ones just the target)."""
    order = {s.name: i for i, s in enumerate(source)}
    out: list[Snapshot] = []
    for step in sends:
        if step.intermediate and step.base in order and step.target in order:
            out += source[order[step.base] + 1 : order[step.target] + 1]
        elif step.target in order:
            out.append(source[order[step.target]])
    return out
