"""Transfer pipelines as data: stages with the host they run on (pure).

`build` turns one send step into stages for the job's topology:

  push   zfs send | pv | zstd | mbuffer | ssh dst 'mbuffer | zstd -d | zfs receive'
  pull   ssh src 'zfs send | zstd | mbuffer' | mbuffer | zstd -d | pv | zfs receive
  local  zfs send | pv | mbuffer | zfs receive
  relay  ssh src 'zfs send | zstd | mbuffer' | pv | ssh dst 'mbuffer | zstd -d | zfs receive'

`processes` groups consecutive stages on one remote host into a single ssh
process; `render` is the copy-pastable shell line, which is also exactly
what `--dry-run` prints.  On a remote host every stage but the last reports
its exit status on stderr (`zsw-exit:N:STATUS`), because ssh returns only
the last command's status and a POSIX sh has no pipefail; a marker that
never arrives counts as a failure.  The script runs under `env LC_ALL=C sh
-c`, whatever the remote login shell is.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..jobs.endpoint import LOCAL, Endpoint
from .ssh import quote, remote_command, ssh_argv

COMPRESSORS = {
    "zstd": (["zstd", "-q", "-c", "-3"], ["zstd", "-q", "-d", "-c"]),
    "zstd-fast": (["zstd", "-q", "-c", "-1"], ["zstd", "-q", "-d", "-c"]),  # compression: auto
    "lz4": (["lz4", "-q", "-c"], ["lz4", "-q", "-d", "-c"]),
}
_MARKER = re.compile(r"^zsw-exit:(\d+):(\d+)$")
BAR = "pv (bar)"  # the stage whose stderr is the terminal
DIRECT_MARKS = 100  # marker numbers of the stages behind a direct hop, apart from the outer ones


@dataclass(frozen=True)
class Stage:
    name: str
    argv: tuple[str, ...]
    endpoint: Endpoint = LOCAL
    inner: tuple = ()  # stages an ssh stage runs on a further host (direct remote-to-remote)


@dataclass(frozen=True)
class PipelineSettings:
    """How a job's stream is carried: compressor, buffer, rate limit, size for pv."""

    compression: str | None = None  # a key of COMPRESSORS ("zstd", "zstd-fast", "lz4") or None
    buffer: str | None = "128M"  # mbuffer memory, None for no mbuffer
    bandwidth_limit: str | None = None  # pv -L
    size: int | None = None  # pv -s, when ZFS gave an estimate
    bar: bool = False  # a terminal: a second pv draws its own bar (percentage, rate, ETA)


@dataclass(frozen=True)
class Process:
    """One process this machine starts: a local stage, or ssh running several."""

    stages: tuple[Stage, ...]
    argv: tuple[str, ...]

    @property
    def endpoint(self) -> Endpoint:
        return self.stages[0].endpoint

    @property
    def remote(self) -> bool:
        return not self.endpoint.is_local


def pv_argv(opts: PipelineSettings) -> list[str]:
    # numeric output, parsed by the runner: byte counts for the run record, a bar on a terminal
    argv = ["pv", "-f", "-n", "-b", "-t", "-i", "1"]
    if opts.size:
        argv += ["-s", str(opts.size)]
    if opts.bandwidth_limit:
        argv += ["-L", opts.bandwidth_limit]
    return argv


def pv_bar_argv(opts: PipelineSettings) -> list[str]:
    """pv's own bar on the terminal, beside the counting pv (which prints numbers only)."""
    argv = ["pv", "-f", "-p", "-t", "-e", "-r", "-b"]
    return argv + (["-s", str(opts.size)] if opts.size else [])


def mbuffer_argv(size: str) -> list[str]:
    return ["mbuffer", "-q", "-s", "128k", "-m", size]


def build(
    send: Sequence[str],
    receive: Sequence[str],
    src: Endpoint,
    dst: Endpoint,
    opts: PipelineSettings,
    direct: Endpoint | None = None,
) -> list[Stage]:
    """The stages of one transfer; `direct` is the destination as the source
    reaches it, to stream from source to destination without passing here."""
    crosses = src != dst
    comp, decomp = COMPRESSORS.get(opts.compression or "", (None, None)) if crosses else (None, None)
    send_side = [Stage("zfs send", tuple(send), src)]
    recv_side = [Stage("zfs receive", tuple(receive), dst)]
    pv = Stage("pv", tuple(pv_argv(opts)))
    bar = [Stage(BAR, tuple(pv_bar_argv(opts)))] if opts.bar else []  # only where pv runs here
    if comp:
        send_side.append(Stage(comp[0], tuple(comp), src))
        recv_side.insert(0, Stage(f"{decomp[0]} -d", tuple(decomp), dst))
    if opts.buffer:
        send_side.append(Stage("mbuffer", tuple(mbuffer_argv(opts.buffer)), src))
        if crosses:
            recv_side.insert(0, Stage("mbuffer", tuple(mbuffer_argv(opts.buffer)), dst))
    if direct is not None and not src.is_local and not dst.is_local:
        script = remote_script(recv_side, DIRECT_MARKS)
        hop = Stage(
            f"ssh from {src.label} to {direct.label}",
            (*ssh_argv(direct, None), remote_command(script)),
            src,
            tuple(recv_side),
        )
        return [send_side[0], replace(pv, endpoint=src)] + send_side[1:] + [hop]
    if src.is_local:
        return [send_side[0], pv, *bar] + send_side[1:] + recv_side  # pv counts the raw stream
    if dst.is_local:
        return send_side + recv_side[:-1] + [pv, *bar] + recv_side[-1:]
    return send_side + [pv, *bar] + recv_side


def remote_script(stages: Sequence[Stage], first_index: int) -> str:
    parts = []
    for offset, stage in enumerate(stages):
        cmd = quote(stage.argv)
        if offset < len(stages) - 1:
            cmd = f"{{ {cmd}; echo zsw-exit:{first_index + offset}:$? >&2; }}"
        parts.append(cmd)
    return " | ".join(parts)


def processes(stages: Sequence[Stage], control_dir: str | None) -> list[Process]:
    out: list[Process] = []
    i = 0
    while i < len(stages):
        stage = stages[i]
        if stage.endpoint.is_local:
            out.append(Process((stage,), stage.argv))
            i += 1
            continue
        j = i
        while j < len(stages) and stages[j].endpoint == stage.endpoint:
            j += 1
        group = tuple(stages[i:j])
        argv = tuple(ssh_argv(stage.endpoint, control_dir) + [remote_command(remote_script(group, i))])
        out.append(Process(group, argv))
        i = j
    return out


def render(stages: Sequence[Stage], control_dir: str | None = None) -> str:
    return " | ".join(quote(p.argv) for p in processes(stages, control_dir))


def markers(stderr_lines: Sequence[str]) -> tuple[dict[int, int], list[str]]:
    """Split a remote stderr into {stage index: exit status} and the other lines."""
    statuses: dict[int, int] = {}
    rest = []
    for line in stderr_lines:
        m = _MARKER.match(line.strip())
        if m:
            statuses[int(m.group(1))] = int(m.group(2))
        else:
            rest.append(line)
    return statuses, rest


def sample(send: Sequence[str], nbytes: int) -> list[str]:
    """How well a stream compresses: its first `nbytes` through zstd's fastest level
    (compression: auto's), counted: the bytes read on stdout, what zstd made of them on
    stderr (`sample_counts`).  Read-only: the send ends there (a broken pipe)."""
    compress = shell_join(COMPRESSORS["zstd-fast"][0])
    script = (
        f"{{ {shell_join(send)} 2>/dev/null | head -c {nbytes} | tee /dev/fd/3 | {compress} | wc -c >&2; }}"
        " 3>&1 | wc -c"
    )
    return ["sh", "-c", script]


def sample_counts(stdout: str, stderr: str) -> tuple[int | None, int | None]:
    """(bytes read, bytes compressed) from `sample`'s output; None for a count not there."""

    def last_number(text: str) -> int | None:
        lines = text.strip().splitlines()
        return int(lines[-1].strip()) if lines and lines[-1].strip().isdigit() else None

    return last_number(stdout), last_number(stderr)


def shell_join(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
