"""The sandbox itself: two independent zfs-fuse hosts that can ssh to each other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dev.sandbox import CommandError, Sandbox, ssh_client_options
from dev.sandbox.proc import pid_alive

pytestmark = pytest.mark.timeout(120)

STRICT_SSH = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]


REPO_ROOT = Path(__file__).resolve().parents[2]  # dev/ is imported from the checkout


def test_ssh_reaches_the_other_host_strictly_without_options(hosts: Sandbox) -> None:
    src, dst = hosts.src, hosts.dst
    for target in (dst.address, dst.hostname):
        out = src.run([*STRICT_SSH, f"root@{target}", "hostname; zpool list -H -o name"]).stdout
        assert out.split() == [dst.hostname, "backup"]
    assert dst.run([*STRICT_SSH, f"root@{src.address}", "hostname"]).stdout.strip() == src.hostname
    # The explicit options (meant for openzfs mode) work as well.
    explicit = src.run(["ssh", *ssh_client_options(dst), f"root@{dst.address}", "hostname"])
    assert explicit.stdout.strip() == dst.hostname


def test_hosts_have_their_own_names_addresses_and_pools(hosts: Sandbox) -> None:
    src, dst = hosts.src, hosts.dst
    assert src.run(["hostname"]).stdout.strip() == "zsw-src"
    assert dst.run(["hostname"]).stdout.strip() == "zsw-dst"
    assert src.address in src.run(["ip", "-brief", "addr"]).stdout
    assert (src.pools(), dst.pools()) == (["tank"], ["backup"])
    # Neither host sees the other's mounts.
    assert src.run(["test", "-d", dst.mountpoint("backup")], check=False).returncode != 0


def test_same_pool_name_on_both_hosts_has_different_guids(hosts: Sandbox) -> None:
    guids = []
    for host in hosts.hosts:
        host.create_pool("twin")
        # zfs-fuse's zpool get has no -H or -p: read the table's value column.
        guids.append(host.run(["zpool", "get", "guid", "twin"]).stdout.splitlines()[-1].split()[2])
    assert guids[0].isdigit() and guids[1].isdigit()
    assert guids[0] != guids[1]


def test_hide_command_affects_one_host_and_its_ssh_sessions(hosts: Sandbox) -> None:
    src, dst = hosts.src, hosts.dst
    src.hide_command("mbuffer")
    for shell in ("sh", "bash"):
        assert src.run([shell, "-c", "command -v mbuffer"], check=False).returncode != 0
    remote = dst.run([*STRICT_SSH, f"root@{src.address}", "command -v mbuffer"], check=False)
    assert remote.returncode != 0
    assert dst.sh("command -v mbuffer").stdout.strip() == "/usr/bin/mbuffer"
    assert src.sh("command -v pv").stdout.strip() == "/usr/bin/pv"
    src.unhide_command("mbuffer")
    assert src.sh("command -v mbuffer").stdout.strip() == "/usr/bin/mbuffer"


def test_reset_undoes_pools_mounts_hidden_tools_and_strays(hosts: Sandbox) -> None:
    src = hosts.src
    src.hide_command("zstd")
    src.sh("mount --bind /dev/null /usr/bin/pv")
    src.sh("sleep 600 >/dev/null 2>&1 &")
    src.run(["zfs", "create", "tank/child"])
    hosts.reset()
    assert src.pools() == [] and hosts.dst.pools() == []
    assert src.sh("command -v zstd; test -s /usr/bin/pv && echo pv-back").stdout.split() == [
        "/usr/bin/zstd",
        "pv-back",
    ]
    assert "sleep 600" not in src.run(["ps", "-eo", "args"]).stdout


def test_checksum_follows_content_not_host(hosts: Sandbox) -> None:
    src, dst = hosts.src, hosts.dst
    src.write_file("tank", "dir/file", b"\xff\x00binary")
    dst.write_file("backup", "dir/file", b"\xff\x00binary")
    assert src.checksum("tank") == dst.checksum("backup")
    src.write_file("tank", "dir/file", b"\xff\x00binarY")
    assert src.checksum("tank") != dst.checksum("backup")


def test_send_over_ssh_keeps_guids_and_content(hosts: Sandbox) -> None:
    src, dst = hosts.src, hosts.dst
    src.write_random("tank", "data/random", 2 << 20)
    src.run(["zfs", "snapshot", "tank@one"])
    src.sh(
        "zfs send tank@one | pv -q | mbuffer -q -m 8M"
        " | ssh root@zsw-dst 'mbuffer -q -m 8M | zfs receive backup/tank'"
    )
    src.write_file("tank", "data/later", b"later")
    src.run(["zfs", "snapshot", "tank@two"])
    # Checksumming a snapshot must not modify the receiving side.
    assert src.checksum("tank@one") == dst.checksum("backup/tank@one")
    src.sh("zfs send -i tank@one tank@two | ssh root@zsw-dst zfs receive backup/tank")
    assert dst.snapshots("backup/tank") == src.snapshots("tank")
    assert list(src.snapshots("tank")) == ["one", "two"]
    assert src.checksum("tank@two") == dst.checksum("backup/tank@two")
    assert "backup/tank@two\tuserrefs\t0\t" in dst.props("backup/tank")


def test_python_runs_on_a_host_with_a_clean_environment(hosts: Sandbox) -> None:
    code = "import socket, sys; print(socket.gethostname(), sys.prefix)"
    out = hosts.src.run([sys.executable, "-c", code], env={"ZSW_EXAMPLE": "1"}, cwd="/").stdout.split()
    assert out == ["zsw-src", sys.prefix]
    env = hosts.src.run(["env"], env={"ZSW_EXAMPLE": "1"}).stdout
    assert "ZSW_EXAMPLE=1" in env and "PYENV" not in env
    # nothing makes the checkout importable: the product under test is the installed one
    assert "PYTHONPATH" not in env and sys.prefix not in env


def test_failed_command_names_host_command_and_stderr(hosts: Sandbox) -> None:
    with pytest.raises(CommandError) as caught:
        hosts.dst.sh("echo boom >&2; exit 3")
    message = str(caught.value)
    assert "on dst" in message and "exit 3" in message and "boom" in message
    assert "nsenter" not in message


def test_sandbox_of_a_killed_owner_is_reaped(sandbox: Sandbox) -> None:
    child = _start_sandbox_in_child()
    try:
        sid = child.stdout.readline().strip()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert sid, child.stderr.read()
    old = sandbox.run_base / sid
    daemons = [int((old / h / f).read_text()) for h in ("src", "dst") for f in ("zfs-fuse.pid", "sshd.pid")]
    namespaces = [os.stat(p).st_ino for p in (old / "ns").iterdir()]
    assert all(pid_alive(p) for p in daemons)

    with Sandbox(mode="fuse") as fresh:
        assert sid in fresh.reaped
        assert (
            fresh.dst.run([*STRICT_SSH, f"root@{fresh.src.address}", "hostname"]).stdout.strip() == "zsw-src"
        )

    assert not old.exists() and not (sandbox.data_base / sid).exists()
    assert not any(pid_alive(p) for p in daemons)
    assert not _namespace_users(namespaces)
    assert sid not in Path("/proc/self/mountinfo").read_text()
    assert sandbox.src.pools() == []  # the session's sandbox was left alone


def _start_sandbox_in_child() -> subprocess.Popen[str]:
    code = (
        "import time\n"
        "from dev.sandbox import Sandbox\n"
        "sbx = Sandbox(mode='fuse').start()\n"
        "print(sbx.id, flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _namespace_users(inodes: list[int]) -> list[int]:
    """Pids of processes still inside any of the namespaces ``inodes``."""
    users = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            for kind in ("mnt", "uts", "net"):
                try:
                    if os.stat(entry / "ns" / kind).st_ino in inodes:
                        users.append(int(entry.name))
                except OSError:
                    pass
    return users
