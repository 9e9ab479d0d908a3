"""The OpenZFS tier itself: the guests, and the ZFS facts the product relies on.

Commands are batched into few shell scripts: each round trip to a guest
under software emulation costs a noticeable fraction of a second.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from dev.sandbox.proc import run_parallel
from tests.openzfs.conftest import Pools
from tests.openzfs.guest.guests import PRODUCT_PYTHON, Guest, Guests

pytestmark = pytest.mark.timeout(600)

STRICT_SSH = "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes"
MiB = 1 << 20


def ssh_to(target: Guest) -> str:
    """The shell words that reach ``target`` from inside the other guest."""
    return f"{STRICT_SSH} -p {target.ssh_port} root@{target.address_from_guests}"


def send_size(estimate: str) -> int:
    """The byte count from `zfs send -nvP` output (its "size" line)."""
    match = re.search(r"^size\s+(\d+)$", estimate, re.MULTILINE)
    assert match, f"no size line in:\n{estimate}"
    return int(match.group(1))


def test_guests_run_openzfs_2_with_the_tools_and_python_packages(guests: Guests) -> None:
    def check(guest: Guest) -> None:
        out = guest.sh(
            "hostname; zfs version | head -n 1; cat /sys/module/zfs/parameters/zfs_arc_max;"
            " for t in pv mbuffer zstd lz4 ssh python3; do command -v $t >/dev/null || echo missing $t; done;"
            f" {PRODUCT_PYTHON} -c 'import questionary, sh, yaml, humanize, croniter; print(\"imports ok\")'"
        ).stdout.splitlines()
        assert out[0] == guest.hostname
        assert re.match(r"zfs-2\.\d+\.\d+", out[1]), out[1]
        assert int(out[2]) == 256 * MiB
        assert out[3:] == ["imports ok"]

    run_parallel([lambda g=g: check(g) for g in guests.guests])


def test_guests_reach_each_other_and_are_reached_from_here_strictly(guests: Guests) -> None:
    a, b = guests.a, guests.b
    assert a.sh(f"{ssh_to(b)} hostname").stdout.strip() == b.hostname
    assert b.sh(f"{ssh_to(a)} hostname").stdout.strip() == a.hostname
    for guest in (a, b):
        side = guest.job_side("tank/fs")
        here = subprocess.run(
            ["ssh", "-F", "/dev/null", *guest.ssh_options(), f"root@{guest.address_from_host}", "hostname"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert here.stdout.strip() == guest.hostname, here.stderr
        assert (side["host"], side["port"], side["ssh_key"]) == (
            "root@127.0.0.1",
            guest.ssh_port,
            str(guest.client_key),
        )
    # A host key that is not the one recorded is refused, not accepted.
    wrong = a.sh(
        f"{STRICT_SSH} -o UserKnownHostsFile=/dev/null -p {b.ssh_port} root@10.0.2.2 true", check=False
    )
    assert wrong.returncode == 255 and "Host key verification failed" in wrong.stderr


def test_send_estimate_is_a_size_close_to_the_real_stream(pools: Pools) -> None:
    a = pools.a
    a.run(["zfs", "create", "-o", "compression=off", f"{pools.src}/fs"])
    a.write_random(f"{pools.src}/fs", "data", 3 * MiB)
    out = a.sh(
        'set -e; zfs snapshot "$1@s1"; zfs send -nvP "$1@s1"; echo "actual $(zfs send "$1@s1" | wc -c)"',
        f"{pools.src}/fs",
    ).stdout
    estimate = send_size(out)
    actual = int(re.search(r"^actual (\d+)$", out, re.MULTILINE).group(1))
    assert actual > 3 * MiB
    assert abs(estimate - actual) <= actual * 0.1, out


def test_killed_receive_leaves_a_token_that_send_t_resumes_and_receive_A_aborts(pools: Pools) -> None:
    a, b = pools.a, pools.b
    src, dst = f"{pools.src}/fs", f"{pools.dst}/fs"
    a.run(["zfs", "create", "-o", "compression=off", src])
    a.write_random(src, "data", 16 * MiB)
    a.run(["zfs", "snapshot", f"{src}@s1"])
    source_sum = a.checksum(f"{src}@s1")

    def interrupted_receive(target: str) -> str:
        """Send s1 slowly to ``target`` on b, kill the receiver mid-stream; the token."""
        # Limited on the receiving side: a sending pv that waited for the ssh
        # handshake would catch up with a burst.
        transfer = a.spawn(
            ["sh", "-c", f"zfs send {src}@s1 | {ssh_to(b)} 'pv -q -L 1m | zfs receive -s {target}'"]
        )
        before = b.allocated(pools.dst)
        b.wait_for_process("^zfs receive", timeout=60)
        b.wait_for_allocated(pools.dst, before + MiB)  # data on disk: a token to resume from
        killed = b.kill("^zfs receive")
        _, err = transfer.communicate(timeout=60)
        assert killed == 1 and transfer.returncode != 0, (killed, transfer.returncode, err.decode())
        token = b.prop(target, "receive_resume_token")
        assert token not in ("", "-")
        return token

    token = interrupted_receive(dst)
    out = a.sh('set -e; zfs send -nvP -t "$1"; echo "actual $(zfs send -t "$1" | wc -c)"', token).stdout
    assert "resume token contents" in out
    remaining = send_size(out)
    assert 0 < remaining < 16 * MiB
    # Resume over ssh, straight from guest to guest.
    a.sh(f'zfs send -t "$1" | {ssh_to(b)} zfs receive -s {dst}', token, timeout=300)
    assert b.prop(dst, "receive_resume_token") == "-"
    assert b.snapshots(dst) == a.snapshots(src)
    assert b.checksum(f"{dst}@s1") == source_sum

    # Another interrupted receive, aborted this time: nothing of it remains.
    interrupted_receive(f"{pools.dst}/fs2")
    b.run(["zfs", "receive", "-A", f"{pools.dst}/fs2"])
    gone = b.run(["zfs", "list", f"{pools.dst}/fs2"], check=False)
    assert gone.returncode != 0 and "does not exist" in gone.stderr


def test_raw_send_of_an_encrypted_dataset_arrives_encrypted(pools: Pools) -> None:
    a, b = pools.a, pools.b
    src, dst = f"{pools.src}/secret", f"{pools.dst}/secret"
    passphrase = "correct horse battery"
    a.run(
        ["zfs", "create", "-o", "encryption=on", "-o", "keyformat=passphrase", src],
        input=passphrase + "\n",
    )
    a.write_random(src, "data", 1 * MiB)
    a.run(["zfs", "snapshot", f"{src}@s1"])
    a.sh(f'zfs send -w "$1@s1" | {ssh_to(b)} zfs receive -u {dst}', src, timeout=300)
    status = b.run(["zfs", "get", "-H", "-o", "value", "encryption,keystatus,mounted", dst]).stdout.split()
    assert status == ["aes-256-gcm", "unavailable", "no"]
    # Only with the key does it become readable, and it is the same data.
    b.run(["zfs", "load-key", dst], input=passphrase + "\n")
    b.run(["zfs", "mount", dst])
    assert b.checksum(f"{dst}@s1") == a.checksum(f"{src}@s1")
    assert b.snapshots(dst) == a.snapshots(src)


def usage_flags(usage: str) -> set[str]:
    """Every single-letter flag a usage text offers, e.g. "[-DLPbcehnpsVvw]", "-t"."""
    flags = set()
    for group in re.findall(r"(?<![\w-])-([A-Za-z]+)\b", usage):
        flags.update(group)
    return flags


def test_usage_texts_name_the_flags_the_product_detects(guests: Guests) -> None:
    out = guests.a.sh('zfs send 2>&1; echo "exit $?"; zfs receive 2>&1; echo "exit $?"').stdout
    send, receive = out.split("exit 2\n")[:2]
    assert "usage:" in send and "usage:" in receive
    assert set("wLecnvPpRIit") <= usage_flags(send), send
    assert "-t <receive_resume_token>" in send
    assert set("sFundeAox") <= usage_flags(receive), receive
    assert "receive -A <filesystem|volume>" in receive


def test_product_runs_on_a_guest_after_put_repo(guests: Guests) -> None:
    a = guests.a
    assert a.put_repo() > 10
    result = a.run([PRODUCT_PYTHON, "-m", "zfs_sync_wizard.cli.run", "--help"])
    assert "usage" in result.stdout.lower()
