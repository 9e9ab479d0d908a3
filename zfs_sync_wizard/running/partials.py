"""Partial receives an earlier run left behind: each is resumed from its
token or, where the source can no longer send it, aborted and the dataset
planned afresh (the decision is planning/resume.py's)."""

from __future__ import annotations

import logging

from ..commands import probes, zfs
from ..errors import CommandFailed, StageFailed
from ..planning import inventory, resume
from ..planning.inventory import Inventory
from .context import RunState
from .listing import NO_TOKEN
from .transfer import stream

log = logging.getLogger("zfs_sync_wizard")


def resume_partials(s: RunState, src_inv: Inventory, dst_inv: Inventory) -> tuple[bool, set[str]]:
    """Resume or abort every partial receive under the destination.

    Returns whether any was found, and the destination datasets whose token
    could not be checked (kept as they are: nothing is sent to them this run).
    """
    found, kept = False, set()
    for name in inventory.children(dst_inv, s.job.destination.dataset):
        token = dst_inv[name].props.get("receive_resume_token", "-")
        if token in NO_TOKEN:
            continue
        found = True
        source = inventory.relocate(name, s.job.destination.dataset, s.job.source.dataset)
        check = s.ex.shell(s.src, probes.answered(zfs.estimate(zfs.send_token(token))), check=False)
        status, stderr = probes.parse_answer(check.stderr)
        if status is None:  # no answer from zfs: the connection failed while asking, not the token
            last = (stderr.strip().splitlines() or [f"exit {check.status}"])[-1]
            s.outcome.errors.append(
                f"{source} -> {name}: could not check the partial receive's resume token on {s.src.label} "
                f"({last}); it is kept, and the next run resumes or checks it again"
            )
            kept.add(name)
            continue
        info = resume.parse_token_info(check.stdout + stderr)
        why = resume.decide(info, src_inv.get(source), stderr if status else "")
        try:
            if why:
                log.info("%s: aborting the partial receive: %s", name, why)
                s.outcome.aborted.append(f"{name}: {why}")
                s.ex.run(s.dst, zfs.abort_receive(name), changes=True)
                continue
            log.info("%s: resuming the partial receive of %s", name, info.toname)
            receive = zfs.receive(name, None, True, s.receive_options)
            snap = info.toname.partition("@")[2]
            stream(s, source, name, zfs.send_token(token), receive, snap, "resume", known=info.size)
        except (StageFailed, CommandFailed) as exc:
            s.outcome.errors.append(f"{source} -> {name}: resuming the partial receive failed: {exc}")
    return found, kept
