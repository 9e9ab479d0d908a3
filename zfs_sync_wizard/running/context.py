"""What one run of one job knows: its options, both sides and their
capabilities, and the outcome so far.  Every step of running/ is given it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from ..commands.pipeline import PipelineSettings
from ..jobs.endpoint import Endpoint
from ..jobs.job import Job
from ..planning import capabilities, compression
from ..planning.capabilities import Capabilities
from .execute import Executor
from .progress import Progress

_COUNTING = threading.Lock()


@dataclass
class RunOptions:
    dry_run: bool = False
    rollback: bool = False
    progress: bool = False  # draw pv's bar on stderr (a terminal)
    now: datetime | None = None
    sleep: object = None  # time.sleep, replaceable for retry tests


@dataclass
class Sent:
    """One stream that arrived: what the run record lists under `sent`."""

    dataset: str
    snapshot: str
    kind: str  # full, incremental or resume
    bytes: int
    estimated: int | None
    datasets: int = 1  # how many it carried: a tree stream (zfs send -R) carries the descendants too


@dataclass
class Outcome:
    sent: list[Sent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    retries: list[str] = field(default_factory=list)  # "dataset: attempt N failed: ..."
    aborted: list[str] = field(default_factory=list)  # partial receives given up, with why
    held: list[str] = field(default_factory=list)  # "dataset@snapshot" protected as the next base
    destroyed: list[str] = field(
        default_factory=list
    )  # what a rollback or receive -F destroyed on the destination
    bytes: int = 0
    estimated: int = 0
    destination: dict | None = None  # the destination's listing after the run (its lag, for metrics)

    def count(self, sent: Sent) -> None:
        """A stream that arrived, in the totals too (transfers of several datasets may end at once)."""
        with _COUNTING:
            self.bytes += sent.bytes
            self.estimated += sent.estimated or 0
            self.sent.append(sent)


@dataclass
class RunState:
    job: Job
    opts: RunOptions
    ex: Executor
    src_caps: Capabilities = field(default_factory=Capabilities)
    dst_caps: Capabilities = field(default_factory=Capabilities)
    outcome: Outcome = field(default_factory=Outcome)
    progress: Progress = field(default_factory=Progress)
    receive_options: list = field(
        default_factory=list
    )  # -o/-x for every zfs receive (destination.properties)
    fresh: list = field(default_factory=list)  # destinations received in full: readonly=on after the sends

    @property
    def src(self) -> Endpoint:
        return self.job.source.endpoint

    @property
    def dst(self) -> Endpoint:
        return self.job.destination.endpoint

    @property
    def resumable(self) -> bool:
        return capabilities.resumable(self.src_caps, self.dst_caps)

    def pipeline_settings(self, size: int | None = None, codec: str | None = None) -> PipelineSettings:
        return pipeline_settings(self.job, size, self.progress.bar, codec)


def pipeline_settings(
    job: Job, size: int | None = None, bar: bool = False, codec: str | None = None
) -> PipelineSettings:
    """The job's transfer settings as the pipeline builder takes them; `codec` is the dataset's
    compressor, else the job's own choice before anything is listed (--check, resumed streams)."""
    wire = codec if codec is not None else compression.choose(job.compression, job.crosses_ssh, (), {}).codec
    return PipelineSettings(wire, job.buffer, job.bandwidth_limit, size, bar)
