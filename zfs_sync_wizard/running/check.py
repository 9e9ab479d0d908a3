"""Before anything runs: does every side have what the job's pipeline needs,
and what can its zfs do?  One probe command per side."""

from __future__ import annotations

from ..commands import pipeline as pl
from ..commands import probes, zfs
from ..errors import PrerequisiteError
from ..jobs.endpoint import Endpoint
from ..jobs.job import Job
from ..planning import capabilities
from ..planning.capabilities import Capabilities
from ..planning.plan import Send
from .context import pipeline_settings
from .execute import Executor


def check(job: Job, ex: Executor) -> dict[Endpoint, tuple[list[str], Capabilities]]:
    """{endpoint: (programs, Capabilities)} for every side; raises PrerequisiteError naming what is missing."""
    probe = Send("b", "a")
    src, dst = job.source.endpoint, job.destination.endpoint
    stages = pl.build(
        zfs.send("x", probe), zfs.receive("y", probe), src, dst, pipeline_settings(job), job.direct
    )
    found = {}
    for endpoint, programs in probes.needed(stages).items():
        output = ex.shell(endpoint, probes.remote_probe(programs, usage="zfs" in programs)).stdout
        missing = probes.parse_probe(output)
        if missing:
            raise PrerequisiteError(probes.message(endpoint.label, missing))
        found[endpoint] = (sorted(programs), capabilities.parse(*probes.parse_usage(output)))
    return found


def no_resume_notice(src: Endpoint, dst: Endpoint) -> str:
    return (
        f"no resumable transfers between {src.label} and {dst.label} (zfs receive -s / zfs send -t "
        "missing, e.g. zfs-fuse): an interrupted transfer starts again from the last common snapshot"
    )
