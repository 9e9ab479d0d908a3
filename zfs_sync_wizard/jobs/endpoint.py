"""Where one side of a job lives: this machine, or an SSH host with its port,
key and known_hosts file."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PORT = 22


@dataclass(frozen=True)
class Endpoint:
    """This machine (host None) or an SSH host."""

    host: str | None = None
    user: str | None = None
    port: int = DEFAULT_PORT
    ssh_key: str | None = None
    known_hosts: str | None = None  # a known_hosts file of its own, else ssh's default

    @property
    def is_local(self) -> bool:
        return self.host is None

    @property
    def target(self) -> str:
        return f"{self.user}@{self.host}" if self.user else str(self.host)

    @property
    def label(self) -> str:
        """How messages name this side."""
        if self.is_local:
            return "localhost"
        return self.target if self.port == DEFAULT_PORT else f"{self.target}:{self.port}"


LOCAL = Endpoint()
