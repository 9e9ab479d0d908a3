"""Which snapshots a job carries and which it may prune (pure).

`snapshots.source: own` (the default): the job takes its own replication
snapshots (`<prefix>_<job>_<time>`) and sends everything between the
common one and the new one (`-I`); it prunes only its own, on both sides.

`snapshots.source: existing`: the job takes none (unless `take_at_end`)
and carries the existing snapshots whose names match `include` and none
of `exclude` (fnmatch globs such as `autosnap_*_daily`); on the
destination it prunes those by the job's counts (`destination.prune`),
never on the source, where the tool that made them prunes them.

`snapshots.take: false` (older job files): every snapshot is carried and
nothing is pruned, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from ..jobs.job import Job
from . import naming

OWN, EXISTING, EVERY = "own", "existing", "every"


@dataclass(frozen=True)
class Selection:
    stem: str  # the job's replication snapshot stem, `<prefix>_<job>_`
    source: str = OWN  # own, existing, or every (take: false)
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    prune_destination: bool = True

    def own(self, name: str) -> bool:
        return naming.is_ours(self.stem, name)

    def matches(self, name: str) -> bool:
        """A name the job's patterns select (the job's own snapshots always are)."""
        if self.own(name):
            return True
        return any(fnmatchcase(name, p) for p in self.include) and not any(
            fnmatchcase(name, p) for p in self.exclude
        )

    def carried(self, name: str) -> bool:
        """Whether a snapshot is replicated (own and every: all of them, as `-I` carries them)."""
        return self.source != EXISTING or self.matches(name)

    @property
    def filtered(self) -> bool:
        """Whether sends must skip snapshots the job does not carry."""
        return self.source == EXISTING

    def prunes_source(self, name: str) -> bool:
        return self.source != EVERY and self.own(name)

    def prunes_destination(self, name: str) -> bool:
        if self.source == EVERY:
            return False
        if self.source == EXISTING and self.prune_destination:
            return self.matches(name)
        return self.own(name)

    def describe(self) -> str:
        if self.source == EXISTING:
            skip = f", not {', '.join(self.exclude)}" if self.exclude else ""
            return f"existing snapshots named {', '.join(self.include)}{skip}"
        return (
            "every snapshot (snapshots.take: false)" if self.source == EVERY else "own replication snapshots"
        )


def for_job(job: Job) -> Selection:
    return Selection(
        job.snapshot_stem,
        job.snapshot_source,
        job.snapshot_include,
        job.snapshot_exclude,
        job.prune_destination,
    )
