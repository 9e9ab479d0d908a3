"""openzfs mode: both "hosts" are this machine, on the real OpenZFS.

Used where OpenZFS is present, because zfs-fuse must never run there. No
namespaces: each host is a set of file-backed pools with unique names
(``zsw<id>-<host>-<name>``, returned by ``create_pool``) and an altroot
under the sandbox state dir. One sshd listens on 127.0.0.1:<free port>;
callers reach it with ``ssh_client_options(host)`` (port, key, known_hosts).
Only pools this sandbox created are ever destroyed; existing pools are not
touched. Hiding tools per host is not possible here (NotImplementedError).
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import proc, state
from .host import Host
from .proc import Input
from .sshkit import keygen, known_hosts_entry, write_sshd_config
from .state import SandboxDirs

LOOPBACK = "127.0.0.1"
SSHD_TIMEOUT = 10


class LocalHost(Host):
    mode = "openzfs"

    def __init__(self, *, dirs: SandboxDirs, **kw):
        super().__init__(**kw)
        self.dirs = dirs

    def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: Input = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return proc.run(
            argv,
            where=self.name,
            check=check,
            input=input,
            env=self.environment(env),
            cwd=os.fspath(cwd) if cwd is not None else None,
            timeout=timeout,
        )

    def spawn(self, argv: Sequence[str], *, log: Path) -> subprocess.Popen[bytes]:
        daemon = proc.spawn(argv, log=log, env=self.environment())
        self.daemons.append(daemon)
        return daemon

    def pool_name(self, name: str) -> str:
        prefix = f"{self.dirs.pool_prefix}-{self.name}-"
        return name if name.startswith(prefix) else f"{prefix}{name}"

    def _before_create(self, real_name: str) -> None:
        # Recorded before creating, so a crash mid-create is still reaped.
        with open(self.dirs.pools_file, "a") as f:
            f.write(real_name + "\n")

    def pools(self) -> list[str]:
        """Only this host's pools: the machine's other pools are not ours."""
        prefix = self.pool_name("")
        return [p for p in super().pools() if p.startswith(prefix)]


def start(dirs: SandboxDirs) -> tuple[LocalHost, LocalHost]:
    """Start the shared sshd and return both hosts."""
    client = dirs.run / "client"
    client.mkdir(mode=0o700)
    client_key = keygen(client / "id_ed25519", "zsw-sandbox-client")
    (dirs.run / "authorized_keys").write_text(client_key + "\n")
    host_key = keygen(dirs.run / "ssh_host_ed25519_key", "zsw-sandbox-host")
    src, dst = (_make_host(dirs, name) for name in ("src", "dst"))
    try:
        port = _start_sshd(dirs, src)
    except BaseException:
        src.reap_daemons()
        raise
    for host in (src, dst):
        host.ssh_port = port
    entry = known_hosts_entry([LOOPBACK, "localhost"], port, host_key)
    (client / "known_hosts").write_text(entry + "\n")
    return src, dst


def stop(dirs: SandboxDirs, hosts: tuple[LocalHost, ...]) -> None:
    """Destroy this sandbox's pools (by recorded name) and stop sshd."""
    try:
        state.reap(dirs)
    finally:
        for host in hosts:
            host.reap_daemons()


def _make_host(dirs: SandboxDirs, name: str) -> LocalHost:
    client = dirs.run / "client"
    return LocalHost(
        name=name,
        hostname=socket.gethostname(),
        address=LOOPBACK,
        ssh_port=0,
        client_key=client / "id_ed25519",
        known_hosts=client / "known_hosts",
        altroot=str(dirs.run / "mnt" / name),
        image_dir=dirs.data / name,
        dirs=dirs,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _start_sshd(dirs: SandboxDirs, host: LocalHost) -> int:
    """Start sshd on a free loopback port; retry if another process took it."""
    config, log = dirs.run / "sshd_config", dirs.run / "sshd.log"
    # The pid file lets a later run reap this sshd if we are killed.
    pidfile = dirs.pids / "sshd.pid"
    # sshd refuses to start without its privilege separation directory.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    for _attempt in range(3):
        port = _free_port()
        write_sshd_config(
            config,
            listen=LOOPBACK,
            port=port,
            host_key=dirs.run / "ssh_host_ed25519_key",
            authorized_keys=dirs.run / "authorized_keys",
            pidfile=pidfile,
        )
        sshd = host.spawn(["/usr/sbin/sshd", "-D", "-f", str(config), "-E", str(log)], log=log)
        proc.wait_until(
            lambda d=sshd: pidfile.exists() or d.poll() is not None, timeout=SSHD_TIMEOUT, what="sshd"
        )
        if sshd.poll() is None:
            return port
        host.reap_daemons()  # most likely the port was taken meanwhile
    raise proc.SandboxError(f"sshd did not start; see {log}")
