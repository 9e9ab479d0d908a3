"""Transfers of different datasets at once (`transfer.parallel`), over the one
ssh master connection per host that check() opened.

A first send waits for its parent's (planning/ordering.py); a parent that
was not received keeps its children from starting, each with its own error.
A failure of one dataset never stops the others: transfer.run_pair records
it.  Signals reach only the main thread, so it waits here on the workers
and, on SIGINT/SIGTERM, kills every pipeline they run (Executor.stop_all)
and raises Interrupted as a sequential run does; the next run resumes the
partial receives (running/partials.py).

Sequential, as before, in a dry run (its printed commands stay in order),
with `parallel: 1`, when pv draws a bar on the terminal, or for one transfer.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ..errors import Interrupted
from ..planning import ordering, plan
from ..planning.inventory import Inventory
from ..planning.plan import Pair
from .context import RunState
from .execute import INTERRUPTED
from .transfer import run_pair

log = logging.getLogger("zfs_sync_wizard")


def run_pairs(s: RunState, pairs: list[Pair], src_inv: Inventory) -> None:
    """Carry out every dataset's plan; failures are recorded in s.outcome.errors, not raised."""
    todo = plan.transfers(pairs)
    if s.ex.dry_run or s.job.parallel == 1 or s.progress.bar or len(todo) < 2:
        for pair in pairs:
            run_pair(s, pair, src_inv[pair.source])
        return
    sending = {pair.destination for pair in todo}
    for pair in pairs:  # conflicts and the like: recorded at once, in order, no process started
        if pair.destination not in sending:
            run_pair(s, pair, src_inv[pair.source])
    waits = ordering.waits_for(pairs)
    after: dict[str, list[Pair]] = defaultdict(list)  # a parent's destination: the pairs waiting for it
    for pair in todo:
        if pair.destination in waits:
            after[waits[pair.destination]].append(pair)
    ready = [pair for pair in todo if pair.destination not in waits]
    _run(s, ready, after, src_inv)


def _run(s: RunState, ready: list[Pair], after: dict, src_inv: Inventory) -> None:
    pool = ThreadPoolExecutor(max_workers=s.job.parallel, thread_name_prefix="zsw-transfer")
    running: dict[Future, Pair] = {}

    def start(pair: Pair) -> None:
        running[pool.submit(run_pair, s, pair, src_inv[pair.source])] = pair

    try:
        for pair in ready:
            start(pair)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                pair = running.pop(future)
                future.result()  # run_pair records failures; what it raises is a bug or Interrupted
                waiting = after.pop(pair.destination, [])
                if _received(s, pair):
                    for child in waiting:
                        start(child)
                else:
                    _not_sent(s, pair, waiting, after)
    except KeyboardInterrupt:  # SIGINT or SIGTERM (cli/run.py), only ever in this thread
        log.info("interrupted: stopping %d transfer(s)", len(running))
        s.ex.stop_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise Interrupted(INTERRUPTED) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _received(s: RunState, pair: Pair) -> bool:
    """The pair's first stream arrived, so its destination exists for its children."""
    return any(sent.dataset == pair.source for sent in list(s.outcome.sent))


def _not_sent(s: RunState, parent: Pair, waiting: list[Pair], after: dict) -> None:
    """The children of a parent that was not received, and theirs in turn: an error each."""
    for child in waiting:
        error = f"{child.source} -> {child.destination}: not sent: its parent {parent.destination} was not received"
        s.outcome.errors.append(error)
        _not_sent(s, child, after.pop(child.destination, []), after)
