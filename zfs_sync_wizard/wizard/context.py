"""What every wizard step needs, passed in rather than reached for.

`main` builds the real one; tests build one around a pipe input, a fake
clock and an Executor of their choosing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from ..running.execute import Executor
from . import resolve
from .prompts import UI


def local_now() -> datetime:
    return datetime.now().astimezone()


@dataclass
class Context:
    config_dir: Path
    state_dir: Path
    ui: UI = field(default_factory=UI)
    executor: Executor = field(default_factory=Executor)
    ssh_dir: Path = field(default_factory=lambda: Path.home() / ".ssh")
    now: Callable[[], datetime] = local_now
    preview_plan: Callable | None = None  # job -> plan text; None: the runner's dry run
    run_program: list | None = None  # how to start zfs-sync-run; None: cron.runner_program()
    state_dir_given: bool = False  # pass --state-dir on to cron lines and runs
    lookup: Callable[[str], str | None] = resolve.failure  # host -> why it does not resolve, or None

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"
