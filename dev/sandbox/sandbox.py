"""``Sandbox``: start and stop a pair of throwaway ZFS hosts."""

from __future__ import annotations

import time
from pathlib import Path

from . import fuse, openzfs, state
from .detect import fuse_mode_unavailable, openzfs_present
from .host import Host
from .proc import SandboxError

MODES = ("fuse", "openzfs")


class Sandbox:
    """Two ZFS hosts, ``src`` and ``dst``; use as a context manager.

    ``mode`` is "fuse" (zfs-fuse, namespaces) or "openzfs" (this machine's
    OpenZFS); by default openzfs where OpenZFS is present, else fuse.
    ``base_dir`` holds state (default /run/zsw-sandbox), ``data_dir`` pool
    images (default /var/tmp/zsw-sandbox).
    """

    def __init__(
        self,
        base_dir: str | Path | None = None,
        *,
        data_dir: str | Path | None = None,
        mode: str | None = None,
    ) -> None:
        self.run_base = Path(base_dir) if base_dir else state.DEFAULT_RUN_BASE
        self.data_base = Path(data_dir) if data_dir else state.DEFAULT_DATA_BASE
        self.mode = mode or ("openzfs" if openzfs_present() else "fuse")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        self.dirs: state.SandboxDirs | None = None
        self._hosts: tuple[Host, Host] | None = None
        self.reaped: list[str] = []
        self.timings: dict[str, float] = {}

    def __repr__(self) -> str:
        sid = self.dirs.id if self.dirs else "-"
        return f"<Sandbox {sid} mode={self.mode} running={self.running}>"

    @property
    def id(self) -> str:
        return self._require_dirs().id

    @property
    def running(self) -> bool:
        return self._hosts is not None

    @property
    def src(self) -> Host:
        return self._require_hosts()[0]

    @property
    def dst(self) -> Host:
        return self._require_hosts()[1]

    @property
    def hosts(self) -> tuple[Host, Host]:
        return self._require_hosts()

    def start(self) -> Sandbox:
        """Reap dead sandboxes, then build and boot both hosts."""
        if self.running:
            return self
        self._check_mode()
        began = time.monotonic()
        self.reaped = state.reap_stale(self.run_base, self.data_base)
        self.dirs = state.create(self.run_base, self.data_base, self.mode)
        backend = fuse if self.mode == "fuse" else openzfs
        try:
            self._hosts = backend.start(self.dirs)
        except BaseException:
            state.reap(self.dirs)
            self.dirs = None
            raise
        self.timings["start"] = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Tear everything down; safe to call twice or after a failed start."""
        if self._hosts is None or self.dirs is None:
            return
        began = time.monotonic()
        backend = fuse if self.mode == "fuse" else openzfs
        try:
            backend.stop(self.dirs, self._hosts)
        finally:
            self._hosts = None
            self.timings["stop"] = time.monotonic() - began

    def reset(self) -> None:
        """Return both hosts to their just-started state (between tests)."""
        for host in self.hosts:
            host.reset()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _check_mode(self) -> None:
        if self.mode == "fuse":
            reason = fuse_mode_unavailable()
            if reason:
                raise SandboxError(reason)
        elif not openzfs_present():
            raise SandboxError("openzfs mode needs OpenZFS on this machine")

    def _require_dirs(self) -> state.SandboxDirs:
        if self.dirs is None:
            raise SandboxError("the sandbox is not started")
        return self.dirs

    def _require_hosts(self) -> tuple[Host, Host]:
        if self._hosts is None:
            raise SandboxError("the sandbox is not started")
        return self._hosts
