"""zfs-sync-gate: every command zfs-sync-run sends passes and runs as it was
checked; anything else, or a dataset outside the key's roots, is refused."""

from __future__ import annotations

import shlex
import struct
import subprocess
import sys
import zlib

import pytest

from zfs_sync_wizard import gate
from zfs_sync_wizard.commands import pipeline as pl
from zfs_sync_wizard.commands import probes, ssh, zfs
from zfs_sync_wizard.planning.plan import Send

LOCAL = ssh.Endpoint()
SRC = ssh.Endpoint(host="nas", user="root")
DST = ssh.Endpoint(host="backup")
STEP = Send("zsw_media_2", "zsw_media_1")
FORCED = Send("zsw_media_2", "zsw_media_1", force=True)
SETTINGS = [
    pl.PipelineSettings("zstd"),
    pl.PipelineSettings("zstd-fast"),
    pl.PipelineSettings("lz4"),
    pl.PipelineSettings("zstd", "1G", "10M", 4096),
]

SENDER = gate.Policy(send=["tank/media"], receive=[], rollback=False)
RECEIVER = gate.Policy(send=[], receive=["backup/media"], rollback=False)
RECEIVER_ROLLBACK = gate.Policy(send=[], receive=["backup/media"], rollback=True)


def make_token(pairs: dict) -> str:
    """A resume token as libzfs makes it: 1-CKSUM-SIZE-HEX, HEX a zlib-compressed
    native nvlist (little-endian), each pair padded to 8 bytes."""
    body = struct.pack("<ii", 0, 1)
    for name, value in pairs.items():
        raw = name.encode() + b"\0"
        raw += b"\0" * (-len(raw) % 8)
        if isinstance(value, str):
            data, dtype = value.encode() + b"\0", 9
        else:
            data, dtype = struct.pack("<Q", value), 8
        data += b"\0" * (-len(data) % 8)
        size = 16 + len(raw) + len(data)
        body += struct.pack("<ihhii", size, len(name) + 1, 0, 1, dtype) + raw + data
    packed = bytes([0, 1, 0, 0]) + body + struct.pack("<i", 0)
    return f"1-abc-{len(packed):x}-{zlib.compress(packed).hex()}"


def remote_scripts(stages, endpoint) -> list[str]:
    """The script ssh carries to `endpoint` for a transfer, as the runner builds it."""
    return [
        ssh.remote_command(pl.remote_script(p.stages, 0))
        for p in pl.processes(stages, "/c")
        if p.endpoint == endpoint
    ]


def sender_scripts() -> list[str]:
    send = zfs.send("tank/media", STEP, ["-w"])
    scripts = [
        s
        for o in SETTINGS
        for s in remote_scripts(pl.build(send, zfs.receive("b/m", STEP), SRC, LOCAL, o), SRC)
    ]
    token = make_token({"toname": "tank/media@zsw_media_2", "fromguid": 7})
    for argv in [
        zfs.listing("tank/media", recursive=True),
        zfs.listing("tank/media", recursive=False, extra=["written"]),
        zfs.snapshots_listing(["tank/media", "tank/media/tv"], "zsw_media_2"),
        zfs.value("receive_resume_token", "tank/media"),
        zfs.written("tank/media", "zsw_media_1"),
        zfs.estimate(send),
        zfs.hold("zsw_media", "tank/media", "zsw_media_2"),
        zfs.hold_all("zsw_media", ["tank/media@zsw_media_2", "tank/media/tv@zsw_media_2"]),
        zfs.release("zsw_media", "tank/media", "zsw_media_1"),
        zfs.holds(["tank/media@zsw_media_1", "tank/media/tv@zsw_media_1"]),
        zfs.release_all("zsw_media", ["tank/media@a", "tank/media/tv@a"]),
        zfs.snapshot("tank/media", "zsw_media_2", recursive=True),
        zfs.destroy_snapshot("tank/media/tv", "zsw_media_1"),
        zfs.destroy_snapshots("tank/media", ["zsw_media_1", "zsw_media_2"]),
        zfs.destroy_estimate("tank/media", ["zsw_media_1", "zsw_media_2"]),
        zfs.destroy_recursive("tank/media", ["zsw_media_1", "zsw_media_2"]),
        zfs.local_properties("tank/media", ["mountpoint", "quota"]),
        zfs.send("tank/media", Send("b", "a"), ["-L"], tree=True),
        zfs.bookmarks("tank/media"),
        zfs.pools(),
        zfs.pool_sync("tank"),
        zfs.all_datasets(),
    ]:
        scripts.append(ssh.remote_command(ssh.quote(argv)))
    scripts.append(ssh.remote_command(probes.answered(zfs.estimate(zfs.send_token(token)))))
    scripts.append(ssh.remote_command(probes.remote_probe({"zfs", "zstd", "mbuffer"}, usage=True)))
    return scripts


def receiver_scripts() -> list[str]:
    send = zfs.send("tank/media", STEP)
    scripts = [
        s
        for o in SETTINGS
        for s in remote_scripts(pl.build(send, zfs.receive("backup/media", STEP, True), LOCAL, DST, o), DST)
    ]
    for argv in [
        zfs.listing("backup/media", recursive=True),
        zfs.value("receive_resume_token", "backup/media/tv"),
        zfs.abort_receive("backup/media"),
        zfs.hold("zsw_media", "backup/media", "zsw_media_2"),
        zfs.release_all("zsw_media", ["backup/media@a"]),
        zfs.destroy_snapshot("backup/media", "zsw_media_1"),
        zfs.destroy_recursive("backup/media", ["zsw_media_1"]),
        zfs.receive("backup/media", Send("b", "a"), True, ["-x", "mountpoint"]),
        zfs.create_parents("backup/media/tv"),
        zfs.unmount("backup/media"),
        zfs.set_readonly("backup/media"),
        zfs.set_readonly("backup/media", "backup/media/tv"),
        zfs.value("mounted", "backup"),  # a parent, read only
    ]:
        scripts.append(ssh.remote_command(ssh.quote(argv)))
    return scripts


def words(script: str) -> list[str]:
    """The words and operators a shell sees in `script` (read by shlex, not by the gate)."""
    return list(shlex.shlex(script, posix=True, punctuation_chars=True))


@pytest.mark.parametrize("original", sender_scripts())
def test_what_the_runner_sends_to_a_source_passes_and_runs_as_checked(original):
    script = gate.checked(original, SENDER)
    inner = shlex.split(original)[4]
    assert gate.render(gate.tokens(inner)) == script
    assert words(script) == words(inner)


@pytest.mark.parametrize("original", receiver_scripts())
def test_what_the_runner_sends_to_a_destination_passes(original):
    script = gate.checked(original, RECEIVER)
    assert words(script) == words(shlex.split(original)[4])


def test_rollback_and_forced_receive_need_the_gate_s_rollback_flag():
    for argv in [zfs.rollback("backup/media", "zsw_media_1"), zfs.receive("backup/media", FORCED)]:
        original = ssh.remote_command(ssh.quote(argv))
        with pytest.raises(gate.Refused, match="--rollback"):
            gate.checked(original, RECEIVER)
        assert gate.checked(original, RECEIVER_ROLLBACK)


def wrap(script: str) -> str:
    return ssh.remote_command(script)


REFUSED = [
    # id, the command ssh asked for, policy, what the refusal says
    ("another program", wrap("rm -rf /"), SENDER, "not allowed: rm"),
    ("after a separator", wrap("zfs list; rm -rf /"), SENDER, "not allowed: rm"),
    ("in a brace group", wrap("{ cat /etc/shadow; }"), SENDER, "not allowed: cat"),
    ("command substitution", wrap("zfs list $(rm -rf /)"), SENDER, "'\\$'"),
    ("quoted substitution", wrap('zfs list "$(id)"'), SENDER, "expansion"),
    ("backticks", wrap("zfs list `id`"), SENDER, "'`'"),
    ("a variable", wrap("echo $HOME"), SENDER, "'\\$'"),
    ("background", wrap("zfs list & rm -rf /"), SENDER, "'&'"),
    ("a file redirection", wrap("zfs send tank/media@a > /tmp/x"), SENDER, "'>'"),
    ("a newline", wrap("zfs list\nrm -rf /"), SENDER, "newline"),
    ("a subshell", wrap("(rm -rf /)"), SENDER, "'\\('"),
    ("not the runner's form", "rm -rf /", SENDER, "not a zfs-sync-run command"),
    ("extra words", wrap("zfs list") + " extra", SENDER, "not a zfs-sync-run command"),
    ("a shell", wrap("sh -c id"), SENDER, "not allowed: sh"),
    ("command runs a program", wrap("command rm -rf /"), SENDER, "not allowed"),
    ("a status outside echo", wrap("zfs list $?"), SENDER, "outside echo"),
    ("destroy a dataset", wrap("zfs destroy tank/media"), SENDER, "only snapshots"),
    ("destroy recursively outside the roots", wrap("zfs destroy -r tank/other@a"), SENDER, "not under"),
    ("destroy -r beside a dry run", wrap("zfs destroy -rn tank/media@a"), SENDER, "only snapshots"),
    ("destroy's dry run of a dataset", wrap("zfs destroy -nvp tank/media"), SENDER, "only snapshots"),
    ("send another dataset", wrap("zfs send tank/private@a"), SENDER, "tank/private@a: not under"),
    ("send from another base", wrap("zfs send -i tank/private@a tank/media@b"), SENDER, "not under"),
    ("a root's sibling", wrap("zfs send tank/media2@a"), SENDER, "not under"),
    ("receive with a send key", wrap("zfs receive -u tank/media"), SENDER, "not under"),
    ("send with a receive key", wrap("zfs send backup/media@a"), RECEIVER, "not under"),
    ("receive elsewhere", wrap("zfs receive -u backup/other"), RECEIVER, "not under"),
    ("snapshot elsewhere", wrap("zfs snapshot tank@x"), SENDER, "not under"),
    ("hold elsewhere", wrap("zfs hold t tank/x@a"), SENDER, "not under"),
    ("a channel program", wrap("zfs program tank x.lua"), SENDER, "zfs program is not allowed"),
    ("delegation", wrap("zfs allow -u eve destroy tank"), SENDER, "zfs allow is not allowed"),
    ("a mountpoint", wrap("zfs set mountpoint=/etc backup/media"), RECEIVER, "only readonly=on"),
    ("mbuffer to a file", wrap("zfs list | mbuffer -o /etc/passwd"), SENDER, "not allowed: mbuffer"),
    ("mbuffer to the network", wrap("mbuffer -O 10.0.0.1:9000"), SENDER, "not allowed: mbuffer"),
    ("zstd reads a file", wrap("zstd -q -c /etc/shadow"), SENDER, "not allowed: zstd"),
    ("pv reads a file", wrap("pv -f /etc/shadow"), SENDER, "not allowed: pv"),
    ("pv with a bad value", wrap("pv -L /etc/shadow"), SENDER, "not allowed: pv"),
    ("a stray brace", wrap("zfs list }"), SENDER, "braces"),
    ("unbalanced braces", wrap("{ zfs list"), SENDER, "unbalanced"),
    ("zpool beyond listing", wrap("zpool destroy tank"), SENDER, "not allowed: zpool"),
    ("zpool sync of another pool", wrap("zpool sync rpool"), SENDER, "not allowed: zpool sync rpool"),
    ("zpool sync of every pool", wrap("zpool sync"), SENDER, "not allowed: zpool sync"),
    ("zpool sync on a receiver", wrap("zpool sync backup"), RECEIVER, "not allowed: zpool sync backup"),
    ("a long option", wrap("zfs send --resume=1-abc-10-0000"), SENDER, "long options"),
    ("ssh onwards", wrap("ssh other zfs receive x"), SENDER, "not allowed: ssh"),
]


@pytest.mark.parametrize("original,policy,says", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_anything_else_is_refused(original, policy, says):
    with pytest.raises(gate.Refused, match=says):
        gate.checked(original, policy)


def test_a_resume_token_is_checked_by_the_snapshot_it_names():
    mine = make_token({"fromguid": 1, "object": 5, "toname": "tank/media@zsw_media_2"})
    other = make_token({"fromguid": 1, "toname": "tank/private@zsw_media_2"})
    assert gate.resume_target(mine) == "tank/media@zsw_media_2"
    assert gate.checked(wrap(ssh.quote(zfs.send_token(mine))), SENDER)
    with pytest.raises(gate.Refused, match="tank/private@zsw_media_2: not under"):
        gate.checked(wrap(ssh.quote(zfs.send_token(other))), SENDER)
    with pytest.raises(gate.Refused, match="unreadable resume token"):
        gate.checked(wrap("zfs send -t 1-abc-10-0000"), SENDER)


def test_the_gate_is_one_file_that_runs_where_the_package_is_not_installed(tmp_path):
    copy = tmp_path / "zfs-sync-gate"
    copy.write_text(open(gate.__file__).read())

    def gate_copy(script: str) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/bin:/bin", "SSH_ORIGINAL_COMMAND": ssh.remote_command(script)}
        argv = [sys.executable, "-I", str(copy), "--send", "tank/media"]
        return subprocess.run(argv, cwd="/", env=env, capture_output=True, text=True)

    done = gate_copy("zfs destroy -r tank")
    assert done.returncode == 126
    assert done.stderr.startswith("zfs-sync-gate: refused: zfs destroy: only snapshots and bookmarks")
    done = gate_copy("echo zsw-answer:$? >&2; echo 'it ran'")
    assert (done.returncode, done.stdout, done.stderr) == (0, "it ran\n", "zsw-answer:0\n")
