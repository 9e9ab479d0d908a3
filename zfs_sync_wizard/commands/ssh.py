"""The ssh command lines that reach an endpoint (pure).

One master connection per host per run: every ssh argv carries the same
ControlPath in a private directory, the first command opens the master
(ControlMaster=auto) and `close_argv` ends it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from ..jobs.endpoint import DEFAULT_PORT, Endpoint

CONNECT_TIMEOUT = 15


def ssh_argv(endpoint: Endpoint, control_dir: str | None, extra: Sequence[str] = ()) -> list[str]:
    """The `ssh ... host` prefix; the remote command is appended by the caller."""
    argv = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}"]
    argv += ["-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"]
    if endpoint.port != DEFAULT_PORT:
        argv += ["-p", str(endpoint.port)]
    if endpoint.ssh_key:
        argv += ["-i", endpoint.ssh_key, "-o", "IdentitiesOnly=yes"]
    if endpoint.known_hosts:
        argv += ["-o", f"UserKnownHostsFile={endpoint.known_hosts}"]
    if control_dir:
        argv += [
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={control_dir}/%C",
            "-o",
            "ControlPersist=60",
        ]
    argv += list(extra)
    argv.append(endpoint.target)  # validated: never starts with "-"
    return argv


def remote_command(script: str) -> str:
    """What ssh hands the remote login shell for `script`: a POSIX sh in the C
    locale runs it, whatever the login shell (csh, fish) and the language, so
    `{ ...; }`, `$?` and the English messages the runner reads hold there too."""
    return "env LC_ALL=C sh -c " + shlex.quote(script)


def remote_argv(endpoint: Endpoint, control_dir: str | None, script: str) -> list[str]:
    """Run one POSIX shell command line on the endpoint."""
    return ssh_argv(endpoint, control_dir) + [remote_command(script)]


def close_argv(endpoint: Endpoint, control_dir: str) -> list[str]:
    return ssh_argv(endpoint, control_dir, extra=["-O", "exit"])


def quote(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
