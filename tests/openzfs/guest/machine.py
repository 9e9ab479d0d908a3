"""qemu processes, their keys and state, and reaping what a dead session left.

State of session <id>: /run/zsw-openzfs/<id>/ (owner pid and start time,
keys, ssh ControlMaster sockets, pid files) and /var/tmp/zsw-openzfs/<id>/
(qcow2 overlays, blank disks, console and qemu logs). qemu and ssh masters
die with the thread that started them (PR_SET_PDEATHSIG) when that is the
main thread; ``reap_stale`` kills whatever a dead session still left.
"""

from __future__ import annotations

import ctypes
import fcntl
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from dev.sandbox import proc, state
from dev.sandbox.proc import SandboxError
from dev.sandbox.sshkit import keygen, known_hosts_entry

RUN_BASE = Path("/run/zsw-openzfs")
DATA_BASE = Path("/var/tmp/zsw-openzfs")

LOOPBACK = "127.0.0.1"
GATEWAY = "10.0.2.2"  # this machine's loopback, as seen from a guest
BLANK_DISKS = 2
BLANK_DISK_SIZE = "2G"
BOOT_TIMEOUT = 240  # software emulation, two guests on two cores
QEMU_COMM = "qemu-system-x86"  # /proc/PID/comm of qemu-system-x86_64


def accelerator() -> list[str]:
    """KVM where the CPU offers hardware virtualization, else software emulation."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if os.access("/dev/kvm", os.R_OK | os.W_OK) and (" vmx" in flags or " svm" in flags):
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi", "-cpu", "max"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: qemu and ssh die with the
    # thread that started them, so a killed test run leaves no guest behind.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(argv: Sequence[str], *, log: Path) -> subprocess.Popen[bytes]:
    """Start a daemon (qemu, an ssh master) as our child, output to ``log``.

    Started from the main thread, it dies with this process; from another
    thread it would die with that thread, so there it only gets reaped.
    """
    in_main = threading.current_thread() is threading.main_thread()
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"PATH": proc.SYSTEM_PATH, "LANG": "C.UTF-8"},
            start_new_session=True,
            preexec_fn=_die_with_parent if in_main else None,
        )


def write_pidfile(path: Path, pid: int) -> None:
    path.write_text(f"{pid} {proc.start_time(pid)}\n")


# -- one qemu ---------------------------------------------------------------------


class PortTaken(Exception):
    """qemu could not bind its forwarded ssh port (another process took it)."""


class QemuExited(SandboxError):
    pass


def console_log(data_dir: Path, name: str) -> Path:
    return data_dir / f"{name}-console.log"


def launch(
    *,
    name: str,
    session: str,
    image: Path,
    run_dir: Path,
    data_dir: Path,
    ssh_port: int,
    setup_tar: Path,
    cpus: int,
    memory_mb: int,
) -> subprocess.Popen[bytes]:
    """Boot guest ``name`` from a fresh overlay on ``image``, with blank disks."""
    overlay = data_dir / f"{name}-root.qcow2"
    base = image / "image.qcow2"
    proc.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(overlay)])
    # Explicit virtio-blk devices in a fixed order: vda root, then vdb, vdc blank.
    drives = [f"file={overlay},format=qcow2,discard=unmap"]
    for i in range(BLANK_DISKS):
        disk = data_dir / f"{name}-disk{i + 1}.qcow2"
        proc.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), BLANK_DISK_SIZE])
        drives.append(f"file={disk},format=qcow2")
    drive_args = []
    for i, drive in enumerate(drives):
        serial = "zsw-root" if i == 0 else f"zsw-disk{i}"
        drive_args += [
            "-drive",
            f"{drive},if=none,id=drive{i},cache=unsafe",
            "-device",
            f"virtio-blk-pci,drive=drive{i},serial={serial}",
        ]
    # Hostname, machine id and ZFS host id differ per guest; keys come by fw_cfg.
    cmdline = " ".join(
        [
            "root=/dev/vda rw console=ttyS0 quiet loglevel=3 mitigations=off net.ifnames=0",
            f"systemd.hostname=zsw-{name} systemd.machine_id={secrets.token_hex(16)}",
            f"systemd.show_status=false spl.spl_hostid=0x{secrets.token_hex(4)}",
        ]
    )
    argv = [
        "qemu-system-x86_64",
        "-name",
        f"zsw-openzfs-{session}-{name}",
        *accelerator(),
        "-smp",
        str(cpus),
        "-m",
        str(memory_mb),
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-serial",
        f"file:{console_log(data_dir, name)}",
        "-kernel",
        str(image / "vmlinuz"),
        "-initrd",
        str(image / "initrd.img"),
        "-append",
        cmdline,
        *drive_args,
        "-netdev",
        f"user,id=net0,hostfwd=tcp:{LOOPBACK}:{ssh_port}-:22",
        "-device",
        "virtio-net-pci,netdev=net0",
        "-device",
        "virtio-rng-pci",
        "-fw_cfg",
        f"name=opt/zsw/setup,file={setup_tar}",
    ]
    qemu = spawn(argv, log=data_dir / f"{name}-qemu.log")
    write_pidfile(run_dir / "pids" / f"qemu-{name}.pid", qemu.pid)
    return qemu


def wait_for_sshd(name: str, qemu: subprocess.Popen[bytes], ssh_port: int, data_dir: Path) -> None:
    """Until the guest's sshd sends its banner through the forwarded port."""
    qemu_log, console = data_dir / f"{name}-qemu.log", console_log(data_dir, name)

    def banner() -> bool:
        if qemu.poll() is not None:
            text = tail(qemu_log)
            if "host forwarding" in text:
                raise PortTaken()
            raise QemuExited(
                f"qemu for guest {name} exited {qemu.returncode}: {text}\nconsole:\n{tail(console)}"
            )
        try:
            with socket.create_connection((LOOPBACK, ssh_port), timeout=2) as s:
                s.settimeout(3)
                return s.recv(8).startswith(b"SSH-")
        except OSError:
            return False

    try:
        proc.wait_until(banner, timeout=BOOT_TIMEOUT, what=f"guest {name}'s sshd", interval=0.5)
    except QemuExited:
        raise
    except SandboxError as e:
        raise SandboxError(f"{e}\nconsole of guest {name}:\n{tail(console, 40)}") from None


# -- keys -------------------------------------------------------------------------


class Keys:
    def __init__(self, client_key: Path, known_hosts: Path, setup_tar: dict[str, Path]):
        self.client_key = client_key
        self.known_hosts = known_hosts
        self.setup_tar = setup_tar


def make_keys(run_dir: Path, names: Sequence[str], ports: Mapping[str, int]) -> Keys:
    """Fresh keys for this boot: one client key here, one shared by the
    guests for reaching each other, a host key per guest; known_hosts for
    this machine (127.0.0.1:port) and for the guests (10.0.2.2:port)."""
    keys = run_dir / "keys"
    shutil.rmtree(keys, ignore_errors=True)
    keys.mkdir(mode=0o700)
    client_pub = keygen(keys / "client", "zsw-openzfs-client")
    guest_pub = keygen(keys / "guest", "zsw-openzfs-guest")
    host_pub = {name: keygen(keys / f"host-{name}", f"zsw-{name}") for name in names}
    known_hosts = keys / "known_hosts"
    known_hosts.write_text(
        "".join(known_hosts_entry([LOOPBACK], ports[n], host_pub[n]) + "\n" for n in names)
    )
    in_guests = "".join(known_hosts_entry([GATEWAY], ports[n], host_pub[n]) + "\n" for n in names)
    setup = {}
    for name in names:
        files = {
            "etc/ssh/ssh_host_ed25519_key": ((keys / f"host-{name}").read_bytes(), 0o600),
            "etc/ssh/ssh_host_ed25519_key.pub": (host_pub[name].encode() + b"\n", 0o644),
            "root/.ssh/authorized_keys": (f"{client_pub}\n{guest_pub}\n".encode(), 0o600),
            "root/.ssh/id_ed25519": ((keys / "guest").read_bytes(), 0o600),
            "root/.ssh/id_ed25519.pub": (guest_pub.encode() + b"\n", 0o644),
            "root/.ssh/known_hosts": (
                (in_guests + known_hosts_entry(["localhost", LOOPBACK], 22, host_pub[name]) + "\n").encode(),
                0o644,
            ),
        }
        setup[name] = keys / f"setup-{name}.tar"
        with tarfile.open(setup[name], "w") as tar:
            for path, (content, mode) in files.items():
                info = tarfile.TarInfo(path)
                info.size, info.mode, info.mtime = len(content), mode, int(time.time())
                tar.addfile(info, io.BytesIO(content))
    return Keys(keys / "client", known_hosts, setup)


# -- stale sessions -------------------------------------------------------------------


def reap_stale(run_base: Path = RUN_BASE, data_base: Path = DATA_BASE) -> list[str]:
    """Kill the qemu and ssh processes of every session whose owner is dead,
    and remove its directories; return the session ids reaped."""
    run_base.mkdir(mode=0o755, parents=True, exist_ok=True)
    reaped = []
    with open(run_base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        live = set()
        for entry in sorted(run_base.iterdir()):
            if not entry.is_dir():
                continue
            dirs = state.SandboxDirs(entry.name, entry, data_base / entry.name)
            if state.owner_alive(dirs):
                live.add(entry.name)
            else:
                remove(dirs)
                reaped.append(entry.name)
        # Also qemu/ssh whose state directory is gone (e.g. /run was cleared).
        proc.kill_all(session_processes(run_base, data_base, exclude=live))
        if data_base.is_dir():
            for entry in data_base.iterdir():
                if entry.name not in live and not (run_base / entry.name).exists():
                    shutil.rmtree(entry, ignore_errors=True)
    return reaped


def remove(dirs: state.SandboxDirs) -> None:
    proc.kill_all(session_processes(dirs.run.parent, dirs.data.parent, only=dirs.id))
    shutil.rmtree(dirs.run, ignore_errors=True)
    shutil.rmtree(dirs.data, ignore_errors=True)


def session_processes(
    run_base: Path, data_base: Path, *, only: str | None = None, exclude: set[str] = frozenset()
) -> list[int]:
    """qemu and ssh processes whose command line names a session's directory."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or proc.command_name(int(entry.name)) not in (QEMU_COMM, "ssh"):
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                args = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        for arg in args:
            sid = _session_in(arg, run_base) or _session_in(arg, data_base)
            if sid and sid not in exclude and (only is None or sid == only):
                found.append(int(entry.name))
                break
    return found


def _session_in(arg: str, base: Path) -> str | None:
    # An argument mentioning <base>/<id>/... (drive files, ControlPath=...).
    marker = f"{base}/"
    at = arg.find(marker)
    if at < 0:
        return None
    rest = arg[at + len(marker) :]
    sid = rest.split("/", 1)[0]
    return sid if "/" in rest and sid else None
