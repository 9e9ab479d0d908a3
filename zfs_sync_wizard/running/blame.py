"""Which stage of a pipeline caused its failure (pure): every stage's exit
status, ssh's and the remote stages' told apart, and the culprit among them.

running/execute.py collects the statuses and stderr tails; this reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..commands import pipeline as pl
from ..commands.ssh import quote
from ..errors import StageFailed

SSH_ERROR = 255
SIGPIPE_STATUSES = (-13, 141)


@dataclass
class StageStatus:
    index: int
    stage: pl.Stage
    status: int | None  # None: a remote stage whose exit status never arrived
    stderr: list


def stage_statuses(procs, statuses, tails) -> list:
    """Per-stage exit statuses, with ssh's and the remote stages' told apart.

    A remote stage other than the last reports its status by a marker; one
    whose marker never came is a failure (status None), unless the ssh
    connection itself died, which is then the failure.  The stages behind a
    direct hop report theirs through the hop, numbered from DIRECT_MARKS.
    """
    out, index = [], 0
    for proc, status, tail in zip(procs, statuses, tails):
        if not proc.remote:
            out.append(StageStatus(index, proc.stages[0], status, list(tail)))
            index += 1
            continue
        marks, lines = pl.markers(tail)
        ssh_failed = connection_died(status) and not _hop_reported(proc, index, marks)
        if ssh_failed:  # the remote stages' fate is unknown
            ssh_stage = pl.Stage(f"ssh to {proc.endpoint.label}", proc.argv)
            out.append(StageStatus(-1, ssh_stage, status, lines))
        for offset, stage in enumerate(proc.stages):
            if offset == len(proc.stages) - 1:
                stage_status = 0 if ssh_failed else status
            else:
                stage_status = marks.get(index, 0 if ssh_failed else None)
            if stage.inner:
                out += _behind_hop(stage, stage_status, marks, lines, index)
            else:
                out.append(StageStatus(index, stage, stage_status, lines))
            index += 1
    return out


def _behind_hop(hop: pl.Stage, status: int | None, marks: dict, lines: list, index: int) -> list:
    """A direct hop's own ssh, then the stages it runs on the far host."""
    out = []
    hop_failed = status is not None and connection_died(status)
    if hop_failed:
        out.append(StageStatus(index, hop, status, lines))
    for offset, inner in enumerate(hop.inner):
        if offset == len(hop.inner) - 1:
            inner_status = 0 if hop_failed else status
        else:
            inner_status = marks.get(pl.DIRECT_MARKS + offset, 0 if hop_failed or status is None else None)
        out.append(StageStatus(pl.DIRECT_MARKS + offset, inner, inner_status, lines))
    return out


def _hop_reported(proc, first: int, marks: dict) -> bool:
    """A process ending in a direct hop whose stages here all reported: the 255 is the hop's own."""
    return bool(proc.stages[-1].inner) and all(first + k in marks for k in range(len(proc.stages) - 1))


def connection_died(status: int) -> bool:
    """ssh's own failure (255) or ssh killed by a signal."""
    return status == SSH_ERROR or status < 0


def culprit(stages: list) -> StageFailed | None:
    """The stage that caused the failure.

    A failing stage makes the stages upstream of it fail with a broken pipe
    (or SIGPIPE) and the ones downstream see a truncated stream; so the
    culprit is the first failing stage that did not merely break its pipe
    to a failing stage further down.
    """
    failed = [s for s in stages if s.status != 0]
    if not failed:
        return None
    # by cause: an ssh connection that died takes its peers' broken pipes with it, whichever ends first
    culprit = next((s for s in failed if _is_ssh(s) and connection_died(s.status)), None)
    for position, s in enumerate(failed if culprit is None else ()):
        downstream_failed = position < len(failed) - 1
        if not (downstream_failed and _broke_pipe(s)):
            culprit = s
            break
    culprit = culprit or failed[-1]
    others = [f"{s.stage.name} exit {s.status}" for s in failed if s is not culprit]
    return StageFailed(
        culprit.stage.name,
        culprit.stage.endpoint.label,
        quote(culprit.stage.argv),
        culprit.status,
        "\n".join(culprit.stderr),
        others,
    )


def _is_ssh(s: StageStatus) -> bool:
    return s.stage.name.startswith("ssh ") and s.status is not None


def _broke_pipe(s: StageStatus) -> bool:
    return s.status in SIGPIPE_STATUSES or "broken pipe" in "\n".join(s.stderr).lower()
