"""`--verify`: do both sides hold the same snapshots, by GUID? (pure)

For each dataset pair of a job, the snapshots the job replicated are judged:
those of its snapshot source (its own replication snapshots, `<stem><time>`,
and every source snapshot when `zfs send -I` carries them all) from the
oldest to the newest snapshot both sides share.  Within that range:

- the same name with a different GUID is always a failure (a different
  source, or a snapshot taken on the destination under the same name);
- a snapshot missing on the destination is a failure, unless it is one of
  the job's own that the destination's retention would prune anyway;
- a snapshot only on the destination that is newer than the newest common
  one is a failure (the destination diverged); an older one was pruned on
  the source (retention may differ per side) and is only a note.

Snapshots newer than the newest common one are not replicated yet (a note).
In a recursive job, a child's snapshot named like one the parent holds on
both sides (a recursive snapshot) was due too, so a child that missed a run
is a failure rather than merely behind.  Snapshots older than the oldest
common one are not judged: the job may have started after them
(`initial: newest`) or the destination pruned them on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from . import inventory, naming, retention
from .inventory import Inventory, Snapshot

SHOWN = 8  # names listed per finding before "and N more"


@dataclass(frozen=True)
class Rules:
    """What the job replicates, as far as judging the destination goes."""

    stem: str  # the job's replication snapshot names start with this
    every_snapshot: bool  # `zfs send -I` carries every source snapshot (incremental: intermediate)
    keep: int = 0
    retention: Mapping[str, int] | None = None  # the destination side's counts; None: nothing is pruned
    now: datetime | None = None  # when retention's calendar windows end (None: only `keep` keeps)


@dataclass
class Report:
    """One dataset pair: failures (missing, mismatched, extra, problem) and notes."""

    source: str | None  # None: a destination dataset the source no longer has
    destination: str
    common: str | None = None  # newest snapshot both sides share (by GUID)
    matched: int = 0  # snapshots judged and found on both sides
    missing: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, int, int]] = field(
        default_factory=list
    )  # (name, source guid, destination guid)
    extra: list[str] = field(default_factory=list)  # newer than `common`, only on the destination
    problem: str | None = None
    pruned: list[str] = field(default_factory=list)  # the job's own, pruned by the destination's retention
    only_destination: list[str] = field(default_factory=list)  # older than `common`, pruned on the source
    pending: list[str] = field(default_factory=list)  # newer than `common`, not sent yet

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mismatched or self.extra or self.problem)


def compare_job(
    src_inv: Inventory, dst_inv: Inventory, src_root: str, dst_root: str, rules: Rules
) -> list[Report]:
    """A report per dataset of the job, parents first, then destination datasets without a source."""
    reports = []
    due: frozenset[str] = frozenset()
    for name in inventory.children(src_inv, src_root):
        target = inventory.relocate(name, src_root, dst_root)
        dst = dst_inv.get(target)
        report = compare(
            src_inv[name].snapshots,
            dst.snapshots if dst else None,
            rules,
            due,
            required=name == src_root,
        )
        report.source, report.destination = name, target
        if name == src_root:
            guids = {s.guid for s in (dst.snapshots if dst else ())}
            due = frozenset(s.name for s in src_inv[name].snapshots if s.guid in guids)
        reports.append(report)
    sent = {r.destination for r in reports}
    for target in inventory.children(dst_inv, dst_root):
        if target not in sent:
            reports.append(Report(None, target))
    return reports


def compare(
    source: Sequence[Snapshot],
    destination: Sequence[Snapshot] | None,
    rules: Rules,
    due: frozenset[str] = frozenset(),
    required: bool = True,
) -> Report:
    """Judge one pair; `destination` is None when the destination dataset does not exist.

    `due` names snapshots that should be here even past this pair's own
    newest common one (the parent's, in a recursive job); `required` says a
    missing destination is a failure (the job's root) rather than a dataset
    created since the last run.
    """
    report = Report("", "")
    dst = list(destination or ())
    dst_guids = {s.guid for s in dst}
    src_guids = {s.guid for s in source}
    dst_names = {s.name: s for s in dst}
    report.mismatched = [
        (s.name, s.guid, dst_names[s.name].guid)
        for s in source
        if s.name in dst_names and dst_names[s.name].guid != s.guid
    ]
    differ = {m[0] for m in report.mismatched}
    common = [i for i, s in enumerate(source) if s.guid in dst_guids]
    wanted = [i for i, s in enumerate(source) if s.name in due and s.name not in differ]
    start = min(common[:1] + wanted[:1], default=None)
    end = max(common[-1:] + wanted[-1:], default=None)
    if common:
        report.common = source[common[-1]].name
    judged = source[start : end + 1] if start is not None else []
    counted = [s for s in judged if rules.every_snapshot or naming.is_ours(rules.stem, s.name)]
    absent = [s for s in counted if s.guid not in dst_guids and s.name not in differ]
    report.matched = len(counted) - len(absent) - len([s for s in counted if s.name in differ])
    pruned = _pruned(rules, source, dst, absent) if common else set()
    report.pruned = [s.name for s in absent if s.name in pruned]
    report.missing = [s.name for s in absent if s.name not in pruned]
    after = source[end + 1 :] if end is not None else source
    report.pending = [s.name for s in after if s.guid not in dst_guids and s.name not in differ]
    dst_common = next((s for s in dst if common and s.guid == source[common[-1]].guid), None)
    for s in dst:
        if s.guid in src_guids or s.name in differ:
            continue
        newer = dst_common is None or s.createtxg > dst_common.createtxg
        (report.extra if newer and common else report.only_destination).append(s.name)
    report.problem = _problem(destination, bool(common), required, bool(due & {s.name for s in source}))
    return report


def _problem(destination: Sequence[Snapshot] | None, common: bool, required: bool, due: bool) -> str | None:
    if destination is None:
        return "the destination dataset does not exist" if required or due else None
    if destination and not common:
        return "no snapshot in common with the source (by GUID): the destination holds other data"
    if not destination and (required or due):
        return "the destination dataset holds no snapshot"
    return None


def _pruned(
    rules: Rules, source: Sequence[Snapshot], dst: list[Snapshot], absent: list[Snapshot]
) -> set[str]:
    """Which of the job's own `absent` snapshots the destination's retention would prune, were they there."""
    ours = [s for s in absent if naming.is_ours(rules.stem, s.name)]
    if not ours or rules.retention is None:
        return set()
    # the destination as it would be, in creation order: txgs of the two sides are not comparable,
    # so they are numbered afresh (retention orders a side by createtxg)
    had = [
        replace(s, createtxg=i) for i, s in enumerate(sorted(dst + ours, key=lambda s: (s.creation, s.name)))
    ]
    source = [
        replace(s, createtxg=next((h.createtxg for h in had if h.guid == s.guid), s.createtxg))
        for s in source
    ]
    _, dst_prunes = retention.prunable(
        rules.stem, source, had, rules.keep, {"destination": rules.retention}, now=rules.now
    )
    return set(dst_prunes) & {s.name for s in ours}


def newest_shared(source: Sequence[Snapshot], destination: Sequence[Snapshot] | None) -> str | None:
    """The newest source snapshot whose name the destination has (`--deep` reads its content)."""
    names = {s.name for s in destination or ()}
    return next((s.name for s in reversed(source) if s.name in names), None)


def lines(job: str, reports: Sequence[Report]) -> list[str]:
    """The report as people read it: one line per dataset, then its findings and notes."""
    out = []
    for r in reports:
        head = f"{job}: {r.source} -> {r.destination}" if r.source else f"{job}: {r.destination}"
        if r.source is None:
            out.append(f"{head}: only on the destination (the source no longer has it); not compared")
            continue
        if r.ok:
            upto = f" up to @{r.common}" if r.common else ""
            out.append(f"{head}: equal ({r.matched} snapshot{'s' * (r.matched != 1)} by GUID{upto})")
        else:
            out.append(f"{head}: DIFFERENT")
        if r.problem:
            out.append(f"  {r.problem}")
        if r.mismatched:
            shown = [f"@{n} (source guid {a}, destination guid {b})" for n, a, b in r.mismatched]
            out.append("  same name, different GUID: " + _names(shown, quote=False))
        if r.missing:
            out.append("  missing on the destination: " + _names(r.missing))
        if r.extra:
            out.append(f"  only on the destination, newer than @{r.common}: " + _names(r.extra))
        if r.pruned:
            out.append("  note: pruned on the destination by the job's retention: " + _names(r.pruned))
        if r.only_destination:
            out.append(
                "  note: only on the destination (pruned on the source): " + _names(r.only_destination)
            )
        if r.pending:
            out.append("  note: not replicated yet: " + _names(r.pending))
    return out


def _names(names: Sequence[str], quote: bool = True) -> str:
    shown = [("@" + n if quote else n) for n in names[:SHOWN]]
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(shown) + more
