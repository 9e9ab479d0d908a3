"""A dedicated key restricted in authorized_keys, as README's security section
shows: `restrict,command="zfs-sync-gate --receive backup/media"` lets the
job through on real sshd and refuses everything else that key asks for."""

from __future__ import annotations

import contextlib
import subprocess

from tests import installed

from .replication import assert_same, ok


@contextlib.contextmanager
def restricted_key(sandbox, tmp_path, options: str):
    """A new key, authorized on the sandbox hosts only through `options` (a forced command)."""
    key = tmp_path / "keys" / "id_gate"
    key.parent.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    authorized = sandbox.dirs.run / "authorized_keys"
    before = authorized.read_text()
    authorized.write_text(before + f"{options} {(key.parent / 'id_gate.pub').read_text()}")
    try:
        yield key
    finally:
        authorized.write_text(before)


def gate_line(*args: str) -> str:
    return f'restrict,command="{installed.product().program("zfs-sync-gate")} {" ".join(args)}"'


def test_a_gated_destination_key_carries_the_job_and_refuses_the_rest(hosts, media, tmp_path):
    src, dst = hosts.src, hosts.dst
    with restricted_key(hosts, tmp_path, gate_line("--receive", "backup/media")) as key:
        job = {
            "source": {"dataset": "tank/media"},
            "destination": {"dataset": "backup/media", "host": f"root@{dst.address}", "ssh_key": str(key)},
        }
        media.job("media", job)
        check = media.run("--check", "media")
        assert check.returncode == 0, check.stderr
        gate = f'on root@{dst.address}: restrict,command="zfs-sync-gate --receive backup/media" KEY'
        assert f"media: to restrict the job's key in authorized_keys, {gate}" in check.stdout
        ok(media.run("media"))
        src.write_random("tank/media", "second.mkv", 64 << 10)
        ok(media.run("media"))
        assert_same(src, "tank/media", dst, "backup/media")

        # the same key, aimed anywhere else on the destination: refused there, named, nothing made
        media.job("other", dict(job, destination=dict(job["destination"], dataset="backup/other")))
        other = media.run("other")
        assert other.returncode == 1
        assert "zfs-sync-gate: refused: zfs get of backup/other: not under the datasets this key may use" in (
            other.stderr
        )
        assert "backup/other" not in dst.run(["zfs", "list", "-H", "-o", "name"]).stdout

        # and by hand, as whoever stole the key would: nothing runs
        ssh = [
            "ssh",
            "-i",
            str(key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            f"root@{dst.address}",
        ]
        for command in [
            "zfs destroy -r backup",
            "env LC_ALL=C sh -c 'zfs list; touch /root/gate-was-passed'",
            "env LC_ALL=C sh -c 'zfs destroy backup/media'",
            "cat /etc/shadow",
        ]:
            refused = src.run(ssh + [command], check=False)
            assert refused.returncode == 126 and "zfs-sync-gate: refused" in refused.stderr, refused
        assert dst.run(["test", "!", "-e", "/root/gate-was-passed"], check=False).returncode == 0
        assert "backup/media" in dst.run(["zfs", "list", "-H", "-o", "name"]).stdout


def test_a_gated_source_key_serves_a_pull_job(hosts, tmp_path):
    src, dst = hosts.src, hosts.dst
    src.run(["zfs", "create", "tank/media"])
    src.write_random("tank/media", "movie.mkv", 128 << 10)
    from .replication import Product

    puller = Product(dst, tmp_path)
    with restricted_key(hosts, tmp_path, gate_line("--send", "tank/media")) as key:
        puller.job(
            "media",
            {
                "source": {"dataset": "tank/media", "host": f"root@{src.address}", "ssh_key": str(key)},
                "destination": {"dataset": "backup/media"},
            },
        )
        ok(puller.run("media"))
        src.write_random("tank/media", "more.mkv", 32 << 10)
        ok(puller.run("media"))
        assert_same(src, "tank/media", dst, "backup/media")


def test_a_key_in_a_folder_open_to_others_is_refused_until_the_advised_chmod(hosts, media, tmp_path):
    src, dst = hosts.src, hosts.dst
    with restricted_key(hosts, tmp_path, "restrict") as key:
        key.parent.chmod(0o775)
        media.job(
            "media",
            {
                "source": {"dataset": "tank/media"},
                "destination": {
                    "dataset": "backup/media",
                    "host": f"root@{dst.address}",
                    "ssh_key": str(key),
                },
            },
        )
        refused = media.run("media")
        assert refused.returncode == 2
        advice = f"Run: chmod 700 {key.parent}"
        assert "destination.ssh_key: the folder" in refused.stderr and advice in refused.stderr, (
            refused.stderr
        )
        assert "backup/media" not in dst.run(["zfs", "list", "-H", "-o", "name"]).stdout
        subprocess.run(advice[len("Run: ") :].split(), check=True)
        ok(media.run("media"))
        assert_same(src, "tank/media", dst, "backup/media")
