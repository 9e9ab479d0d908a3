"""pipeline, zfscmd and ssh: the exact command lines a run starts (and --dry-run prints)."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

from zfs_sync_wizard.commands import pipeline as pl
from zfs_sync_wizard.commands import probes, ssh, zfs
from zfs_sync_wizard.planning import compression
from zfs_sync_wizard.planning.compression import FAST
from zfs_sync_wizard.planning.plan import Send

LOCAL = ssh.Endpoint()
SRC = ssh.Endpoint(host="nas", user="root", port=2222, ssh_key="/root/.ssh/id_zsw")
DST = ssh.Endpoint(host="backup")
CTL = "/run/zsw"

SSH = "ssh -o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"
CONTROL = f"-o ControlMaster=auto -o ControlPath={CTL}/%C -o ControlPersist=60"
SSH_SRC = f"{SSH} -p 2222 -i /root/.ssh/id_zsw -o IdentitiesOnly=yes {CONTROL} root@nas"
SSH_DST = f"{SSH} {CONTROL} backup"

STEP = Send("s2", "s1")
SEND = zfs.send("tank/data", STEP)
RECV = zfs.receive("backup/data", STEP)
ZSEND = "zfs send -I tank/data@s1 tank/data@s2"
ZRECV = "zfs receive -u backup/data"
PV = "pv -f -n -b -t -i 1"
MBUF = "mbuffer -q -s 128k -m 128M"

ZSTD = pl.PipelineSettings("zstd")
LZ4 = pl.PipelineSettings("lz4")
PLAIN = pl.PipelineSettings(None)
BARE = pl.PipelineSettings(None, None)
LIMITED = pl.PipelineSettings("zstd", "1G", "10M", 4096)


def R(script: str) -> str:
    """A remote script as the ssh argv's last word shows it: run by `env LC_ALL=C sh -c`, quoted."""
    return shlex.quote(ssh.remote_command(script))


RECV_ZSTD = f"{{ {MBUF}; echo zsw-exit:4:$? >&2; }} | {{ zstd -q -d -c; echo zsw-exit:5:$? >&2; }} | {ZRECV}"
SEND_ZSTD = f"{{ {ZSEND}; echo zsw-exit:0:$? >&2; }} | {{ zstd -q -c -3; echo zsw-exit:1:$? >&2; }} | {MBUF}"

RENDER_CASES = [
    # id, src, dst, options, expected line
    (
        "push zstd-fast (compression: auto)",
        LOCAL,
        DST,
        pl.PipelineSettings("zstd-fast"),
        f"{ZSEND} | {PV} | zstd -q -c -1 | {MBUF} | {SSH_DST} " + R(RECV_ZSTD),
    ),
    (
        "push none (auto found nothing to gain)",
        LOCAL,
        DST,
        pl.PipelineSettings("none"),
        f"{ZSEND} | {PV} | {MBUF} | {SSH_DST} " + R(f"{{ {MBUF}; echo zsw-exit:3:$? >&2; }} | {ZRECV}"),
    ),
    ("push zstd", LOCAL, DST, ZSTD, f"{ZSEND} | {PV} | zstd -q -c -3 | {MBUF} | {SSH_DST} " + R(RECV_ZSTD)),
    (
        "push lz4",
        LOCAL,
        DST,
        LZ4,
        f"{ZSEND} | {PV} | lz4 -q -c | {MBUF} | {SSH_DST} "
        + R(f"{{ {MBUF}; echo zsw-exit:4:$? >&2; }} | {{ lz4 -q -d -c; echo zsw-exit:5:$? >&2; }} | {ZRECV}"),
    ),
    (
        "push uncompressed",
        LOCAL,
        DST,
        PLAIN,
        f"{ZSEND} | {PV} | {MBUF} | {SSH_DST} " + R(f"{{ {MBUF}; echo zsw-exit:3:$? >&2; }} | {ZRECV}"),
    ),
    ("push no buffer", LOCAL, DST, BARE, f"{ZSEND} | {PV} | {SSH_DST} " + R(ZRECV)),
    (
        "push limited",
        LOCAL,
        DST,
        LIMITED,
        f"{ZSEND} | {PV} -s 4096 -L 10M | zstd -q -c -3 | mbuffer -q -s 128k -m 1G | {SSH_DST} "
        + R(RECV_ZSTD.replace(MBUF, "mbuffer -q -s 128k -m 1G")),
    ),
    (
        "pull zstd",
        SRC,
        LOCAL,
        ZSTD,
        f"{SSH_SRC} " + R(SEND_ZSTD) + f" | {MBUF} | zstd -q -d -c | {PV} | {ZRECV}",
    ),
    (
        "pull lz4 no buffer",
        SRC,
        LOCAL,
        pl.PipelineSettings("lz4", None),
        f"{SSH_SRC} "
        + R(f"{{ {ZSEND}; echo zsw-exit:0:$? >&2; }} | lz4 -q -c")
        + f" | lz4 -q -d -c | {PV} | {ZRECV}",
    ),
    ("pull bare", SRC, LOCAL, BARE, f"{SSH_SRC} " + R(ZSEND) + f" | {PV} | {ZRECV}"),
    (
        "pull limited",
        SRC,
        LOCAL,
        pl.PipelineSettings(None, "128M", "500k"),
        f"{SSH_SRC} "
        + R(f"{{ {ZSEND}; echo zsw-exit:0:$? >&2; }} | {MBUF}")
        + f" | {MBUF} | {PV} -L 500k | {ZRECV}",
    ),
    # local: compression never applies, one mbuffer
    ("local zstd requested", LOCAL, LOCAL, ZSTD, f"{ZSEND} | {PV} | {MBUF} | {ZRECV}"),
    ("local bare", LOCAL, LOCAL, BARE, f"{ZSEND} | {PV} | {ZRECV}"),
    (
        "local limited",
        LOCAL,
        LOCAL,
        LIMITED,
        f"{ZSEND} | {PV} -s 4096 -L 10M | mbuffer -q -s 128k -m 1G | {ZRECV}",
    ),
    ("relay zstd", SRC, DST, ZSTD, f"{SSH_SRC} " + R(SEND_ZSTD) + f" | {PV} | {SSH_DST} " + R(RECV_ZSTD)),
    ("relay bare", SRC, DST, BARE, f"{SSH_SRC} " + R(ZSEND) + f" | {PV} | {SSH_DST} " + R(ZRECV)),
]


@pytest.mark.parametrize(
    "src, dst, opts, expected",
    [case[1:] for case in RENDER_CASES],
    ids=[case[0] for case in RENDER_CASES],
)
def test_render(src, dst, opts, expected):
    assert pl.render(pl.build(SEND, RECV, src, dst, opts), CTL) == expected


def test_render_without_control_dir_has_no_control_options():
    line = pl.render(pl.build(SEND, RECV, LOCAL, DST, BARE))
    assert line == (
        "zfs send -I tank/data@s1 tank/data@s2 | pv -f -n -b -t -i 1 | ssh -o BatchMode=yes "
        "-o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 backup "
        "'env LC_ALL=C sh -c '\"'\"'zfs receive -u backup/data'\"'\"''"
    )


@pytest.mark.parametrize(
    "src, dst, names",
    [
        (
            LOCAL,
            DST,
            [
                ("zfs send", LOCAL),
                ("pv", LOCAL),
                ("zstd", LOCAL),
                ("mbuffer", LOCAL),
                ("mbuffer", DST),
                ("zstd -d", DST),
                ("zfs receive", DST),
            ],
        ),
        (
            SRC,
            LOCAL,
            [
                ("zfs send", SRC),
                ("zstd", SRC),
                ("mbuffer", SRC),
                ("mbuffer", LOCAL),
                ("zstd -d", LOCAL),
                ("pv", LOCAL),
                ("zfs receive", LOCAL),
            ],
        ),
        (LOCAL, LOCAL, [("zfs send", LOCAL), ("pv", LOCAL), ("mbuffer", LOCAL), ("zfs receive", LOCAL)]),
    ],
    ids=["push", "pull", "local"],
)
def test_stage_names_and_hosts(src, dst, names):
    stages = pl.build(SEND, RECV, src, dst, ZSTD)
    assert [(s.name, s.endpoint) for s in stages] == names


def test_every_stage_argv_is_a_tuple_of_strings():
    for src, dst in [(LOCAL, DST), (SRC, LOCAL), (LOCAL, LOCAL), (SRC, DST)]:
        for stage in pl.build(SEND, RECV, src, dst, LIMITED):
            assert isinstance(stage.argv, tuple)
            assert all(isinstance(a, str) for a in stage.argv)


# -- quoting: names with spaces survive two rounds of shell parsing

SPACED_STEP = Send("zsw_j_2", "zsw_j_1")
SPACED_SEND = zfs.send("tank/my data", SPACED_STEP)
SPACED_RECV = zfs.receive("backup/my vms", SPACED_STEP)


def remote_script(command: str) -> str:
    """The script a remote login shell hands to `env LC_ALL=C sh -c` (the third round of parsing)."""
    words = shlex.split(command)
    assert words[:4] == ["env", "LC_ALL=C", "sh", "-c"] and len(words) == 5, words
    return words[4]


def shell_words(script: str) -> list[str]:
    """Words of a shell line as sh splits them, with ; | > & as separate tokens."""
    return list(shlex.shlex(script, posix=True, punctuation_chars=True))


@pytest.mark.parametrize("src, dst", [(LOCAL, DST), (SRC, LOCAL), (SRC, DST), (LOCAL, LOCAL)])
def test_spaces_round_trip_through_the_shell(src, dst):
    stages = pl.build(SPACED_SEND, SPACED_RECV, src, dst, ZSTD)
    procs = pl.processes(stages, "/run/zsw ctl")
    # the whole line splits into exactly the processes' argvs, joined by "|"
    words = shlex.split(pl.render(stages, "/run/zsw ctl"))
    expected_words = []
    for proc in procs:
        expected_words += (["|"] if expected_words else []) + list(proc.argv)
    assert words == expected_words
    # each remote script splits back into its stages' argvs
    for proc in (p for p in procs if p.remote):
        assert "ControlPath=/run/zsw ctl/%C" in proc.argv
        script = remote_script(proc.argv[-1])
        script_words = shell_words(script)
        for stage in proc.stages:
            text = " ".join(shlex.quote(a) for a in stage.argv)
            assert text in script
            assert all(a in script_words for a in stage.argv)
    all_words = words + [w for p in procs if p.remote for w in shell_words(remote_script(p.argv[-1]))]
    assert "tank/my data@zsw_j_1" in all_words
    assert "tank/my data@zsw_j_2" in all_words
    assert "backup/my vms" in all_words


def test_spaced_push_exact_line():
    stages = pl.build(SPACED_SEND, SPACED_RECV, LOCAL, DST, BARE)
    assert pl.render(stages) == (
        "zfs send -I 'tank/my data@zsw_j_1' 'tank/my data@zsw_j_2' | pv -f -n -b -t -i 1 | "
        "ssh -o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "
        "backup " + R("zfs receive -u 'backup/my vms'")
    )


# -- processes


def stage(name: str, endpoint: ssh.Endpoint = LOCAL) -> pl.Stage:
    return pl.Stage(name, (name, "-x"), endpoint)


def test_processes_groups_consecutive_stages_on_one_host():
    other = ssh.Endpoint(host="other")
    stages = [
        stage("a", SRC),
        stage("b", SRC),
        stage("c"),
        stage("d"),
        stage("e", DST),
        stage("f", DST),
        stage("g", other),
        stage("h", DST),
    ]
    procs = pl.processes(stages, None)
    assert [[s.name for s in p.stages] for p in procs] == [["a", "b"], ["c"], ["d"], ["e", "f"], ["g"], ["h"]]
    assert [p.remote for p in procs] == [True, False, False, True, True, True]
    assert [p.endpoint for p in procs] == [SRC, LOCAL, LOCAL, DST, other, DST]
    assert procs[1].argv == ("c", "-x")
    # remote scripts number their stages by position in the whole pipeline
    assert procs[0].argv[-1] == ssh.remote_command("{ a -x; echo zsw-exit:0:$? >&2; } | b -x")
    assert procs[3].argv[-1] == ssh.remote_command("{ e -x; echo zsw-exit:4:$? >&2; } | f -x")
    assert procs[4].argv[-1] == ssh.remote_command("g -x")
    assert procs[5].argv[-1] == ssh.remote_command("h -x")
    assert procs[5].argv[:-1] == tuple(ssh.ssh_argv(DST, None))


def test_processes_of_an_empty_pipeline():
    assert pl.processes([], None) == []
    assert pl.render([]) == ""


@pytest.mark.parametrize(
    "first_index, expected",
    [
        (0, "{ a -x; echo zsw-exit:0:$? >&2; } | { b -x; echo zsw-exit:1:$? >&2; } | c -x"),
        (5, "{ a -x; echo zsw-exit:5:$? >&2; } | { b -x; echo zsw-exit:6:$? >&2; } | c -x"),
    ],
)
def test_remote_script(first_index, expected):
    assert pl.remote_script([stage("a"), stage("b"), stage("c")], first_index) == expected


# -- markers


@pytest.mark.parametrize(
    "lines, statuses, rest",
    [
        ([], {}, []),
        (["zsw-exit:0:0", "zsw-exit:1:141"], {0: 0, 1: 141}, []),
        (["  zsw-exit:4:1\n", "cannot receive: failed"], {4: 1}, ["cannot receive: failed"]),
        (["warning: x", "zsw-exit:2:0", "error"], {2: 0}, ["warning: x", "error"]),
        # only whole lines are markers
        (["see zsw-exit:1:2", "zsw-exit:1:2 trailing", "zsw-exit:x:2", "zsw-exit:1:"], {}, None),
        # a later marker for the same stage wins
        (["zsw-exit:3:0", "zsw-exit:3:7"], {3: 7}, []),
    ],
)
def test_markers(lines, statuses, rest):
    found, others = pl.markers(lines)
    assert found == statuses
    assert others == (lines if rest is None else rest)


# -- pv and mbuffer


@pytest.mark.parametrize(
    "opts, expected",
    [
        (pl.PipelineSettings(), ["pv", "-f", "-n", "-b", "-t", "-i", "1"]),
        (pl.PipelineSettings(size=0), ["pv", "-f", "-n", "-b", "-t", "-i", "1"]),
        (pl.PipelineSettings(size=123), ["pv", "-f", "-n", "-b", "-t", "-i", "1", "-s", "123"]),
        (pl.PipelineSettings(bandwidth_limit="5M"), ["pv", "-f", "-n", "-b", "-t", "-i", "1", "-L", "5M"]),
    ],
)
def test_pv_argv(opts, expected):
    assert pl.pv_argv(opts) == expected


def test_mbuffer_argv():
    assert pl.mbuffer_argv("2G") == ["mbuffer", "-q", "-s", "128k", "-m", "2G"]


def test_unknown_compression_means_none():
    stages = pl.build(SEND, RECV, LOCAL, DST, pl.PipelineSettings("gzip", None))
    assert [s.name for s in stages] == ["zfs send", "pv", "zfs receive"]


# -- zfscmd


@pytest.mark.parametrize(
    "step, send, receive",
    [
        (Send("b"), ["zfs", "send", "tank/x@b"], ["zfs", "receive", "-u", "backup/x"]),
        (
            Send("c", "a"),
            ["zfs", "send", "-I", "tank/x@a", "tank/x@c"],
            ["zfs", "receive", "-u", "backup/x"],
        ),
        (
            Send("c", "a", intermediate=False),
            ["zfs", "send", "-i", "tank/x@a", "tank/x@c"],
            ["zfs", "receive", "-u", "backup/x"],
        ),
        (
            Send("c", "a", force=True),
            ["zfs", "send", "-I", "tank/x@a", "tank/x@c"],
            ["zfs", "receive", "-u", "-F", "backup/x"],
        ),
    ],
)
def test_send_and_receive(step, send, receive):
    assert zfs.send("tank/x", step) == send
    assert zfs.receive("backup/x", step) == receive


@pytest.mark.parametrize(
    "argv, expected",
    [
        (zfs.snapshot("tank/x", "s1", False), ["zfs", "snapshot", "tank/x@s1"]),
        (zfs.snapshot("tank/x", "s1", True), ["zfs", "snapshot", "-r", "tank/x@s1"]),
        (zfs.destroy_snapshot("tank/my x", "s1"), ["zfs", "destroy", "tank/my x@s1"]),
        (zfs.rollback("backup/x", "s1"), ["zfs", "rollback", "-r", "backup/x@s1"]),
        (zfs.create_parents("backup/hosts"), ["zfs", "create", "-p", "backup/hosts"]),
        (zfs.set_readonly("backup/x"), ["zfs", "set", "readonly=on", "backup/x"]),
    ],
)
def test_zfs_commands(argv, expected):
    assert argv == expected


# -- ssh

BASE_SSH = [
    "ssh",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=15",
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=4",
]


@pytest.mark.parametrize(
    "endpoint, control_dir, extra, tail",
    [
        (ssh.Endpoint(host="b"), None, (), ["b"]),
        (ssh.Endpoint(host="b", user="zsw"), None, (), ["zsw@b"]),
        (ssh.Endpoint(host="b", port=2222), None, (), ["-p", "2222", "b"]),
        (ssh.Endpoint(host="b", port=22), None, (), ["b"]),
        (
            ssh.Endpoint(host="b", ssh_key="/k ey"),
            None,
            (),
            ["-i", "/k ey", "-o", "IdentitiesOnly=yes", "b"],
        ),
        (
            ssh.Endpoint(host="b", known_hosts="/etc/zsw/known_hosts"),
            None,
            (),
            ["-o", "UserKnownHostsFile=/etc/zsw/known_hosts", "b"],
        ),
        (
            ssh.Endpoint(host="b"),
            "/tmp/zsw-ssh-1",
            (),
            [
                "-o",
                "ControlMaster=auto",
                "-o",
                "ControlPath=/tmp/zsw-ssh-1/%C",
                "-o",
                "ControlPersist=60",
                "b",
            ],
        ),
        (
            ssh.Endpoint(host="b", user="u", port=2200, ssh_key="/k"),
            "/c",
            ("-O", "exit"),
            [
                "-p",
                "2200",
                "-i",
                "/k",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "ControlMaster=auto",
                "-o",
                "ControlPath=/c/%C",
                "-o",
                "ControlPersist=60",
                "-O",
                "exit",
                "u@b",
            ],
        ),
    ],
)
def test_ssh_argv(endpoint, control_dir, extra, tail):
    assert ssh.ssh_argv(endpoint, control_dir, extra) == BASE_SSH + tail


def test_remote_and_close_argv():
    endpoint = ssh.Endpoint(host="b")
    assert ssh.remote_argv(endpoint, None, "zfs list") == BASE_SSH + ["b", "env LC_ALL=C sh -c 'zfs list'"]
    assert ssh.close_argv(endpoint, "/c") == BASE_SSH + [
        "-o",
        "ControlMaster=auto",
        "-o",
        "ControlPath=/c/%C",
        "-o",
        "ControlPersist=60",
        "-O",
        "exit",
        "b",
    ]


@pytest.mark.parametrize(
    "endpoint, is_local, target, label",
    [
        (ssh.Endpoint(), True, "None", "localhost"),
        (ssh.Endpoint(host="b"), False, "b", "b"),
        (ssh.Endpoint(host="b", user="root"), False, "root@b", "root@b"),
        (ssh.Endpoint(host="b", user="root", port=2222), False, "root@b", "root@b:2222"),
        (ssh.Endpoint(host="192.0.2.7", port=22), False, "192.0.2.7", "192.0.2.7"),
    ],
)
def test_endpoint(endpoint, is_local, target, label):
    assert (endpoint.is_local, endpoint.target, endpoint.label) == (is_local, target, label)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["zfs", "list"], "zfs list"),
        (["zfs", "destroy", "tank/my x@s"], "zfs destroy 'tank/my x@s'"),
        (["sh", "-c", "echo $HOME; it's"], "sh -c 'echo $HOME; it'\"'\"'s'"),
        (["printf", ""], "printf ''"),
    ],
)
def test_quote(argv, expected):
    assert ssh.quote(argv) == expected
    assert pl.shell_join(argv) == expected
    assert shlex.split(expected) == argv


@pytest.mark.parametrize(
    ("stderr", "status", "rest"),
    [
        (
            "cannot resume send: 'tank/m@s' used in the initial send no longer exists\nzsw-answer:255\n",
            255,
            "cannot resume send: 'tank/m@s' used in the initial send no longer exists",
        ),
        ("zsw-answer:0\n", 0, ""),
        (
            "Connection to 10.0.0.2 closed by remote host.\n",
            None,
            "Connection to 10.0.0.2 closed by remote host.",
        ),
        ("", None, ""),
        ("zsw-answer:x\n", None, "zsw-answer:x"),
    ],
)
def test_an_answer_is_told_from_a_connection_that_failed_before_it(stderr, status, rest):
    # zfs itself exits 255 for an unusable token: only the mark says zfs answered
    assert probes.parse_answer(stderr) == (status, rest)
    assert (
        probes.answered(["zfs", "send", "-nvP", "-t", "1-abc"])
        == "zfs send -nvP -t 1-abc; echo zsw-answer:$? >&2"
    )


@pytest.mark.parametrize("endpoint", [DST, SRC, ssh.Endpoint(host="b", known_hosts="/etc/zsw/known_hosts")])
def test_ssh_never_asks_and_never_trusts_an_unknown_host_key(endpoint):
    for argv in (
        ssh.ssh_argv(endpoint, "/run/c"),
        ssh.remote_argv(endpoint, None, "true"),
        ssh.close_argv(endpoint, "/c"),
    ):
        text = " ".join(argv)
        assert "BatchMode=yes" in text  # never a password or passphrase prompt
        assert "StrictHostKeyChecking" not in text  # never turned off: BatchMode refuses unknown keys
        assert "UserKnownHostsFile=/dev/null" not in text


def test_sample_is_the_stream_start_through_autos_compressor_counted():
    argv = pl.sample(["zfs", "send", "-L", "tank/media@a b"], 4 << 20)
    assert argv == [
        "sh",
        "-c",
        "{ zfs send -L 'tank/media@a b' 2>/dev/null | head -c 4194304 | tee /dev/fd/3 | zstd -q -c -1"
        " | wc -c >&2; } 3>&1 | wc -c",
    ]


@pytest.mark.parametrize(
    "data, read, codec",
    [("random", 4 << 20, None), ("text", 4 << 20, FAST), ("short", 1000, FAST), ("failed", 0, FAST)],
)
def test_the_sample_command_counts_what_it_read_and_what_zstd_made_of_it(tmp_path, data, read, codec):
    """The real command on real bytes (cat standing in for zfs send): 8 MiB offered, 4 read."""
    path = tmp_path / data
    content = {
        "random": os.urandom(8 << 20),
        "text": b"a line of text, again\n" * 400_000,
        "short": b"x" * 1000,
        "failed": b"",
    }[data]
    path.write_bytes(content)
    send = ["cat", str(path)] if data != "failed" else ["cat", str(tmp_path / "missing")]
    done = subprocess.run(pl.sample(send, 4 << 20), capture_output=True, text=True, check=True)
    counted, compressed = pl.sample_counts(done.stdout, done.stderr)
    assert counted == read, (done.stdout, done.stderr)
    choice = compression.of_sample(
        counted, compressed
    )  # random: none; short or failed: as the properties said
    assert choice.codec == codec, choice
    assert ("failed" in choice.reason) is (data in ("short", "failed")), choice


@pytest.mark.parametrize(
    "stdout, stderr, counts",
    [
        ("4194304\n", "4194401\n", (4194304, 4194401)),
        ("", "tee: oops\n", (None, None)),
        ("7\n", "x\n12\n", (7, 12)),
    ],
)
def test_sample_counts(stdout, stderr, counts):
    assert pl.sample_counts(stdout, stderr) == counts
