"""Sending one dataset: its plan as pipelines, retried after SSH drops
(resuming from the receive token where both ends can), and caught up after
a resumed stream."""

from __future__ import annotations

import logging
from dataclasses import replace

from ..commands import pipeline as pl
from ..commands import zfs
from ..errors import CommandFailed, Interrupted, StageFailed, ZswError
from ..jobs.schema import MAX_RETRY_DELAY
from ..planning import capabilities, compression, inventory, plan, selection, sizes, text
from ..planning.plan import Pair
from .context import RunState, Sent
from .estimate import estimate, written_since
from .listing import arrived, read_token

log = logging.getLogger("zfs_sync_wizard")
# ssh failures that waiting will not fix
PERMANENT_SSH = (
    "Permission denied",
    "Host key verification failed",
    "REMOTE HOST IDENTIFICATION HAS CHANGED",
    "Could not resolve hostname",
)
MAX_CATCH_UP = 3


def encrypted(dataset: inventory.Dataset) -> bool:
    return dataset.props.get("encryption", "off") not in ("off", "-", "")


def send_flags(s: RunState, dataset: inventory.Dataset) -> list:
    return capabilities.send_flags(s.job.raw, encrypted(dataset), s.src_caps, s.dst_caps, s.src.label)


def run_pair(s: RunState, pair: Pair, source: inventory.Dataset) -> None:
    """Carry out one dataset's plan; failures are recorded, not raised."""
    todo = pair.plan
    if isinstance(todo, plan.Conflict):
        where = f"{s.dst.label}:{pair.destination}"
        s.outcome.errors.append(text.conflict(todo, pair.source, where))
        return
    if not isinstance(todo, plan.Transfer):
        return
    try:
        if todo.rollback:
            _roll_back(s, pair.destination, todo.rollback)
        if todo.discards_changes:
            _destroyed(s, pair.destination, f"changes written since @{todo.sends[0].base} (zfs receive -F)")
        flags = send_flags(s, source)
        codec = compressor(s, source.name, source.props, flags)
        for step in todo.sends:
            resumed = _send_step(s, pair, source, step, flags, codec)
            if step.kind == "full" and s.job.readonly:
                s.fresh.append(pair.destination)  # readonly=on, one command for all (runner.py)
            if resumed:
                _catch_up(s, pair, source, flags, codec)
                break
    except Interrupted:
        raise
    except StageFailed as exc:
        space = _space(s, pair) if text.out_of_space(exc) else ""
        _failed(s, f"{pair.source} -> {pair.destination}: {text.stage_failure(exc, space)}")
    except (CommandFailed, ZswError) as exc:
        _failed(s, f"{pair.source} -> {pair.destination}: {exc}")


def _send_step(
    s: RunState, pair: Pair, source: inventory.Dataset, step: plan.Send, flags: list, codec: str
) -> bool:
    """One step of a dataset's plan, received with -F where a change the listing could not see
    is refused and discarding it is allowed; True when it finished through a resume token."""
    send = zfs.send(pair.source, step, flags)
    # a planned snapshot is not taken yet (dry run): estimate from what the dataset holds now
    known = written_since(s, pair.source, step.base) if step.planned else None
    # where zfs cannot estimate, a full stream is about the size the dataset references
    approx = sizes.parse_value(source.props.get("referenced", "")) if step.kind == "full" else None
    # and, for compressing or not only, an incremental's from the listed sizes
    rough = compression.full_size(source) if step.kind == "full" else compression.changed(source, step.base)

    def received_as(how: plan.Send) -> bool:
        receive = zfs.receive(pair.destination, how, s.resumable, s.receive_options)
        return stream(
            s,
            pair.source,
            pair.destination,
            send,
            receive,
            step.target,
            step.kind,
            known,
            approx,
            codec,
            rough=rough,
            untold=compression.untold(source.props),
        )

    try:
        return received_as(step)
    except StageFailed as exc:
        if step.force or not (_refused_as_modified(exc) and _rollback_allowed(s)):
            raise
        # a change the listing could not see (zfs-fuse has no `written`): discard it as allowed
        _destroyed(s, pair.destination, f"changes written since @{step.base} (zfs receive -F)")
        return received_as(replace(step, force=True))


def _failed(s: RunState, error: str) -> None:
    s.outcome.errors.append(error)
    s.progress.note(f"failed: {error}")


def compressor(s: RunState, name: str, props: dict, flags: list) -> str:
    """A stream's compressor, chosen by its data's properties (said in the dry run and the log);
    "none" for none."""
    choice = compression.choose(s.job.compression, s.job.crosses_ssh, flags, props)
    return _told(s, name, choice) if s.job.crosses_ssh else choice.codec or "none"


def _told(s: RunState, name: str, choice: compression.Choice) -> str:
    """A compression choice, said in the dry run and the log; its codec ("none" for none)."""
    if s.ex.dry_run:
        s.ex.echo(f"# {name}: {choice.describe()}")
    log.info("%s: %s", name, choice.describe())
    return choice.codec or "none"


def _space(s: RunState, pair: Pair) -> str:
    """How much the destination pool has and the stream needed (two read-only commands)."""
    pool = pair.destination.split("/")[0]
    result = s.ex.run(s.dst, zfs.value("available", pool, parsable=True), changes=False, check=False)
    available = sizes.parse_value(result.stdout) if result.status == 0 else None
    base = pair.plan.sends[0].base if isinstance(pair.plan, plan.Transfer) else None
    return text.space_needed(pool, available, written_since(s, pair.source, base))


def _rollback_allowed(s: RunState) -> bool:
    return s.job.rollback or s.opts.rollback


def _refused_as_modified(exc: StageFailed) -> bool:
    return exc.stage == "zfs receive" and "has been modified" in exc.stderr


def _destroyed(s: RunState, dataset: str, what: str) -> None:
    """Say what is destroyed on the destination: on stderr (cron mails it) and in the run record."""
    if s.ex.dry_run:
        return
    item = f"{s.dst.label}:{dataset}: {what}"
    log.warning("%s: destroying on the destination: %s", s.job.name, item)
    s.outcome.destroyed.append(item)


def _roll_back(s: RunState, dataset: str, rollback: plan.Rollback) -> None:
    """zfs rollback -r: the newer snapshots and bookmarks go, each one named first."""
    listed = s.ex.run(s.dst, zfs.bookmarks(dataset), changes=False, check=False)
    marks = []
    for line in listed.stdout.splitlines() if listed.status == 0 else []:
        name, _, txg = line.partition("\t")
        if txg.strip().isdigit() and int(txg) > rollback.txg:
            marks.append(name.partition("#")[2])
    for name in rollback.destroys:
        _destroyed(s, dataset, f"snapshot @{name} (zfs rollback -r to @{rollback.to})")
    for name in marks:
        _destroyed(s, dataset, f"bookmark #{name} (zfs rollback -r to @{rollback.to})")
    s.ex.run(s.dst, zfs.rollback(dataset, rollback.to), changes=True)


def _catch_up(s: RunState, pair: Pair, source: inventory.Dataset, flags: list, codec: str) -> None:
    """After a resumed stream, which ends at its own snapshot, send what is still missing."""
    policy = plan.Policy(s.job.incremental, s.job.initial, False)
    chosen = selection.for_job(s.job)
    for _ in range(MAX_CATCH_UP):
        result = s.ex.run(s.dst, zfs.listing(pair.destination, False), changes=False)
        have = inventory.parse(result.stdout).get(pair.destination)
        carried = chosen.carried if chosen.filtered else None
        todo = plan.plan(source.snapshots, have.snapshots if have else None, policy, carried=carried)
        if not isinstance(todo, plan.Transfer):
            return
        step = todo.sends[0]
        receive = zfs.receive(pair.destination, step, s.resumable, s.receive_options)
        stream(
            s,
            pair.source,
            pair.destination,
            zfs.send(pair.source, step, flags),
            receive,
            step.target,
            step.kind,
            codec=codec,
            untold=compression.untold(source.props),
        )


def stream(
    s: RunState,
    source: str,
    destination: str,
    send: list,
    receive: list,
    target: str,
    kind: str,
    known=None,
    approx=None,
    codec: str | None = None,
    retries: int | None = None,
    datasets: int = 1,
    rough: int | None = None,
    untold: bool = False,
) -> bool:
    """Run one send/receive pipeline, retrying after SSH drops (`retries`, else the job's
    transfer.retries); `datasets` the number a tree stream carries; `known` is a
    size estimate made otherwise (else `zfs send -nvP` is asked); `approx` a
    rougher one for pv and the progress lines only, where there is no estimate;
    `codec` the dataset's compressor (planning/compression.py), which a small stream goes
    without under auto, judged by the estimate or else `rough`, a size from the listing;
    `untold`: one dataset's data stored uncompressed, which a large stream samples first.

    Returns True when it finished through a resume token (which ends at the
    snapshot being received when the drop happened, not necessarily `target`).
    """
    resumed = False
    size = known if known is not None else estimate(s, send)
    judged = size if size is not None else rough  # for compressing or not
    codec = _unless_small(s, source, codec, judged)
    codec = _unless_incompressible(s, source, send, codec, judged, untold)
    retries = s.job.retries if retries is None else retries
    for attempt in range(retries + 1):
        shown = size if size is not None or s.ex.dry_run else approx
        stages = pl.build(send, receive, s.src, s.dst, s.pipeline_settings(shown, codec), s.job.direct)
        if s.ex.dry_run:
            if size is not None:
                s.ex.echo(f"# estimated size: {size} bytes")
            s.ex.echo(pl.render(stages, s.ex.control_dir))
            return False
        try:
            with s.progress.stream(source, shown) as counter:
                s.ex.pipeline(stages, counter, label=source)
        except StageFailed as exc:
            if attempt >= retries or not retryable(exc):
                raise
            delay = min(s.job.retry_delay * 2**attempt, MAX_RETRY_DELAY)
            last_line = (exc.stderr.strip().splitlines() or [""])[-1]
            note = f"{source} -> {destination}: attempt {attempt + 1} failed, retrying in {delay} s: {exc.stage}: {last_line}"
            log.info("%s", note)
            s.progress.note(note)
            s.outcome.retries.append(note)
            (s.opts.sleep or s.ex.pause)(delay)
            if not resumed and arrived(s, destination, target):  # the drop came after the receive ended
                log.info("%s -> %s: %s arrived before the connection dropped", source, destination, target)
                break
            token = read_token(s, destination) if s.resumable else None
            if token:  # the stream changed: what is left of it, from where the drop left off
                send, receive, resumed = (
                    zfs.send_token(token),
                    zfs.receive(destination, None, True, s.receive_options),
                    True,
                )
                size = estimate(s, send)
            continue
        break  # the stream arrived (the last attempt raises when it fails)
    log.info("%s -> %s: %s sent, %d bytes", source, destination, target, counter.bytes)
    s.outcome.count(Sent(source, target, "resume" if resumed else kind, counter.bytes, size, datasets))
    return resumed


def _unless_small(s: RunState, source: str, codec: str | None, size: int | None) -> str | None:
    """Under compression: auto, no compressor for a small stream (planning/compression.small)."""
    if s.job.compression != "auto" or codec in (None, "none") or not compression.small(size):
        return codec
    why = f"a small stream, about {sizes.human(size)}: a compressor would hold it back"
    return _told(s, source, compression.Choice(None, why))


def _unless_incompressible(
    s: RunState, source: str, send: list, codec: str | None, size: int | None, untold: bool
) -> str | None:
    """Under compression: auto, a large stream whose data's properties could not tell is
    compressed only where a sample of it shrinks (planning/compression.sampled); a dry run
    shows the sample's command.  Only where the source is this machine (a remote one may
    allow zfs commands alone, zfs-sync-gate(8))."""
    if s.job.compression != "auto" or not s.src.is_local or not compression.sampled(codec, size, untold):
        return codec
    argv = pl.sample(send, compression.SAMPLE)
    if s.ex.dry_run:
        s.ex.echo(
            f"# {source}: compression decided by a sample of the stream when it runs: {pl.shell_join(argv)}"
        )
        return codec
    result = s.ex.run(s.src, argv, changes=False, check=False)
    return _told(s, source, compression.of_sample(*pl.sample_counts(result.stdout, result.stderr)))


def retryable(exc: StageFailed) -> bool:
    """An ssh connection that dropped ("ssh to HOST", or a direct hop "ssh from A to B"), not a refusal."""
    return exc.stage.startswith("ssh ") and not any(m in exc.stderr for m in PERMANENT_SSH)
