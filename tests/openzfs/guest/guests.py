"""Two qemu guests with real OpenZFS 2.x, reachable over ssh on loopback ports.

The image comes from ``build-image`` (cached; see docs/openzfs-tier.md).
Each guest boots from its own qcow2 overlay on the cached image, with two
blank disks for pools, and forwards ``127.0.0.1:<ssh_port>`` to its sshd.
From inside a guest, the other guest's sshd is ``10.0.2.2:<its ssh_port>``
(qemu user networking maps 10.0.2.2 to this machine's loopback).

API::

    with Guests() as g:                  # Guests(*, names=("a", "b"), memory_mb=1024,
        a, b = g.a, g.b                  #        cpus=1, repo_root=None)
        g.timings                        # {"boot": s, ...}; g.reset() between tests
        a.name, a.hostname               # "a", "zsw-a"
        a.ssh_port                       # 127.0.0.1:ssh_port here, 10.0.2.2:ssh_port in a guest
        a.address_from_host              # "127.0.0.1"
        a.address_from_guests            # "10.0.2.2"
        a.client_key, a.known_hosts      # files here, for ssh -i / UserKnownHostsFile
        a.guest_key, a.guest_known_hosts # the same inside the guests (/root/.ssh/...)
        a.ssh_options()                  # ["-p", port, "-i", key, "-o", ...] for ssh here
        a.job_side("tank/fs")            # job-file side reaching a from here; via=b: from b
        a.run(argv, check=True, input=None, env=None, timeout=60, cwd=None)
        a.sh(script, *args, **run_kwargs)                 # sh -c script sh *args
        a.spawn(argv, env=None)          # a background command (a local ssh Popen)
        a.create_pool("tank", size="256M", vdev=None, properties=None)
        a.disks                          # blank disks for vdev=, e.g. "/dev/vdb"
        a.destroy_pool("tank"); a.pools()
        a.write_file("tank/fs", "d/f", b"..."); a.write_random("tank/fs", "big", 4 << 20)
        a.checksum("tank/fs"), a.checksum("tank/fs@s1")  # sha256 of the tree (treehash.py)
        a.snapshots("tank/fs")           # {"s1": "guid", ...}, oldest first
        a.props("tank/fs")               # zfs get -Hp -r all tank/fs
        a.prop("tank/fs", "receive_resume_token")       # one value ("-" if unset)
        a.put_repo()                     # this checkout -> /opt/zsw (PYTHONPATH there)
        a.run([PRODUCT_PYTHON, "-m", "zfs_sync_wizard.cli.run", ...])
        a.pids("zfs receive"); a.wait_for_process("zfs receive", timeout=30)
        a.kill("zfs receive")            # pkill -KILL -f; returns how many were signalled

Commands run through one persistent ssh connection per guest (ControlMaster),
with a clean environment: PATH (system dirs, then /opt/zsw-venv/bin),
HOME=/root, LANG=C.UTF-8, PYTHONPATH=/opt/zsw, plus caller-given env. A
failed command raises ``CommandError`` (tier 1's), naming the guest.

State: /run/zsw-openzfs/<id>/ (owner, keys, control sockets, pid files) and
/var/tmp/zsw-openzfs/<id>/ (overlays, blank disks, console logs). ``start``
first kills every qemu and ssh left by a session whose owner is dead and
removes its directories; qemu also dies with its owner (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import io
import shlex
import subprocess
import tarfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from dev.sandbox import proc, state
from dev.sandbox.proc import CommandError, Input, SandboxError

from . import machine
from .image import BUILD_SCRIPT, build_image, build_log, image_dir, image_ready, unavailable
from .machine import BLANK_DISKS, DATA_BASE, GATEWAY, LOOPBACK, RUN_BASE

__all__ = [
    "BUILD_SCRIPT",
    "PRODUCT_PYTHON",
    "CommandError",
    "Guest",
    "Guests",
    "SandboxError",
    "build_image",
    "build_log",
    "image_dir",
    "image_ready",
    "unavailable",
]

REPO_ROOT = Path(__file__).resolve().parents[3]
TREEHASH_SCRIPT = REPO_ROOT / "dev" / "sandbox" / "treehash.py"


GUEST_REPO = "/opt/zsw"
GUEST_VENV = "/opt/zsw-venv"
PRODUCT_PYTHON = f"{GUEST_VENV}/bin/python"
GUEST_PATH = f"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:{GUEST_VENV}/bin"
POOL_FILES = "/var/lib/zsw-pools"

# The processes a test may leave running in a guest; reset() kills them.
STRAY_PROCESSES = "zfs|pv|mbuffer|zstd|lz4|ssh|python3|python|sleep|dd|cat|head"


# -- one guest ------------------------------------------------------------------


class Guest:
    """One booted guest; see the module docstring for the API."""

    address_from_host = LOOPBACK
    address_from_guests = GATEWAY
    guest_key = "/root/.ssh/id_ed25519"
    guest_known_hosts = "/root/.ssh/known_hosts"

    def __init__(
        self,
        *,
        name: str,
        ssh_port: int,
        client_key: Path,
        known_hosts: Path,
        run_dir: Path,
        data_dir: Path,
        repo_root: Path,
    ) -> None:
        self.name = name
        self.hostname = f"zsw-{name}"
        self.ssh_port = ssh_port
        self.client_key = client_key
        self.known_hosts = known_hosts
        self.run_dir = run_dir
        self.data_dir = data_dir
        self.repo_root = repo_root
        self.control_path = run_dir / f"ctl-{name}"
        self.console_log = machine.console_log(data_dir, name)
        self.disks = [f"/dev/vd{chr(ord('b') + i)}" for i in range(BLANK_DISKS)]
        self.qemu: subprocess.Popen[bytes] | None = None
        self.master: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"<Guest {self.name} 127.0.0.1:{self.ssh_port}>"

    # -- ssh ----------------------------------------------------------------

    def ssh_options(self) -> list[str]:
        """ssh options to reach this guest from this machine, strictly."""
        return [
            "-p",
            str(self.ssh_port),
            "-i",
            str(self.client_key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
        ]

    def _ssh(self, *extra: str) -> list[str]:
        return [
            "ssh",
            "-F",
            "/dev/null",
            *self.ssh_options(),
            "-o",
            f"ControlPath={self.control_path}",
            "-o",
            "ConnectTimeout=30",
            "-o",
            "ServerAliveInterval=15",
            *extra,
            f"root@{LOOPBACK}",
        ]

    def job_side(self, dataset: str, *, via: Guest | None = None) -> dict[str, object]:
        """A job file's ``source``/``destination`` mapping for ``dataset`` on this guest.

        Without ``via`` it reaches this guest from this machine (the product
        runs here); with ``via=<other guest>`` it reaches it from that guest
        (the product runs there, after ``put_repo``).
        """
        if via is None:
            return {
                "dataset": dataset,
                "host": f"root@{self.address_from_host}",
                "port": self.ssh_port,
                "ssh_key": str(self.client_key),
                "known_hosts": str(self.known_hosts),
            }
        return {
            "dataset": dataset,
            "host": f"root@{self.address_from_guests}",
            "port": self.ssh_port,
            "ssh_key": via.guest_key,
            "known_hosts": via.guest_known_hosts,
        }

    def start_master(self) -> None:
        """Start the persistent connection that every command then reuses."""
        log = self.data_dir / f"{self.name}-ssh-master.log"
        self.master = machine.spawn(self._ssh("-N", "-M", "-o", "ControlPersist=no"), log=log)
        machine.write_pidfile(self.run_dir / "pids" / f"ssh-{self.name}.pid", self.master.pid)

    def wait_ready(self) -> None:
        """Until the connection is up and the zfs module is loaded."""
        log = self.data_dir / f"{self.name}-ssh-master.log"

        def connected() -> bool:
            if self.master is not None and self.master.poll() is not None:
                raise SandboxError(f"ssh to guest {self.name} failed: {machine.tail(log)}")
            check = proc.run(self._ssh("-O", "check"), check=False, timeout=10)
            return check.returncode == 0

        proc.wait_until(connected, timeout=60, what=f"the ssh connection to guest {self.name}", interval=0.1)
        # The module loads in parallel with the boot (zsw-zfs-load.service).
        self.sh("until [ -e /dev/zfs ]; do sleep 0.2; done", timeout=180)

    def stop(self) -> None:
        for child in (self.master, self.qemu):
            if child is not None:
                proc.reap(child)
        self.master = self.qemu = None

    # -- running commands -----------------------------------------------------

    def remote_command(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> str:
        """The shell line that runs ``argv`` on the guest with a clean environment."""
        variables = {"PATH": GUEST_PATH, "HOME": "/root", "LANG": "C.UTF-8", "PYTHONPATH": GUEST_REPO}
        variables.update(env or {})
        assignments = [f"{k}={v}" for k, v in variables.items()]
        return f"cd {shlex.quote(cwd or '/root')} && exec env -i {shlex.join([*assignments, *argv])}"

    def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: Input = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
        cwd: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` on the guest; text stdout/stderr are captured.

        ``input`` may be str or bytes. ``cwd`` defaults to /root. With
        ``check`` a non-zero exit raises ``CommandError`` naming the guest.
        A timeout ends the local ssh client; ``reset`` ends what it left.
        """
        line = self.remote_command(argv, env, cwd)
        return proc.run(
            [*self._ssh(), line],
            where=f"guest {self.name}",
            check=check,
            input=input,
            timeout=timeout,
            shown=list(argv),
        )

    def sh(self, script: str, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        """Run ``sh -c script`` on the guest; ``args`` become ``$1``, ``$2``..."""
        return self.run(["sh", "-c", script, "sh", *args], **kwargs)

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stdin: int | None = subprocess.DEVNULL,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` on the guest in the background; returns the local ssh client.

        Its stdout and stderr are pipes. Killing the returned process does not
        stop the remote command: use ``kill``.
        """
        return subprocess.Popen(
            [*self._ssh(), self.remote_command(argv, env)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PATH": proc.SYSTEM_PATH, "LANG": "C.UTF-8"},
            start_new_session=True,
        )

    # -- pools ----------------------------------------------------------------

    def create_pool(
        self,
        name: str,
        size: str = "256M",
        *,
        vdev: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> str:
        """Create pool ``name``, mounted at /<name>; return its name.

        The vdev is a sparse file of ``size`` in /var/lib/zsw-pools unless
        ``vdev`` names a device (one of ``disks``). ``cachefile=none``: no
        pool is imported at boot. ``properties`` become ``-O``.
        """
        options: list[str] = []
        for key, value in (properties or {}).items():
            options += ["-O", f"{key}={value}"]
        script = "set -e; name=$1; vdev=$2; size=$3; shift 3\n"
        if vdev is None:
            vdev = f"{POOL_FILES}/{name}.img"
            script += 'mkdir -p "$(dirname "$vdev")"; rm -f "$vdev"; truncate -s "$size" "$vdev"\n'
        script += 'zpool create -f -o cachefile=none "$@" "$name" "$vdev"'
        self.sh(script, name, vdev, size, *options)
        return name

    def destroy_pool(self, name: str) -> None:
        self.sh(
            'zpool destroy -f "$1" 2>/dev/null || { sleep 0.5; zpool destroy -f "$1"; }; rm -f "$2/$1.img"',
            name,
            POOL_FILES,
        )

    def pools(self) -> list[str]:
        return self.run(["zpool", "list", "-H", "-o", "name"]).stdout.split()

    def reset(self) -> None:
        """Back to the just-booted state: strays killed, every pool destroyed."""
        self.sh(
            """
            pkill -KILL -x "$1"
            for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -x "$1" >/dev/null || break; sleep 0.2; done
            for pool in $(zpool list -H -o name); do
                zpool destroy -f "$pool" 2>/dev/null || { sleep 1; zpool destroy -f "$pool"; }
            done
            rm -rf "$2"; mkdir -p "$2"
            test -z "$(zpool list -H -o name)"
            """,
            STRAY_PROCESSES,
            POOL_FILES,
            timeout=120,
        )

    # -- data -----------------------------------------------------------------

    def mountpoint(self, dataset: str) -> str:
        """Where ``dataset`` is mounted; error if it is not."""
        out = self.run(["zfs", "get", "-H", "-o", "value", "mounted,mountpoint", dataset]).stdout.split("\n")
        if out[0] != "yes":
            raise SandboxError(f"on guest {self.name}: {dataset} is not mounted")
        return out[1]

    def path(self, dataset: str, relpath: str) -> str:
        return f"{self.mountpoint(dataset)}/{relpath.lstrip('/')}"

    # One round trip: find the mountpoint and write there.
    _WRITE = """
        set -e
        [ "$(zfs get -H -o value mounted "$1")" = yes ] || { echo "$1 is not mounted" >&2; exit 1; }
        f="$(zfs get -H -o value mountpoint "$1")/$2"
        mkdir -p -- "$(dirname -- "$f")"
    """

    def write_file(self, dataset: str, relpath: str, data: bytes) -> None:
        """Write ``data`` to ``relpath`` inside the mounted ``dataset``."""
        self.sh(self._WRITE + 'cat > "$f"', dataset, relpath.lstrip("/"), input=bytes(data))

    def write_random(self, dataset: str, relpath: str, size: int) -> None:
        """Write ``size`` random bytes to ``relpath`` inside the mounted ``dataset``."""
        self.sh(
            self._WRITE + 'head -c "$3" /dev/urandom > "$f"',
            dataset,
            relpath.lstrip("/"),
            str(int(size)),
            timeout=300,
        )

    def checksum(self, name: str) -> str:
        """sha256 over the tree of a mounted dataset or of a snapshot (treehash.py).

        A snapshot is read through ``.zfs/snapshot`` when its dataset is
        mounted, else through a temporary clone; nothing is read with atime
        updates. Equal content gives an equal checksum on any host or tier.
        """
        return self.run(["python3", "-I", "-", name], input=_checksum_script(), timeout=300).stdout.strip()

    def destroy_dataset(self, dataset: str) -> None:
        self.sh('zfs destroy -r "$1" 2>/dev/null || { sleep 0.5; zfs destroy -r "$1"; }', dataset)

    def snapshots(self, dataset: str) -> dict[str, str]:
        """``{snapshot name after "@": guid}`` of ``dataset``, oldest first."""
        out = self.run(
            ["zfs", "list", "-Hp", "-t", "snapshot", "-d", "1", "-s", "createtxg", "-o", "name,guid", dataset]
        ).stdout
        return {name.split("@", 1)[1]: guid for name, guid in (line.split("\t") for line in out.splitlines())}

    def props(self, dataset: str) -> str:
        """``zfs get -Hp -r all dataset``: for before/after comparisons."""
        return self.run(["zfs", "get", "-Hp", "-r", "all", dataset]).stdout

    def prop(self, dataset: str, name: str) -> str:
        """One property's exact value (``zfs get -Hp``); "-" when unset."""
        return self.run(["zfs", "get", "-Hp", "-o", "value", name, dataset]).stdout.rstrip("\n")

    def allocated(self, pool: str) -> int:
        """Bytes the pool has allocated on disk (synced state)."""
        return int(self.run(["zpool", "get", "-Hp", "-o", "value", "allocated", pool]).stdout)

    def wait_for_allocated(self, pool: str, at_least: int, timeout: float = 120) -> int:
        """Wait until ``pool`` has ``at_least`` bytes allocated, forcing each check's txg out
        with ``zpool sync``: data a receive wrote has reached disk, so a receive killed
        now leaves a resume token. Returns the allocation seen."""
        result = self.sh(
            'end=$(( $(date +%s) + $3 )); while :; do zpool sync "$1" || exit 2;'
            ' a=$(zpool get -Hp -o value allocated "$1"); [ "$a" -ge "$2" ] && { echo "$a"; exit 0; };'
            ' [ "$(date +%s)" -ge "$end" ] && { echo "$a"; exit 1; }; sleep 0.2; done',
            pool,
            str(at_least),
            str(int(timeout)),
            check=False,
            timeout=timeout + 60,
        )
        if result.returncode != 0:
            raise SandboxError(
                f"on guest {self.name}: pool {pool} has {result.stdout.strip() or '?'} bytes allocated, "
                f"not {at_least}, after {timeout:g} s ({result.stderr.strip()})"
            )
        return int(result.stdout)

    # -- the product on the guest -------------------------------------------------

    def put_repo(self) -> int:
        """Copy this checkout's files (git's view: tracked and untracked, not
        ignored) to /opt/zsw on the guest, replacing what was there; return
        how many files. Then ``run([PRODUCT_PYTHON, "-m", ...])`` runs it."""
        data, count = repo_tar(self.repo_root)
        self.sh('rm -rf "$1" && mkdir -p "$1" && tar -x -o -C "$1"', GUEST_REPO, input=data, timeout=120)
        return count

    # -- processes ------------------------------------------------------------

    # pgrep writes to a file: a pipeline's forked shell would match too.
    _PIDS = 'pgrep -f -- "$1" > /run/zsw-pids.$$ || true; grep -vx "$$" /run/zsw-pids.$$ > /run/zsw-own.$$ || true'

    def pids(self, pattern: str) -> list[int]:
        """Pids of the guest's processes whose command line matches ``pattern`` (pgrep -f)."""
        out = self.sh(self._PIDS + "; cat /run/zsw-own.$$; rm -f /run/zsw-*.$$", pattern).stdout
        return [int(p) for p in out.split()]

    def wrap_command(self, name: str, script: str) -> None:
        """Replace program ``name`` (as PATH finds it) by a shell script on this guest;
        ``"$REAL"`` runs a copy of the real one (in /var/lib: /run is noexec; a copy, not a bind
        mount: / is shared here, so a mount over the original would propagate onto that too).
        ``unwrap_command`` puts it back."""
        self.sh(
            'set -e; path=$(readlink -f "$(command -v "$1")"); mkdir -p /var/lib/zsw-wrap;'
            ' real=/var/lib/zsw-wrap/real-"$1"; cp "$path" "$real";'
            ' printf "#!/bin/sh\\nREAL=%s\\n%s\\n" "$real" "$2" > /var/lib/zsw-wrap/"$1"; chmod +x /var/lib/zsw-wrap/"$1";'
            ' mount --bind /var/lib/zsw-wrap/"$1" "$path"',
            name,
            script,
        )

    def unwrap_command(self, name: str) -> None:
        self.sh(
            'path=$(readlink -f "$(command -v "$1")"); umount "$path"; rm -f /var/lib/zsw-wrap/*"$1"',
            name,
        )

    def kill(self, pattern: str, signal: str = "KILL") -> int:
        """Signal every process matching ``pattern`` (pgrep -f); return how many."""
        out = self.sh(
            self._PIDS
            + '; n=0; for p in $(cat /run/zsw-own.$$); do kill -s "$2" "$p" 2>/dev/null && n=$((n+1)); done;'
            " rm -f /run/zsw-*.$$; echo $n",
            pattern,
            signal,
        ).stdout
        return int(out.strip() or 0)

    def wait_for_process(self, pattern: str, timeout: float = 30) -> list[int]:
        """Wait (polling inside the guest) until a process matches; return the pids."""
        tries = max(1, int(timeout / 0.1))
        result = self.sh(
            f"for i in $(seq {tries}); do {self._PIDS}; if [ -s /run/zsw-own.$$ ]; then cat /run/zsw-own.$$;"
            " rm -f /run/zsw-*.$$; exit 0; fi; sleep 0.1; done; rm -f /run/zsw-*.$$; exit 1",
            pattern,
            check=False,
            timeout=timeout + 30,
        )
        if result.returncode != 0:
            raise SandboxError(f"on guest {self.name}: no process matching {pattern!r} after {timeout:g} s")
        return [int(p) for p in result.stdout.split()]

    def zfs_version(self) -> str:
        """``zfs version``'s first line, e.g. ``zfs-2.3.2-1~bpo12+1``."""
        return self.run(["zfs", "version"]).stdout.splitlines()[0]


def _checksum_script() -> str:
    # treehash.py runs as a module (not __main__), then this resolves the tree.
    return (
        f"import sys\nns = {{'__name__': 'treehash'}}\nexec({TREEHASH_SCRIPT.read_text()!r}, ns)\n"
        + _CHECKSUM_MAIN
    )


_CHECKSUM_MAIN = r"""
import secrets, subprocess

def zfs(*argv):
    return subprocess.run(["zfs", *argv], check=True, capture_output=True, text=True).stdout

def mounted_at(ds):
    mounted, mountpoint = zfs("get", "-H", "-o", "value", "mounted,mountpoint", ds).split("\n")[:2]
    return mountpoint if mounted == "yes" else None

name = sys.argv[1]
if "@" not in name:
    root = mounted_at(name)
    if root is None:
        sys.exit(f"{name} is not mounted")
    print(ns["tree_hash"](root))
else:
    fs, snap = name.split("@", 1)
    zfs("list", "-H", "-o", "name", name)  # a clear error if the snapshot is missing
    root = mounted_at(fs)
    if root is not None:
        print(ns["tree_hash"](f"{root.rstrip('/')}/.zfs/snapshot/{snap}"))
    else:
        leaf = "zsw-checksum-" + secrets.token_hex(4)
        clone = fs.split("/")[0] + "/" + leaf
        zfs("clone", "-o", "mountpoint=/run/" + leaf, "-o", "atime=off", name, clone)
        try:
            print(ns["tree_hash"]("/run/" + leaf))
        finally:
            zfs("destroy", clone)
"""


def repo_tar(repo_root: Path) -> tuple[bytes, int]:
    """A tar of the checkout's files as git sees them (tracked and untracked,
    not ignored, no caches; without git, the zfs_sync_wizard package) and
    how many files it holds."""
    listed = subprocess.run(
        ["git", "-C", str(repo_root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        env={"PATH": proc.SYSTEM_PATH, "HOME": "/root"},
    )
    if listed.returncode == 0:
        names = [n for n in listed.stdout.decode().split("\0") if n]
    else:
        names = [str(p.relative_to(repo_root)) for p in (repo_root / "zfs_sync_wizard").rglob("*")]
    buf = io.BytesIO()
    count = 0
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in sorted(names):
            path = repo_root / name
            if "__pycache__" in Path(name).parts or not path.is_file() or path.is_symlink():
                continue
            info = tar.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with open(path, "rb") as f:
                tar.addfile(info, f)
            count += 1
    return buf.getvalue(), count


# -- the pair -----------------------------------------------------------------------


class Guests:
    """Boot guests side by side; see the module docstring."""

    def __init__(
        self,
        *,
        names: Sequence[str] = ("a", "b"),
        memory_mb: int = 1024,
        cpus: int = 1,
        repo_root: Path | None = None,
        run_base: Path = RUN_BASE,
        data_base: Path = DATA_BASE,
    ) -> None:
        self.names = list(names)
        self.memory_mb = memory_mb
        self.cpus = cpus
        self.repo_root = repo_root or REPO_ROOT
        self.run_base = run_base
        self.data_base = data_base
        self.dirs: state.SandboxDirs | None = None
        self.guests: list[Guest] = []
        self.timings: dict[str, float] = {}

    @property
    def id(self) -> str:
        return self.dirs.id if self.dirs else ""

    @property
    def a(self) -> Guest:
        return self.guests[0]

    @property
    def b(self) -> Guest:
        return self.guests[1]

    def __getitem__(self, name: str) -> Guest:
        return next(g for g in self.guests if g.name == name)

    def __enter__(self) -> Guests:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Guests:
        """Boot every guest and connect; raises SandboxError with the console's tail."""
        reason = unavailable()
        if reason:
            raise SandboxError(reason)
        image = image_dir()
        if not (image / "manifest").is_file():
            raise SandboxError(f"no guest image in {image}: run {BUILD_SCRIPT}")
        t0 = time.monotonic()
        machine.reap_stale(self.run_base, self.data_base)
        self.timings["reap"] = time.monotonic() - t0
        self.dirs = state.create(self.run_base, self.data_base, "qemu")
        try:
            for attempt in range(3):
                try:
                    self._boot(image)
                    break
                except machine.PortTaken:
                    self._stop_guests()
                    if attempt == 2:
                        raise SandboxError("qemu could not bind its ssh port three times") from None
            t1 = time.monotonic()
            for guest in self.guests:
                guest.start_master()
            proc.run_parallel([g.wait_ready for g in self.guests])
            self.timings["connect"] = time.monotonic() - t1
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - t0
        return self

    def _boot(self, image: Path) -> None:
        assert self.dirs is not None
        run_dir, data_dir = self.dirs.run, self.dirs.data
        ports: dict[str, int] = {}
        for name in self.names:
            while (port := machine.free_port()) in ports.values():
                pass
            ports[name] = port
        keys = machine.make_keys(run_dir, self.names, ports)
        self.guests = [
            Guest(
                name=name,
                ssh_port=ports[name],
                client_key=keys.client_key,
                known_hosts=keys.known_hosts,
                run_dir=run_dir,
                data_dir=data_dir,
                repo_root=self.repo_root,
            )
            for name in self.names
        ]
        t0 = time.monotonic()
        for guest in self.guests:
            guest.qemu = machine.launch(
                name=guest.name,
                session=self.id,
                image=image,
                run_dir=run_dir,
                data_dir=data_dir,
                ssh_port=guest.ssh_port,
                setup_tar=keys.setup_tar[guest.name],
                cpus=self.cpus,
                memory_mb=self.memory_mb,
            )
        self.timings["launch"] = time.monotonic() - t0
        proc.run_parallel(
            [lambda g=g: machine.wait_for_sshd(g.name, g.qemu, g.ssh_port, data_dir) for g in self.guests]
        )
        self.timings["boot"] = time.monotonic() - t0

    def reset(self) -> None:
        """Every guest back to its just-booted state (between tests)."""
        proc.run_parallel([g.reset for g in self.guests])

    def put_repo(self) -> None:
        proc.run_parallel([g.put_repo for g in self.guests])

    def _stop_guests(self) -> None:
        for guest in self.guests:
            guest.stop()
        self.guests = []

    def stop(self) -> None:
        """Kill the guests (their disks are throwaway) and remove all state."""
        self._stop_guests()
        if self.dirs is not None:
            machine.remove(self.dirs)
            self.dirs = None
