"""Keys, sshd configuration and known_hosts for sandbox hosts.

One client key pair serves both hosts. Each sshd has its own ed25519 host
key; ``known_hosts`` lists both, so clients can use the strict default
``StrictHostKeyChecking yes`` without ever accepting a key on first use.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from . import proc

if TYPE_CHECKING:
    from .host import Host


def keygen(path: Path, comment: str) -> str:
    """Create an ed25519 key pair at ``path``; return the public key line."""
    proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    return Path(f"{path}.pub").read_text().strip()


def known_hosts_entry(names: Iterable[str], port: int, public_key: str) -> str:
    """One known_hosts line; non-default ports use ssh's ``[name]:port`` form."""
    patterns = [n if port == 22 else f"[{n}]:{port}" for n in names]
    key_type, key_data = public_key.split()[:2]
    return f"{','.join(patterns)} {key_type} {key_data}"


def write_sshd_config(
    path: Path,
    *,
    listen: str,
    port: int,
    host_key: Path,
    authorized_keys: Path,
    pidfile: Path,
) -> None:
    # StrictModes no: the sandbox's state dirs are not what sshd expects of
    # a home directory. UsePAM no: there is no PAM session set up here.
    lines = [
        f"ListenAddress {listen}",
        f"Port {port}",
        f"HostKey {host_key}",
        f"AuthorizedKeysFile {authorized_keys}",
        f"PidFile {pidfile}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "UseDNS no",
        "PrintMotd no",
        "PrintLastLog no",
        "X11Forwarding no",
        "AcceptEnv LANG LC_*",
        # Tests open many connections at once (multiplexing off, parallel jobs).
        "MaxStartups 100:30:200",
        "MaxSessions 100",
        "LogLevel VERBOSE",
    ]
    path.write_text("\n".join(lines) + "\n")


def ssh_client_options(host: Host) -> list[str]:
    """ssh options to reach ``host`` from the machine's root namespace.

    In fuse mode the host's address is only routable from inside the other
    host (its network namespace), so this is mainly useful in openzfs mode,
    where both hosts are this machine and sshd listens on 127.0.0.1.
    """
    return [
        "-p",
        str(host.ssh_port),
        "-i",
        str(host.client_key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"UserKnownHostsFile={host.known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
    ]
