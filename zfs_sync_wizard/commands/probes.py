"""Probes (pure): which programs each side needs and which package has them,
the shell line that looks for them, and whether a destination is empty.

The programs are read off the job's own pipeline stages, so the check can
never drift from what a run starts.  A missing program is an error naming
the host and the package to install; nothing is ever installed for you.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from ..jobs.endpoint import LOCAL, Endpoint
from .pipeline import Stage
from .ssh import quote
from .zfs import value

PACKAGES = {
    "zfs": "zfsutils-linux (OpenZFS) or zfs-fuse",
    "pv": "pv",
    "mbuffer": "mbuffer",
    "zstd": "zstd",
    "lz4": "lz4",
    "ssh": "openssh-client",
}


def package_for(program: str) -> str:
    return PACKAGES.get(program, program)


def needed(stages: Sequence[Stage]) -> dict[Endpoint, set[str]]:
    """Programs each endpoint needs to run these stages (ssh on this machine for remote ones)."""
    need: dict[Endpoint, set[str]] = {}
    for stage in stages:
        for endpoint, programs in needed(stage.inner).items():  # checked from here, like the listings
            need.setdefault(endpoint, set()).update(programs)
        need.setdefault(stage.endpoint, set()).add(stage.argv[0])
        if not stage.endpoint.is_local:
            need.setdefault(LOCAL, set()).add("ssh")
    return need


SEND_MARK, RECEIVE_MARK = "zsw-probe:send", "zsw-probe:receive"


def missing_locally(programs: set[str]) -> list[str]:
    return sorted(p for p in programs if shutil.which(p) is None)


def remote_probe(programs: set[str], usage: bool = False) -> str:
    """A shell line that prints `missing NAME` for each program not on PATH and,
    with `usage`, then the usage of zfs send and receive (for capabilities.parse)."""
    # unrolled, no loop variable: the grammar zfs-sync-gate reads (gate.py)
    script = "; ".join(
        f"command -v {quote([p])} >/dev/null 2>&1 || echo {quote(['missing ' + p])}" for p in sorted(programs)
    )
    if usage:
        script += f"; echo {SEND_MARK}; zfs send 2>&1; echo {RECEIVE_MARK}; zfs receive 2>&1; true"
    return script


def parse_probe(output: str) -> list[str]:
    head = output.partition(SEND_MARK)[0]
    return sorted(line.split(" ", 1)[1] for line in head.splitlines() if line.startswith("missing "))


def parse_usage(output: str) -> tuple[str, str]:
    """(zfs send usage, zfs receive usage) from a probe run with `usage`."""
    send_usage, _, receive_usage = output.partition(SEND_MARK)[2].partition(RECEIVE_MARK)
    return send_usage, receive_usage


def message(host: str, missing: Sequence[str]) -> str:
    items = "; ".join(f"'{p}' (package {package_for(p)})" for p in missing)
    return f"missing on {host}: {items}. Install it there and run again; nothing was changed."


def empty_probe(dataset: str) -> str:
    """Prints `empty` when `dataset` is mounted and holds no file: a destination
    made by hand but never written to, which can be received over safely."""
    mounted, mountpoint = quote(value("mounted", dataset)), quote(value("mountpoint", dataset))
    return f'[ "$({mounted})" = yes ] && [ -z "$(ls -A "$({mountpoint})")" ] && echo empty'


ANSWER_MARK = "zsw-answer:"


def answered(argv: Sequence[str]) -> str:
    """A shell line that runs `argv` and then reports its exit status on stderr: the mark
    tells the command's own answer from a connection that failed before it came."""
    return f"{quote(argv)}; echo {ANSWER_MARK}$? >&2"


def parse_answer(stderr: str) -> tuple[int | None, str]:
    """(the command's exit status, or None when no answer came back; stderr without the mark)."""
    status, rest = None, []
    for line in stderr.splitlines():
        if line.startswith(ANSWER_MARK) and line[len(ANSWER_MARK) :].isdigit():
            status = int(line[len(ANSWER_MARK) :])
        else:
            rest.append(line)
    return status, "\n".join(rest)
