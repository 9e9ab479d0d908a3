"""running/parallel.py's scheduling, with each dataset's transfer replaced by a
stand-in that records when it starts and ends (the real transfers at once are
tested on zfs-fuse hosts: tests/integration/test_runner_parallel.py)."""

from __future__ import annotations

import threading
import time

import pytest

from zfs_sync_wizard.errors import Interrupted
from zfs_sync_wizard.jobs import job as jobmod
from zfs_sync_wizard.planning import plan as planning
from zfs_sync_wizard.planning.inventory import Dataset
from zfs_sync_wizard.running import parallel
from zfs_sync_wizard.running.context import RunOptions, RunState, Sent
from zfs_sync_wizard.running.execute import Executor
from zfs_sync_wizard.running.progress import Progress

pytestmark = pytest.mark.timeout(30)
FULL = planning.Transfer((planning.Send("a"),))
INC = planning.Transfer((planning.Send("b", base="a"),))


def state(parallel_: int = 3, dry_run: bool = False, bar: bool = False) -> RunState:
    job = jobmod.from_mapping(
        {
            "source": {"dataset": "tank/m", "recursive": True},
            "destination": {"dataset": "b/m", "host": "backup"},
            "transfer": {"parallel": parallel_},
        },
        "j",
        "j.yaml",
    )
    s = RunState(job, RunOptions(dry_run=dry_run), Executor(dry_run=dry_run))
    s.progress = Progress(bar=bar)
    return s


def tree(text: str) -> tuple[list[planning.Pair], dict]:
    """ "m=full m/x=inc ..." (destinations under b/, sources under tank/)."""
    pairs = []
    for item in text.split():
        name, _, kind = item.partition("=")
        plan = {"full": FULL, "inc": INC, "up": planning.UpToDate("a")}[kind]
        pairs.append(planning.Pair(f"tank/{name}", f"b/{name}", plan))
    return pairs, {p.source: Dataset(p.source) for p in pairs}


class StandIn:
    """run_pair's stand-in: records start and end, fails the datasets named; a transfer of
    `meet` ends only once `together` have run at once (no sleeps: at most 10 s, then the
    test's own assertion on `most` fails)."""

    def __init__(self, fails=(), meet=(), together: int = 1):
        self.fails, self.meet, self.together = set(fails), set(meet), together
        self.events: list = []
        self.threads: set = set()
        self.lock = threading.Condition()
        self.now = self.most = 0

    def __call__(self, s, pair, source) -> None:
        if not isinstance(pair.plan, planning.Transfer):
            self.events.append(("skip", pair.destination))
            return
        with self.lock:
            self.events.append(("start", pair.destination))
            self.threads.add(threading.current_thread().name)
            self.now += 1
            self.most = max(self.most, self.now)
            self.lock.notify_all()
            if pair.destination in self.meet:
                self.lock.wait_for(lambda: self.most >= self.together, timeout=10)
        with self.lock:
            self.now -= 1
            self.events.append(("end", pair.destination))
        if pair.destination in self.fails:
            s.outcome.errors.append(f"{pair.source} -> {pair.destination}: refused")
        else:
            s.outcome.count(Sent(pair.source, "a", "full", 1, None))

    def before(self, first: tuple, then: tuple) -> bool:
        return self.events.index(first) < self.events.index(then)


def run(monkeypatch, s, text, **stand_in) -> StandIn:
    fake = StandIn(**stand_in)
    monkeypatch.setattr(parallel, "run_pair", fake)
    pairs, inv = tree(text)
    parallel.run_pairs(s, pairs, inv)
    return fake


def test_incrementals_run_at_once_up_to_parallel(monkeypatch):
    s = state(parallel_=3)
    names = [f"m/{i}" for i in range(8)]
    fake = run(
        monkeypatch, s, " ".join(f"{n}=inc" for n in names), meet={f"b/{n}" for n in names}, together=3
    )
    assert fake.most == 3
    assert all(name.startswith("zsw-transfer") for name in fake.threads)
    assert s.outcome.errors == [] and len(s.outcome.sent) == 8 and s.outcome.bytes == 8


def test_first_sends_wait_for_their_parent_and_siblings_go_together(monkeypatch):
    fake = run(
        monkeypatch, state(), "m=full m/x=full m/y=full m/x/1=full", meet={"b/m/x", "b/m/y"}, together=2
    )
    assert fake.before(("end", "b/m"), ("start", "b/m/x"))
    assert fake.before(("end", "b/m"), ("start", "b/m/y"))
    assert fake.before(("end", "b/m/x"), ("start", "b/m/x/1"))
    assert fake.most >= 2  # x and y (then x/1 and y) overlap


def test_a_failed_parent_keeps_its_subtree_back_and_the_others_go_on(monkeypatch):
    s = state()
    fake = run(monkeypatch, s, "m=inc m/x=full m/x/1=full m/x/1/a=full m/y=full m/z=inc", fails={"b/m/x"})
    started = [d for kind, d in fake.events if kind == "start"]
    assert sorted(started) == ["b/m", "b/m/x", "b/m/y", "b/m/z"]
    assert s.outcome.errors[0] == "tank/m/x -> b/m/x: refused"
    assert sorted(s.outcome.errors[1:]) == [
        "tank/m/x/1 -> b/m/x/1: not sent: its parent b/m/x was not received",
        "tank/m/x/1/a -> b/m/x/1/a: not sent: its parent b/m/x/1 was not received",
    ]
    assert {x.dataset for x in s.outcome.sent} == {"tank/m", "tank/m/y", "tank/m/z"}


@pytest.mark.parametrize(
    "why", [{"parallel_": 1}, {"dry_run": True}, {"bar": True}], ids=["parallel 1", "dry run", "pv bar"]
)
def test_sequential_in_order_in_this_thread(monkeypatch, why):
    fake = run(monkeypatch, state(**why), "m=full m/x=up m/y=full m/z=inc")
    assert fake.events == [
        ("start", "b/m"),
        ("end", "b/m"),
        ("skip", "b/m/x"),
        ("start", "b/m/y"),
        ("end", "b/m/y"),
        ("start", "b/m/z"),
        ("end", "b/m/z"),
    ]
    assert fake.threads == {threading.current_thread().name}


def test_one_transfer_is_sent_in_this_thread(monkeypatch):
    fake = run(monkeypatch, state(), "m=inc m/x=up")
    assert fake.threads == {threading.current_thread().name}


def test_an_interrupt_stops_every_transfer_and_raises_interrupted(monkeypatch):
    s = state()
    started = threading.Semaphore(0)

    def transfer(s, pair, source):  # a transfer that lasts until stopped, as a killed pipeline does
        started.release()
        s.ex.pause(20)

    def interrupted_wait(futures, **kwargs):  # SIGTERM arrives while the main thread waits
        for _ in range(2):
            started.acquire()
        raise KeyboardInterrupt

    monkeypatch.setattr(parallel, "run_pair", transfer)
    monkeypatch.setattr(parallel, "wait", interrupted_wait)
    pairs, inv = tree("m=inc m/x=inc m/y=inc m/z=inc m/w=inc")
    begun = time.monotonic()
    with pytest.raises(Interrupted, match="the next run continues from here"):
        parallel.run_pairs(s, pairs, inv)
    assert time.monotonic() - begun < 10
