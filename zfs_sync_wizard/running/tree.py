"""Sending a whole tree in one stream (`zfs send -R`), where planning/tree.py
finds that every dataset shares one plan; the run goes dataset by dataset
where it does not, or where the one stream fails."""

from __future__ import annotations

import logging

from ..commands import zfs
from ..errors import StageFailed
from ..planning import compression, sizes, tree
from ..planning.inventory import Inventory
from ..planning.plan import Pair
from .context import RunState
from .transfer import compressor, encrypted, send_flags, stream

log = logging.getLogger("zfs_sync_wizard")
NEVER = "never"  # transfer.tree_stream


def planned(s: RunState, src_inv: Inventory, pairs: list[Pair], whole: bool) -> tuple[tree.Tree, list] | None:
    """The tree stream this run sends and its receive's extra `-x` options, or None where the
    datasets go one by one (the reason is logged).  `whole`: no dataset of the tree is left out."""
    job = s.job
    if not job.recursive or job.tree_stream == NEVER:
        return None
    if not whole:
        return _apart(s, "some datasets of the tree are left out or wait for a partial receive")
    flags = {p.source: tuple(send_flags(s, src_inv[p.source])) for p in pairs}
    clear = [p.source for p in pairs if encrypted(src_inv[p.source]) and "-w" not in flags[p.source]]
    if clear:
        return _apart(s, f"{clear[0]} is encrypted and not sent raw (transfer.raw)")
    found = tree.plan_tree(pairs, src_inv, job.source.dataset, job.destination.dataset, flags)
    if isinstance(found, str):
        return _apart(s, found)
    listed = s.ex.run(s.src, zfs.local_properties(found.source, tree.PLACEMENT), changes=False, check=False)
    if listed.status != 0:
        return _apart(s, f"zfs get -s local: {listed.stderr.strip()}")
    local = tree.local_placement(listed.stdout)
    excludes = tree.receive_excludes(local, s.dst_caps.receive_properties, s.receive_options)
    if isinstance(excludes, str):
        return _apart(s, excludes)
    return found, excludes


def send(s: RunState, one: tree.Tree, excludes: list, src_inv: Inventory, pairs: list[Pair]) -> bool:
    """Send the tree in one stream; False where it failed and the datasets must go one by one
    (what arrived stays: the caller lists both sides again)."""
    names = [p.source for p in pairs]
    root = src_inv[one.source]
    flags = send_flags(s, root)
    props = compression.of_tree([src_inv[n].props for n in names])
    more = one.datasets - 1
    label = f"{one.source} and its {more} descendant{'' if more == 1 else 's'}"
    codec = compressor(s, label, props, flags)
    if s.ex.dry_run:
        s.ex.echo(f"# {label} in one stream (zfs send -R; transfer.tree_stream: never sends them one by one)")
    # where zfs cannot estimate, a full stream is about the size the datasets reference
    approx = _referenced(src_inv, names) if one.send.kind == "full" else None
    receive = zfs.receive(one.destination, one.send, s.resumable, [*s.receive_options, *excludes])
    try:
        stream(
            s,
            one.source,
            one.destination,
            zfs.send(one.source, one.send, flags, tree=True),
            receive,
            one.send.target,
            one.send.kind,
            approx=approx,
            codec=codec,
            retries=0,  # OpenZFS resumes only the dataset in flight: the rest go one by one
            datasets=one.datasets,
            rough=_rough(src_inv, names, one.send.base),
        )
    except StageFailed as exc:
        last = (exc.stderr.strip().splitlines() or [""])[-1]
        note = f"{label}: the one stream failed ({exc.stage}: {last}); sending dataset by dataset"
        log.info("%s", note)
        s.progress.note(note)
        s.outcome.retries.append(note)
        return False
    if one.send.kind == "full" and s.job.readonly:
        s.fresh.extend(p.destination for p in pairs)  # readonly=on, one command for all (runner.py)
    return True


def _apart(s: RunState, why: str) -> None:
    """Say (in the log, and in a dry run) why the tree goes dataset by dataset."""
    if s.ex.dry_run:
        s.ex.echo(f"# dataset by dataset, not in one stream: {why}")
    log.info("%s: dataset by dataset: %s", s.job.name, why)


def _referenced(src_inv: Inventory, names: list[str]) -> int | None:
    values = [sizes.parse_value(src_inv[n].props.get("referenced", "")) for n in names]
    return sum(v for v in values if v) or None


def _rough(src_inv: Inventory, names: list[str], base: str | None) -> int | None:
    """The tree stream's size from the listing alone (whether to compress, where zfs cannot say)."""
    each = [
        compression.full_size(src_inv[n]) if base is None else compression.changed(src_inv[n], base)
        for n in names
    ]
    return None if any(v is None for v in each) else sum(each)
