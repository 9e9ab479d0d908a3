"""Sending one dataset: its plan as pipelines, with size estimates, retries
after SSH drops (resuming from the receive token), and resuming or aborting
the partial receives an earlier run left behind."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from . import inventory, planning, resume, zfscmd
from . import pipeline as pl
from .capabilities import stream_flags
from .errors import CommandFailed, Interrupted, StageFailed, ZswError
from .session import Session

log = logging.getLogger("zfs_sync_wizard")
# ssh failures that waiting will not fix
PERMANENT_SSH = (
    "Permission denied",
    "Host key verification failed",
    "REMOTE HOST IDENTIFICATION HAS CHANGED",
    "Could not resolve hostname",
)
NO_TOKEN = ("", "-")
MAX_CATCH_UP = 3


@dataclass
class Pair:
    source: str
    destination: str
    plan: object


def send_flags(s: Session, dataset: inventory.Dataset) -> list:
    """Raw for encrypted datasets (keys never leave the source), else -L -e -c where both ends can."""
    encrypted = dataset.props.get("encryption", "off") not in ("off", "-", "")
    raw = s.job.raw == "always" or (s.job.raw == "auto" and encrypted)
    if raw and not s.src_caps.raw:
        if s.job.raw == "always":
            raise ZswError(f"transfer.raw is 'always' but zfs on {s.src.label} has no raw send (-w)")
        return []
    return ["-w"] if raw else stream_flags(s.src_caps, s.dst_caps)


def run_pair(s: Session, pair: Pair, source: inventory.Dataset) -> None:
    """Carry out one dataset's plan; failures are recorded, not raised."""
    plan = pair.plan
    if isinstance(plan, planning.Conflict):
        where = f"{s.dst.label}:{pair.destination}"
        s.outcome.errors.append(planning.describe(plan, pair.source, where))
        return
    if not isinstance(plan, planning.Transfer):
        return
    try:
        if plan.rollback:
            log.info(
                "%s: rolling back to @%s, destroying %s",
                pair.destination,
                plan.rollback.to,
                ", ".join(plan.rollback.destroys),
            )
            s.ex.run(s.dst, zfscmd.rollback(pair.destination, plan.rollback.to), changes=True)
        flags = send_flags(s, source)
        for step in plan.sends:
            send = zfscmd.send(pair.source, step, flags)
            receive = zfscmd.receive(pair.destination, step, s.resumable)
            # a dry run's snapshot is not taken yet: estimate from what the dataset holds now
            known = written_since(s, pair.source, step.base) if step.target_guid < 0 else None
            resumed = stream(s, pair.source, pair.destination, send, receive, step.target, step.kind, known)
            if step.kind == "full" and s.job.readonly:
                s.ex.run(s.dst, zfscmd.set_readonly(pair.destination), changes=True)
            if resumed:
                _catch_up(s, pair, source, flags)
                break
    except Interrupted:
        raise
    except StageFailed as exc:
        s.outcome.errors.append(f"{pair.source} -> {pair.destination}: {explain(exc)}")
    except (CommandFailed, ZswError) as exc:
        s.outcome.errors.append(f"{pair.source} -> {pair.destination}: {exc}")


def _catch_up(s: Session, pair: Pair, source: inventory.Dataset, flags: list) -> None:
    """After a resumed stream, which ends at its own snapshot, send what is still missing."""
    policy = planning.Policy(s.job.incremental, s.job.initial, False)
    for _ in range(MAX_CATCH_UP):
        listing = s.ex.run(s.dst, inventory.get_argv(pair.destination, False), changes=False)
        have = inventory.parse(listing.stdout).get(pair.destination)
        plan = planning.plan(source.snapshots, have.snapshots if have else None, policy)
        if not isinstance(plan, planning.Transfer):
            return
        step = plan.sends[0]
        receive = zfscmd.receive(pair.destination, step, s.resumable)
        stream(
            s,
            pair.source,
            pair.destination,
            zfscmd.send(pair.source, step, flags),
            receive,
            step.target,
            step.kind,
        )


def stream(
    s: Session, source: str, destination: str, send: list, receive: list, target: str, kind: str, known=None
) -> bool:
    """Run one send/receive pipeline, retrying after SSH drops; `known` is a
    size estimate made otherwise (else `zfs send -nvP` is asked).

    Returns True when it finished through a resume token (which ends at the
    snapshot being received when the drop happened, not necessarily `target`).
    """
    resumed = False
    size = known if known is not None else estimate(s, send)
    for attempt in range(s.job.retries + 1):
        stages = pl.build(send, receive, s.src, s.dst, s.pipeline_options(size), s.job.direct)
        if s.ex.dry_run:
            if size is not None:
                s.ex.echo(f"# estimated size: {size} bytes")
            s.ex.echo(pl.render(stages, s.ex.control_dir))
            return False
        try:
            with s.progress.stream(source) as counter:
                s.ex.pipeline(stages, counter)
        except StageFailed as exc:
            if attempt >= s.job.retries or not retryable(exc):
                raise
            delay = s.job.retry_delay * 2**attempt
            last_line = (exc.stderr.strip().splitlines() or [""])[-1]
            note = f"{source} -> {destination}: attempt {attempt + 1} failed, retrying in {delay} s: {exc.stage}: {last_line}"
            log.info("%s", note)
            s.outcome.retries.append(note)
            (s.opts.sleep or time.sleep)(delay)
            token = read_token(s, destination) if s.resumable else None
            if token:  # the stream changed: what is left of it, from where the drop left off
                send, receive, resumed = (
                    zfscmd.send_token(token),
                    zfscmd.receive(destination, None, True),
                    True,
                )
                size = estimate(s, send)
            continue
        s.outcome.bytes += counter.bytes
        s.outcome.estimated += size or 0
        entry = {"dataset": source, "snapshot": target, "kind": "resume" if resumed else kind}
        s.outcome.sent.append(dict(entry, bytes=counter.bytes, estimated=size))
        return resumed
    return resumed


def retryable(exc: StageFailed) -> bool:
    return exc.stage.startswith("ssh to") and not any(m in exc.stderr for m in PERMANENT_SSH)


def estimate(s: Session, send: list) -> int | None:
    """Bytes the send will produce, from `zfs send -nvP` where the source has it."""
    if not s.src_caps.estimate:
        return None
    result = s.ex.run(s.src, zfscmd.estimate(send), changes=False, check=False)
    return resume.parse_size(result.stdout + result.stderr) if result.status == 0 else None


def written_since(s: Session, dataset: str, base: str | None) -> int | None:
    """Bytes written since `base` (or referenced, for a full send): a stream's approximate size."""
    prop = f"written@{base}" if base else "referenced"
    result = s.ex.run(s.src, ["zfs", "get", "-Hp", "-o", "value", prop, dataset], changes=False, check=False)
    value = result.stdout.strip()
    return int(value) if result.status == 0 and value.isdigit() else None


def read_token(s: Session, dataset: str) -> str | None:
    argv = ["zfs", "get", "-H", "-o", "value", "receive_resume_token", dataset]
    result = s.ex.run(s.dst, argv, changes=False, check=False)
    token = result.stdout.strip()
    return None if result.status or token in NO_TOKEN else token


def resume_partials(s: Session, src_inv: inventory.Inventory, dst_inv: inventory.Inventory) -> bool:
    """Resume or abort every partial receive under the destination; True if any was found."""
    found = False
    for name in inventory.children(dst_inv, s.job.destination.dataset):
        token = dst_inv[name].props.get("receive_resume_token", "-")
        if token in NO_TOKEN:
            continue
        found = True
        source = inventory.relocate(name, s.job.destination.dataset, s.job.source.dataset)
        check = s.ex.run(s.src, zfscmd.estimate(zfscmd.send_token(token)), changes=False, check=False)
        info = resume.parse_token_info(check.stdout + check.stderr)
        why = resume.decide(info, src_inv.get(source), check.stderr if check.status else "")
        try:
            if why:
                log.info("%s: aborting the partial receive: %s", name, why)
                s.outcome.aborted.append(f"{name}: {why}")
                s.ex.run(s.dst, zfscmd.abort_receive(name), changes=True)
                continue
            log.info("%s: resuming the partial receive of %s", name, info.toname)
            receive = zfscmd.receive(name, None, True)
            snap = info.toname.partition("@")[2]
            stream(s, source, name, zfscmd.send_token(token), receive, snap, "resume", known=info.size)
        except (StageFailed, CommandFailed) as exc:
            s.outcome.errors.append(f"{source} -> {name}: resuming the partial receive failed: {exc}")
    return found


def explain(exc: StageFailed) -> str:
    text = str(exc)
    if exc.stage == "zfs receive" and "modified" in exc.stderr:
        text += (
            "\n  the destination changed since the last common snapshot; to discard those changes, "
            + planning.ROLLBACK_HINT
        )
    return text
