"""A whole tree in one stream: `zfs send -R` where every dataset shares one plan (pure).

A recursive job's `zfs snapshot -r` gives every dataset the same snapshot, so
the usual plan is the same for all of them: the same first full send, or the
same `-I base target`.  Then one `zfs send -R` carries the tree in one stream
into one `zfs receive`, as the bare pipeline does, and a hundred datasets
cost about what one does.  What it trades, decided here:

- Resuming per dataset: OpenZFS keeps a resume token only for the dataset
  whose part of the stream was in flight.  So a tree stream that fails is not
  retried as a whole: the run lists both sides again, finishes that partial
  receive and goes on dataset by dataset (running/tree.py).
- Properties: `-R` carries what the source sets on each dataset.  Placement
  properties (PLACEMENT) must not land on the destination: where the source
  sets one, `zfs receive -x` keeps it off; where receive has no -x (zfs-fuse),
  the tree goes dataset by dataset.  Other properties (compression,
  recordsize, user properties) travel, as with `zfs send -R`; the
  destination's own settings still win over them.
- Never -F: a plan that needs `zfs receive -F` (a rollback, a modified or
  empty destination) goes dataset by dataset, and the tree stream is received
  without it, so ZFS destroys nothing on the destination that the source no
  longer has.

Anything else goes dataset by dataset; the reason returned says why (the log).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import inventory
from .inventory import Inventory
from .plan import Pair, Send, Transfer

# what a tree stream must not set on the destination (zfs receive -x where the source sets it)
PLACEMENT = ("mountpoint", "canmount", "quota", "refquota", "reservation", "refreservation")


@dataclass(frozen=True)
class Tree:
    """The tree's plan: like one dataset's, each send a `zfs send -R` of the job's dataset."""

    source: str
    destination: str
    send: Send
    datasets: int


def plan_tree(
    pairs: Sequence[Pair],
    src_inv: Inventory,
    src_root: str,
    dst_root: str,
    flags: Mapping[str, tuple[str, ...]],
) -> Tree | str:
    """One `-R` stream for the whole tree, or why not.

    `pairs` are the datasets planned this run (parents first), `src_inv` the
    source's listing of every dataset the tree stream would carry, `flags` each
    dataset's `zfs send` flags.
    """
    if len(pairs) < 2:
        return "one dataset"
    tree = inventory.children(src_inv, src_root)
    if [p.source for p in pairs] != tree:
        return "not every dataset of the tree is planned this run"
    first = pairs[0].plan
    for pair in pairs:
        todo = pair.plan
        if not isinstance(todo, Transfer) or not todo.sends:
            return f"{pair.source}: {type(todo).__name__}"
        if todo.rollback or todo.discards_changes or any(s.force for s in todo.sends):
            return f"{pair.source}: needs zfs receive -F"
        if _shape(todo.sends) != _shape(first.sends):
            return f"{pair.source} is planned otherwise than {src_root}"
        if flags.get(pair.source) != flags.get(src_root):
            return f"{pair.source} is sent with other flags than {src_root}"
    send = _one_send(first.sends)
    if send is None:
        return "the plan has several steps"
    if send.kind == "full":
        older = [p.source for p in pairs if not _starts_at(src_inv[p.source], first.sends[0].target)]
        if older:  # `send -R` of a full stream carries every older snapshot too
            return f"{older[0]} has snapshots older than the first one planned (transfer.initial: newest)"
    return Tree(src_root, dst_root, send, len(pairs))


def _shape(sends: Sequence[Send]) -> tuple:
    return tuple((s.target, s.base, s.intermediate) for s in sends)


def _one_send(sends: Sequence[Send]) -> Send | None:
    """The plan as one `-R` send: a full send of the oldest snapshot followed by `-I` to the newest
    is one full `-R` stream of the newest (it carries every snapshot up to it)."""
    if len(sends) == 1:
        return Send(sends[0].target, sends[0].base, sends[0].intermediate)
    first, then = sends
    if len(sends) == 2 and first.kind == "full" and then.base == first.target and then.intermediate:
        return Send(then.target)
    return None


def _starts_at(dataset: inventory.Dataset, name: str) -> bool:
    """Whether `name` is the dataset's oldest snapshot (or, not yet taken, its only one)."""
    return not dataset.snapshots or dataset.snapshots[0].name == name


def local_placement(listing: str) -> dict[str, list[str]]:
    """{dataset: [property, ...]} from `zfs get -H -r -s local -o name,property PLACEMENT`."""
    found: dict[str, list[str]] = {}
    for line in listing.splitlines():
        name, _, prop = line.partition("\t")
        if prop.strip() in PLACEMENT and "@" not in name:
            found.setdefault(name, []).append(prop.strip())
    return found


def receive_excludes(
    found: Mapping[str, list[str]], can_exclude: bool, options: Sequence[str]
) -> list[str] | str:
    """The `-x PROPERTY` a tree stream's receive adds for what the source sets, or why it cannot."""
    props = sorted({p for names in found.values() for p in names})
    if props and not can_exclude:
        name = next(iter(found))
        return f"{name} sets {', '.join(found[name])}, and this zfs receive has no -x to keep it off"
    named = {o.split("=")[0] for o in options if not o.startswith("-")}  # already -o or -x
    return [arg for p in props if p not in named for arg in ("-x", p)]
