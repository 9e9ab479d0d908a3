"""Reading ssh's failures: each says what is wrong in the terms of its fix."""

from __future__ import annotations

import pytest

from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.wizard import sshcheck

DST = Endpoint(host="backup01", user="root", port=2222, ssh_key="/root/.ssh/id_backup")
CHANGED = """@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Offending ED25519 key in /root/.ssh/known_hosts:2
Host key verification failed.
"""


@pytest.mark.parametrize(
    "stderr, kind, words",
    [
        (
            "ssh: connect to host backup01 port 2222: Connection refused\r\n",
            "unreachable",
            "nothing accepts connections on port 2222",
        ),
        (
            "ssh: connect to host backup01 port 2222: Connection timed out\r\n",
            "unreachable",
            "no answer from backup01",
        ),
        (
            "ssh: connect to host backup01 port 2222: No route to host\r\n",
            "unreachable",
            "no route to backup01",
        ),
        (
            "ssh: Could not resolve hostname backup01: Name or service not known\r\n",
            "unreachable",
            "does not resolve",
        ),
        (
            "root@backup01: Permission denied (publickey).\r\n",
            "authentication",
            "ssh-copy-id -i /root/.ssh/id_backup.pub -p 2222 root@backup01",
        ),
        (
            "No ED25519 host key is known for [backup01]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n",
            "unknown-host-key",
            "[backup01]:2222 is not known yet",
        ),
        (CHANGED, "changed-host-key", "ssh-keygen -R '[backup01]:2222'"),
        (
            "kex_exchange_identification: read: Connection reset by peer\r\n",
            "ssh",
            "kex_exchange_identification",
        ),
    ],
)
def test_classify(stderr, kind, words):
    problem = sshcheck.classify(DST, 255, stderr)
    assert problem.kind == kind
    assert words in problem.message


def test_success_is_no_problem():
    assert sshcheck.classify(DST, 0, "") is None


def test_changed_key_names_the_offending_line_and_refuses():
    message = sshcheck.classify(DST, 255, CHANGED).message
    assert "Offending ED25519 key in /root/.ssh/known_hosts:2" in message
    assert "will not accept the new key" in message


def test_copy_id_without_a_named_key_uses_the_default_key_or_none():
    plain = Endpoint(host="b", user="root")
    assert sshcheck.copy_id_command(plain) == "ssh-copy-id -p 22 root@b"
    assert (
        sshcheck.copy_id_command(plain, "/root/.ssh/id_ed25519")
        == "ssh-copy-id -i /root/.ssh/id_ed25519.pub -p 22 root@b"
    )


def test_known_hosts_name_uses_brackets_for_other_ports():
    assert sshcheck.known_hosts_name(Endpoint(host="b")) == "b"
    assert sshcheck.known_hosts_name(DST) == "[backup01]:2222"


@pytest.mark.parametrize(
    "compression, buffer, expected",
    [
        ("auto", True, {"zfs", "mbuffer", "zstd"}),
        ("lz4", True, {"zfs", "mbuffer", "lz4"}),
        ("none", False, {"zfs"}),
    ],
)
def test_required_programs(compression, buffer, expected):
    assert sshcheck.required_programs(compression, buffer) == expected


def test_private_keys_are_those_with_a_pub_file(tmp_path):
    for name in (
        "id_ed25519",
        "id_ed25519.pub",
        "id_rsa",
        "known_hosts",
        "backup",
        "backup.pub",
        "orphan.pub",
    ):
        (tmp_path / name).write_text("x")
    assert sshcheck.private_keys(tmp_path) == [str(tmp_path / "backup"), str(tmp_path / "id_ed25519")]
    assert sshcheck.default_key(tmp_path) == str(tmp_path / "id_ed25519")
    assert sshcheck.private_keys(tmp_path / "missing") == []


def test_record_host_key_appends_with_private_mode(tmp_path):
    known = tmp_path / "ssh" / "known_hosts"
    sshcheck.record_host_key(known, ["a ssh-ed25519 AAAA"])
    known.write_text(known.read_text() + "b ssh-ed25519 BBBB")  # no final newline, as some editors leave it
    sshcheck.record_host_key(known, ["c ssh-ed25519 CCCC"])
    assert known.read_text() == "a ssh-ed25519 AAAA\nb ssh-ed25519 BBBB\nc ssh-ed25519 CCCC\n"
    assert oct(known.stat().st_mode & 0o777) == "0o600"
