"""`zfs-sync-run --monitor`: a Nagios/Icinga plugin.

Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; one line of output with
performance data after `|`; the worst job decides.  The lag is read from
each job's destination (one listing per job), never from the run records,
so a job whose cron line stopped turns WARNING, then CRITICAL.  `verdict`
is pure; `check_job` reads the destination.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ZswError
from ..jobs.job import Job
from ..planning import lag
from ..planning.lag import State, Thresholds, format_duration
from ..running import listing
from ..running.execute import Executor

NAME = "ZFS-SYNC"


@dataclass
class JobLag:
    job: str
    lags: dict[str, int | None] = field(default_factory=dict)  # destination dataset -> seconds
    error: str | None = None  # why the lag is unknown

    def state(self, limits: Thresholds) -> State:
        if self.error is not None:
            return State.UNKNOWN
        if not self.lags:  # the destination dataset does not exist: never replicated
            return State.CRITICAL
        return lag.worst(lag.state(v, limits) for v in self.lags.values())

    @property
    def worst(self) -> tuple[str, int | None] | None:
        """(dataset, lag) of the dataset furthest behind (None lag: no snapshot there)."""
        if not self.lags:
            return None
        return max(self.lags.items(), key=lambda kv: float("inf") if kv[1] is None else kv[1])


def check_job(job: Job, ex: Executor, now: int) -> JobLag:
    dst = job.destination
    try:
        inv = listing.list_dataset(ex, dst.endpoint, dst.dataset, job.recursive)
    except ZswError as exc:
        return JobLag(
            job.name, error=f"cannot read the destination {dst.endpoint.label}:{dst.dataset}: {exc}"
        )
    return JobLag(job.name, lag.lags(inv, now))


def unknown(message: str) -> tuple[State, str]:
    """The line for a check that could not run at all (bad option, invalid job file)."""
    return State.UNKNOWN, f"{NAME} UNKNOWN - {_one_line(message)}"


def verdict(results: list[JobLag], limits: Thresholds) -> tuple[State, str]:
    """The plugin's state and its one output line (pure)."""
    states = [r.state(limits) for r in results]
    overall = lag.worst(states)
    bad = [_describe(r, s, limits) for r, s in zip(results, states) if s != State.OK]
    summary = "; ".join(bad) if bad else _all_ok(results)
    return overall, f"{NAME} {overall.name} - {_one_line(summary)}{_perfdata(results, limits)}"


def _all_ok(results: list[JobLag]) -> str:
    if not results:
        return "no jobs"
    furthest = max(results, key=lambda r: r.worst[1])
    dataset, seconds = furthest.worst
    jobs = f"{len(results)} jobs, " if len(results) > 1 else ""
    return f"{jobs}lag {format_duration(seconds)} ({furthest.job}: {dataset})"


def _describe(r: JobLag, state: State, limits: Thresholds) -> str:
    if r.error is not None:
        return f"{r.job}: {r.error}"
    if r.worst is None:
        return f"{r.job}: the destination dataset does not exist (never replicated)"
    dataset, seconds = r.worst
    if seconds is None:
        return f"{r.job}: {dataset}: no snapshot on the destination"
    limit = limits.crit if state == State.CRITICAL else limits.warn
    word = "crit" if state == State.CRITICAL else "warn"
    return f"{r.job}: {dataset} lag {format_duration(seconds)} > {word} {format_duration(limit)}"


def _perfdata(results: list[JobLag], limits: Thresholds) -> str:
    """`lag=` the worst known lag; with several jobs also `lag_JOB=` each job's worst."""
    known = {r.job: r.worst[1] for r in results if r.worst is not None and r.worst[1] is not None}
    if not known:
        return ""
    data = [lag.perfdata("lag", max(known.values()), limits)]
    if len(results) > 1:
        data += [lag.perfdata(f"lag_{job}", seconds, limits) for job, seconds in known.items()]
    return " | " + " ".join(data)


def _one_line(text: str) -> str:
    # one line, and no "|": Nagios reads what follows it as performance data
    return " ".join(str(text).split()).replace("|", "/")
