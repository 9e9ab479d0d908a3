"""fuse mode: two hosts on one machine, each with its own zfs-fuse and sshd.

Each host gets mount, UTS and network namespaces, kept alive by namespace
files bind-mounted under the sandbox's private ``ns/`` directory (so no
process has to stay around to hold them). Inside its mount namespace a
host has a fresh tmpfs on /run (its own zfs-fuse socket and lock, sshd's
privilege separation dir, pool mounts under ``ALTROOT``), its own
/var/lib/zfs, /etc/zfs/zfsrc, /etc/hosts and /root/.ssh, and an empty
/root/.bashrc (root's real one runs ``pyenv init`` for every ssh command).
One veth pair joins the two network namespaces. The sandbox state dir is
visible inside each host at the same path, so pid files, logs and keys are
reachable from both sides.

zfs-fuse (``--no-daemon``) and sshd (``-D``) run in the foreground as
children of the owning process, so ``stop`` can reap them at once: this
machine's init reaps orphans only every few seconds, and daemonized ones
would linger as zombies.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from . import proc, state
from .fusehost import FuseHost
from .sshkit import keygen, known_hosts_entry, write_sshd_config
from .state import SandboxDirs

SUBNET = "10.231.0"
HOSTS = (("src", "zsw-src", f"{SUBNET}.1"), ("dst", "zsw-dst", f"{SUBNET}.2"))
ALTROOT = "/run/pools"
BOOT_TIMEOUT = 15

_MOUNT_SETUP = r"""
set -eu
state=$1 hostdir=$2
hostname "$3"
ip link set lo up
# Park the state dir on an existing directory while /run is replaced.
mount --bind "$state" /var/lib/zfs
# Detach the inherited /run tree: otherwise this namespace pins the
# namespace files of every other sandbox, keeping their hosts alive.
for m in $(awk '$5 ~ "^/run(/|$)" {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m"
done
mount -t tmpfs -o mode=0755 zsw-run /run
mkdir -p "$state" /run/lock/zfs /run/zfs /run/sshd "$4"
mount --move /var/lib/zfs "$state"
mount --bind "$hostdir/var-lib-zfs" /var/lib/zfs
mount --bind "$hostdir/zfsrc" /etc/zfs/zfsrc
mount --bind "$state/hosts" /etc/hosts
mount --bind "$state/client" /root/.ssh
if [ -e /root/.bashrc ]; then mount --bind "$state/empty" /root/.bashrc; fi
"""


def host_dir(dirs: SandboxDirs, name: str) -> Path:
    return dirs.run / name


def start(dirs: SandboxDirs) -> tuple[FuseHost, FuseHost]:
    """Build and boot both hosts; on failure nothing is left running."""
    src, dst = (_make_host(dirs, name, hostname, address) for name, hostname, address in HOSTS)
    try:
        _write_files(dirs)
        _private_ns_dir(dirs.ns)
        proc.run_parallel([lambda h=h: _make_namespaces(dirs, h) for h in (src, dst)])
        proc.run(
            ["ip", "link", "add", "eth0", "netns", str(src.ns_files["net"]), "type", "veth"]
            + ["peer", "name", "eth0", "netns", str(dst.ns_files["net"])]
        )
        proc.run_parallel([lambda h=h: _boot(dirs, h) for h in (src, dst)])
        for host in (src, dst):
            host.remember_boot_mounts()
    except BaseException:
        stop(dirs, (src, dst), graceful=False)
        raise
    return src, dst


def stop(dirs: SandboxDirs, hosts: tuple[FuseHost, ...], *, graceful: bool = True) -> None:
    """Export every pool (so zfs-fuse flushes), then kill and unmount all."""
    export = 'zfs umount -a; for p in $(zpool list -H -o name); do zpool export "$p"; done'
    calls = [lambda h=h: h.sh(export, check=False, timeout=10, cwd="/") for h in hosts]
    try:
        if graceful:
            proc.run_parallel(calls)
    except proc.SandboxError:
        pass  # a hung daemon is killed below anyway
    try:
        state.reap(dirs)
    finally:
        for host in hosts:
            host.reap_daemons()


def _make_host(dirs: SandboxDirs, name: str, hostname: str, address: str) -> FuseHost:
    return FuseHost(
        name=name,
        hostname=hostname,
        address=address,
        ssh_port=22,
        client_key=dirs.run / "client" / "id_ed25519",
        known_hosts=dirs.run / "client" / "known_hosts",
        altroot=ALTROOT,
        image_dir=dirs.data / name,
        ns_dir=dirs.ns,
    )


def _write_files(dirs: SandboxDirs) -> None:
    """Keys, sshd configs, known_hosts, /etc/hosts and per-host zfs dirs."""
    client = dirs.run / "client"
    client.mkdir(mode=0o700)
    (dirs.run / "empty").write_bytes(b"")
    client_key = keygen(client / "id_ed25519", "zsw-sandbox-client")
    (dirs.run / "authorized_keys").write_text(client_key + "\n")
    known, etc_hosts = [], [Path("/etc/hosts").read_text()]
    for name, hostname, address in HOSTS:
        hdir = host_dir(dirs, name)
        (hdir / "var-lib-zfs").mkdir(parents=True)
        shutil.copyfile("/etc/zfs/zfsrc", hdir / "zfsrc")
        host_key = keygen(hdir / "ssh_host_ed25519_key", f"zsw-sandbox-{name}")
        known.append(known_hosts_entry([address, hostname], 22, host_key))
        etc_hosts.append(f"{address} {hostname}\n")
        write_sshd_config(
            hdir / "sshd_config",
            listen=address,
            port=22,
            host_key=hdir / "ssh_host_ed25519_key",
            authorized_keys=dirs.run / "authorized_keys",
            pidfile=hdir / "sshd.pid",
        )
    (client / "known_hosts").write_text("\n".join(known) + "\n")
    (dirs.run / "hosts").write_text("".join(etc_hosts))
    # The bind mount over /root/.ssh needs a mount point; ssh would create it.
    Path("/root/.ssh").mkdir(mode=0o700, exist_ok=True)


def _private_ns_dir(ns: Path) -> None:
    # Namespace files can only be bind-mounted below a private mount.
    ns.mkdir()
    proc.run(["mount", "--bind", str(ns), str(ns)])
    proc.run(["mount", "--make-private", str(ns)])


def _make_namespaces(dirs: SandboxDirs, host: FuseHost) -> None:
    for path in host.ns_files.values():
        path.touch()
    files = host.ns_files
    proc.run(
        ["unshare", f"--mount={files['mnt']}", f"--uts={files['uts']}", f"--net={files['net']}"]
        + ["--propagation", "private", "--", "sh", "-c", _MOUNT_SETUP, "sh"]
        + [str(dirs.run), str(host_dir(dirs, host.name)), host.hostname, ALTROOT],
        where=host.name,
    )


def _boot(dirs: SandboxDirs, host: FuseHost) -> None:
    hdir = host_dir(dirs, host.name)
    host.sh('ip addr add "$1/24" dev eth0 && ip link set eth0 up', host.address, cwd="/")
    # In the foreground zfs-fuse writes no pid file; ours is for humans and tests.
    zfs_fuse = host.spawn(["zfs-fuse", "--no-daemon", "--no-kstat-mount"], log=hdir / "zfs-fuse.log")
    (hdir / "zfs-fuse.pid").write_text(f"{zfs_fuse.pid}\n")
    _wait_for_daemon(host, "zfs-fuse", zfs_fuse, hdir / "zfs-fuse.log", lambda: _zfs_answers(host))
    host.sshd_log = hdir / "sshd.log"  # tests count connections in it
    sshd = host.spawn(
        ["/usr/sbin/sshd", "-D", "-f", str(hdir / "sshd_config"), "-E", str(hdir / "sshd.log")],
        log=hdir / "sshd.log",
    )
    # sshd writes its pid file once it listens.
    _wait_for_daemon(host, "sshd", sshd, hdir / "sshd.log", (hdir / "sshd.pid").exists)


def _zfs_answers(host: FuseHost) -> bool:
    return host.run(["zpool", "list", "-H"], check=False, cwd="/").returncode == 0


def _wait_for_daemon(
    host: FuseHost,
    name: str,
    daemon: subprocess.Popen[bytes],
    log: Path,
    ready: Callable[[], bool],
) -> None:
    def check() -> bool:
        if daemon.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise proc.SandboxError(f"on {host.name}: {name} exited {daemon.returncode}:\n{tail}")
        return ready()

    proc.wait_until(check, timeout=BOOT_TIMEOUT, what=f"{name} on {host.name}")
