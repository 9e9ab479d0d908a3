"""What one run of one job knows: options, both sides, their capabilities,
and the outcome so far. Passed to the steps in transfer.py and finish.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from . import capabilities
from . import pipeline as pl
from .capabilities import Capabilities
from .execute import Executor
from .job import Job
from .progress import Progress
from .ssh import Endpoint


@dataclass
class Options:
    dry_run: bool = False
    rollback: bool = False
    progress: bool = False  # draw a progress line on stderr (a terminal)
    now: datetime | None = None
    sleep: object = None  # time.sleep, replaceable for retry tests


@dataclass
class Outcome:
    sent: list = field(default_factory=list)  # {"dataset", "snapshot", "kind", "bytes", "estimated"}
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    retries: list = field(default_factory=list)  # "dataset: attempt N failed: ..."
    aborted: list = field(default_factory=list)  # partial receives given up, with why
    held: list = field(default_factory=list)  # "dataset@snapshot" protected as the next base
    bytes: int = 0
    estimated: int = 0


@dataclass
class Session:
    job: Job
    opts: Options
    ex: Executor
    src_caps: Capabilities = field(default_factory=Capabilities)
    dst_caps: Capabilities = field(default_factory=Capabilities)
    outcome: Outcome = field(default_factory=Outcome)
    progress: Progress = field(default_factory=lambda: Progress(False))

    @property
    def src(self) -> Endpoint:
        return self.job.source.endpoint

    @property
    def dst(self) -> Endpoint:
        return self.job.destination.endpoint

    @property
    def resumable(self) -> bool:
        return capabilities.resumable(self.src_caps, self.dst_caps)

    def pipeline_options(self, size: int | None = None) -> pl.Options:
        return pipeline_options(self.job, size)


def pipeline_options(job: Job, size: int | None = None) -> pl.Options:
    """The job's transfer settings as the pipeline builder takes them."""
    return pl.Options(job.wire_compression, job.buffer, job.bandwidth_limit, size)
