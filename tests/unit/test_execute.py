"""execute: the pipeline runner and single commands, with tiny real local processes.

No ZFS and no ssh: stages are `sh`, `head`, `tr`, `yes`...  Remote stages go
through a fake `ssh` on PATH that runs its last argument with `sh -c`, which
is what the real ssh does on the far side.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zfs_sync_wizard.commands import pipeline as pl
from zfs_sync_wizard.errors import (
    CommandFailed,
    ConnectionFailed,
    ExitCode,
    Interrupted,
    PrerequisiteError,
    StageFailed,
)
from zfs_sync_wizard.jobs.endpoint import Endpoint
from zfs_sync_wizard.running import blame, execute

pytestmark = pytest.mark.timeout(30)

LOCAL = Endpoint()
REMOTE = Endpoint(host="backup")
UNREACHABLE = Endpoint(host="unreachable")
REPO = Path(__file__).resolve().parents[2]


def stage(name: str, *argv: str, endpoint: Endpoint = LOCAL) -> pl.Stage:
    return pl.Stage(name, tuple(argv), endpoint)


def sh(name: str, script: str, endpoint: Endpoint = LOCAL) -> pl.Stage:
    return stage(name, "sh", "-c", script, endpoint=endpoint)


FAKE_SSH = """#!/bin/sh
printf '%s\\n' "$*" >> "$ZSW_FAKE_SSH_LOG"
case " $* " in
  *" -O exit "*) exit 0 ;;
  *" unreachable "*) echo "ssh: connect to host unreachable port 22: Connection refused" >&2; exit 255 ;;
esac
for last; do :; done
exec sh -c "$last"
"""


@pytest.fixture
def fake_ssh(tmp_path, monkeypatch) -> Path:
    """Put a fake `ssh` first on PATH; returns the log of its command lines."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "ssh"
    script.write_text(FAKE_SSH)
    script.chmod(0o755)
    log = tmp_path / "ssh.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ZSW_FAKE_SSH_LOG", str(log))
    return log


def run_pipeline(stages, **kwargs):
    return execute.Executor(**kwargs).pipeline(stages)


# -- data flows


def test_success_returns_none_and_the_data_flows(tmp_path):
    out = tmp_path / "out"
    stages = [
        sh("zfs send", "head -c 100000 /dev/zero"),
        stage("tr", "tr", "\\0", "a"),
        sh("zfs receive", f"cat > '{out}'"),
    ]
    assert run_pipeline(stages) is None
    assert out.read_bytes() == b"a" * 100000


def test_a_large_stream_passes_through_kernel_pipes(tmp_path):
    count = tmp_path / "count"
    stages = [
        sh("zfs send", "head -c 20000000 /dev/zero"),
        stage("cat", "cat"),
        sh("zfs receive", f"wc -c > '{count}'"),
    ]
    run_pipeline(stages)
    assert int(count.read_text()) == 20_000_000


def test_first_stage_reads_nothing_from_stdin(tmp_path):
    out = tmp_path / "out"
    run_pipeline([stage("cat", "cat"), sh("save", f"cat > '{out}'")])
    assert out.read_bytes() == b""


def test_pv_stage_stderr_lines_reach_the_callback(tmp_path):
    lines = []
    stages = [
        sh("zfs send", "printf data"),
        sh("pv", "echo 4096 >&2; echo 8192 >&2; cat"),
        sh("zfs receive", "cat >/dev/null"),
    ]
    execute.Executor().pipeline(stages, on_pv_line=lines.append)
    assert lines == ["4096", "8192"]


# -- blame


def test_failing_first_stage_is_blamed():
    stages = [
        sh("zfs send", "echo 'cannot open tank/x@s: dataset does not exist' >&2; exit 3"),
        stage("tr", "tr", "\\0", "a"),
        sh("zfs receive", "cat >/dev/null"),
    ]
    with pytest.raises(StageFailed) as info:
        run_pipeline(stages)
    err = info.value
    assert (err.stage, err.status, err.host) == ("zfs send", 3, "localhost")
    assert (
        err.command == "sh -c 'echo '\"'\"'cannot open tank/x@s: dataset does not exist'\"'\"' >&2; exit 3'"
    )
    assert "cannot open tank/x@s: dataset does not exist" in str(err)
    assert str(err).startswith("stage 'zfs send' failed on localhost (exit 3): sh -c ")
    assert err.others == []
    assert err.exit_code == ExitCode.FAILED


@pytest.mark.parametrize(
    "upstream, upstream_status",
    [
        (stage("yes", "yes"), -13),  # killed by SIGPIPE
        (sh("yes", "yes; exit $?"), 141),  # a shell reporting its child's SIGPIPE
        (sh("yes", "trap '' PIPE; exec yes"), 1),  # EPIPE: "yes: standard output: Broken pipe"
    ],
    ids=["sigpipe", "shell-141", "epipe-message"],
)
def test_failing_last_stage_is_blamed_not_the_broken_pipe_upstream(upstream, upstream_status):
    stages = [upstream, sh("zfs receive", "head -c 10 >/dev/null; echo boom >&2; exit 3")]
    with pytest.raises(StageFailed) as info:
        run_pipeline(stages)
    err = info.value
    assert (err.stage, err.status) == ("zfs receive", 3)
    assert err.others == [f"yes exit {upstream_status}"]
    assert "boom" in str(err)
    assert str(err).endswith(f"  boom\n  (also: yes exit {upstream_status})")


def test_on_a_terminal_the_broken_pipe_of_mbuffer_is_not_blamed(tmp_path):
    """mbuffer writes its errors to /dev/tty when it has a controlling terminal (the wizard's
    "Run now" and restore): the stages get none, so its "Broken pipe" reaches the blame."""
    program = tmp_path / "run.py"
    program.write_text(
        "from zfs_sync_wizard.commands import pipeline as pl\n"
        "from zfs_sync_wizard.errors import StageFailed\n"
        "from zfs_sync_wizard.running.execute import Executor\n"
        "stages = [pl.Stage('zfs send', ('sh', '-c', 'exec head -c 50000000 /dev/zero')),\n"
        "          pl.Stage('mbuffer', ('mbuffer', '-q', '-s', '128k', '-m', '1M')),\n"
        "          pl.Stage('zfs receive', ('sh', '-c', 'head -c 10 >/dev/null; echo out of space >&2; exit 1'))]\n"
        "try:\n"
        "    Executor().pipeline(stages)\n"
        "except StageFailed as exc:\n"
        "    print('BLAMED', exc.stage, exc.status)\n"
    )
    if shutil.which("mbuffer") is None or shutil.which("script") is None:
        pytest.skip("needs mbuffer and script(1)")
    argv = f"{shlex.quote(sys.executable)} {shlex.quote(str(program))}"
    done = subprocess.run(  # script(1) gives the program a controlling terminal, as a person's shell does
        ["script", "-qec", argv, "/dev/null"], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert "BLAMED zfs receive 1" in done.stdout, done.stdout + done.stderr
    assert "mbuffer" not in done.stdout  # nothing of it reached the terminal


def test_failing_middle_stage_is_blamed(tmp_path):
    out = tmp_path / "out"
    stages = [
        sh("zfs send", "head -c 1000000 /dev/zero"),
        sh("zstd", "head -c 10 >/dev/null; echo 'zstd: corrupted' >&2; exit 5"),
        sh("zfs receive", f"cat > '{out}'"),
    ]
    with pytest.raises(StageFailed) as info:
        run_pipeline(stages)
    assert (info.value.stage, info.value.status) == ("zstd", 5)
    assert "zstd: corrupted" in str(info.value)


def test_genuine_upstream_failure_wins_over_the_truncated_receiver():
    # true pipefail: both fail, the upstream one did not merely break its pipe
    stages = [
        sh("zfs send", "head -c 100000 /dev/zero; echo 'send: I/O error' >&2; exit 3"),
        sh("zfs receive", "cat >/dev/null; echo 'incomplete stream' >&2; exit 4"),
    ]
    with pytest.raises(StageFailed) as info:
        run_pipeline(stages)
    assert (info.value.stage, info.value.status) == ("zfs send", 3)
    assert info.value.others == ["zfs receive exit 4"]
    assert "send: I/O error" in str(info.value)
    assert "incomplete stream" not in str(info.value)


def test_upstream_sigpipe_is_a_failure_even_when_the_last_stage_succeeds():
    # pipefail semantics: a receiver that stops reading early did not get the whole stream
    with pytest.raises(StageFailed) as info:
        run_pipeline([stage("yes", "yes"), stage("head", "head", "-c", "10")])
    assert (info.value.stage, info.value.status) == ("yes", -13)


@pytest.mark.parametrize(
    "argv, status",
    [
        (("false",), 1),
        (("sh", "-c", "exit 7"), 7),
        (("sh", "-c", "cat >/dev/null; echo boom >&2; exit 3"), 3),
    ],
)
def test_single_stage_status(argv, status):
    with pytest.raises(StageFailed) as info:
        run_pipeline([stage("only", *argv)])
    assert info.value.status == status
    assert info.value.stage == "only"


def test_stderr_tail_in_the_message_is_the_last_eight_lines():
    script = "i=1; while [ $i -le 20 ]; do echo line$i >&2; i=$((i+1)); done; exit 2"
    with pytest.raises(StageFailed) as info:
        run_pipeline([sh("zfs send", script), stage("cat", "cat")])
    lines = str(info.value).splitlines()
    assert lines[1:] == [f"  line{i}" for i in range(13, 21)]
    assert info.value.stderr.splitlines() == [f"line{i}" for i in range(1, 21)]


# -- prerequisites are resolved before anything starts


def test_missing_program_raises_before_any_stage_starts(tmp_path):
    marker = tmp_path / "started"
    stages = [sh("zfs send", f"touch '{marker}'"), stage("zstd", "zsw-no-such-program", "-c")]
    with pytest.raises(PrerequisiteError) as info:
        run_pipeline(stages)
    assert str(info.value) == (
        "'zsw-no-such-program' is not installed on localhost (install the package 'zsw-no-such-program')"
    )
    time.sleep(0.1)
    assert not marker.exists()


def test_missing_program_names_its_package(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "sh").symlink_to("/bin/sh")
    monkeypatch.setenv("PATH", str(bindir))
    marker = tmp_path / "started"
    stages = [sh("zfs send", f"/usr/bin/env touch '{marker}'"), stage("pv", "pv", "-f")]
    with pytest.raises(
        PrerequisiteError, match=r"'pv' is not installed on localhost \(install the package 'pv'\)"
    ):
        run_pipeline(stages)
    assert not marker.exists()


def test_missing_ssh_for_a_remote_stage(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "sh").symlink_to("/bin/sh")
    monkeypatch.setenv("PATH", str(bindir))
    stages = [sh("zfs send", "true"), sh("zfs receive", "cat", endpoint=REMOTE)]
    with pytest.raises(PrerequisiteError, match="install the package 'openssh-client'"):
        run_pipeline(stages)


# -- interruption


def test_interrupt_kills_every_stage_and_raises_interrupted(monkeypatch):
    real_wait = execute._wait
    calls = []

    def wait_interrupted_once(running):
        calls.append(running)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_wait(running)

    monkeypatch.setattr(execute, "_wait", wait_interrupted_once)
    started = time.monotonic()
    with pytest.raises(Interrupted) as info:
        run_pipeline([stage("zfs send", "sleep", "20"), stage("cat", "cat")])
    assert time.monotonic() - started < 10
    assert info.value.exit_code == ExitCode.INTERRUPTED == 130


# -- remote stages through the fake ssh


@pytest.mark.usefixtures("fake_ssh")
def test_remote_stages_run_and_quoting_survives_the_remote_shell(tmp_path):
    out = tmp_path / "out"
    stages = [
        sh("zfs send", "printf payload"),
        stage("tr", "tr", "a-z", "A-Z", endpoint=REMOTE),
        stage("zfs receive", "sh", "-c", 'cat > "$1"', "sh", str(out), endpoint=REMOTE),
    ]
    assert run_pipeline(stages) is None
    assert out.read_text() == "PAYLOAD"


@pytest.mark.usefixtures("fake_ssh")
def test_dataset_name_with_spaces_reaches_the_remote_command_whole(tmp_path):
    out = tmp_path / "args"
    stages = [
        sh("zfs send", "printf x"),
        stage(
            "zfs receive",
            "sh",
            "-c",
            f'cat >/dev/null; printf "%s|" "$@" > \'{out}\'',
            "sh",
            "-u",
            "backup/my data",
            endpoint=REMOTE,
        ),
    ]
    run_pipeline(stages)
    assert out.read_text() == "-u|backup/my data|"


@pytest.mark.usefixtures("fake_ssh")
def test_remote_middle_stage_is_blamed_by_its_marker():
    stages = [
        sh("zfs send", "head -c 1000 /dev/zero"),
        sh("mbuffer", "cat >/dev/null; echo 'mbuffer: out of memory' >&2; exit 5", endpoint=REMOTE),
        sh("zfs receive", "cat >/dev/null", endpoint=REMOTE),
    ]
    with pytest.raises(StageFailed) as info:
        run_pipeline(stages)
    err = info.value
    assert (err.stage, err.host, err.status) == ("mbuffer", "backup", 5)
    assert "mbuffer: out of memory" in str(err)
    assert "zsw-exit" not in str(err)


@pytest.mark.usefixtures("fake_ssh")
def test_remote_last_stage_status_comes_back_through_ssh():
    stages = [
        sh("zfs send", "head -c 1000 /dev/zero"),
        stage("tr", "tr", "\\0", "a", endpoint=REMOTE),
        sh("zfs receive", "cat >/dev/null; echo 'cannot receive' >&2; exit 6", endpoint=REMOTE),
    ]
    with pytest.raises(StageFailed) as info:
        run_pipeline(stages)
    assert (info.value.stage, info.value.host, info.value.status) == ("zfs receive", "backup", 6)


@pytest.mark.usefixtures("fake_ssh")
def test_ssh_connection_failure_is_blamed_on_ssh():
    stages = [sh("zfs send", "head -c 1000 /dev/zero"), sh("zfs receive", "cat", endpoint=UNREACHABLE)]
    with pytest.raises(StageFailed) as info:
        run_pipeline(stages)
    err = info.value
    assert (err.stage, err.status) == ("ssh to unreachable", 255)
    assert err.host == "localhost"  # ssh itself runs here
    assert "Connection refused" in str(err)


def test_close_ends_each_master_connection_once(fake_ssh, tmp_path):
    ex = execute.Executor(control_dir=str(tmp_path / "ctl"))
    ex.pipeline([sh("zfs send", "printf x"), sh("zfs receive", "cat >/dev/null", endpoint=REMOTE)])
    ex.run(REMOTE, ["true"], changes=False)
    ex.close()
    closes = [line for line in fake_ssh.read_text().splitlines() if " -O exit " in line]
    assert closes == [
        "-o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "
        f"-o ControlMaster=auto -o ControlPath={tmp_path}/ctl/%C -o ControlPersist=60 -O exit backup"
    ]
    ex.close()  # nothing left to close
    assert len([line for line in fake_ssh.read_text().splitlines() if " -O exit " in line]) == 1


def test_close_without_control_dir_runs_nothing(fake_ssh):
    ex = execute.Executor()
    ex.run(REMOTE, ["true"], changes=False)
    ex.close()
    assert " -O exit " not in fake_ssh.read_text()


# -- pure parts of the blame logic


def status(index: int, name: str, code: int, stderr=(), endpoint: Endpoint = LOCAL) -> blame.StageStatus:
    return blame.StageStatus(index, pl.Stage(name, (name,), endpoint), code, list(stderr))


@pytest.mark.parametrize(
    "statuses, culprit",
    [
        ([("a", 0), ("b", 0)], None),
        ([("a", 1), ("b", 0)], "a"),
        ([("a", -13), ("b", 2)], "b"),
        ([("a", 141), ("b", 141), ("c", 2)], "c"),
        ([("a", 3), ("b", -13), ("c", 2)], "a"),
        ([("a", -13), ("b", 0)], "a"),  # nobody downstream failed: the SIGPIPE itself is the failure
        ([("a", 0), ("b", -13), ("c", 0)], "b"),
    ],
)
def test_blame(statuses, culprit):
    found = blame.culprit([status(i, name, code) for i, (name, code) in enumerate(statuses)])
    assert (found.stage if found else None) == culprit


def test_blame_reads_broken_pipe_from_stderr():
    stages = [
        status(0, "zfs send", 1, ["warning: cannot send 'tank/x@s': Broken pipe"]),
        status(1, "recv", 1),
    ]
    assert blame.culprit(stages).stage == "recv"


def test_stage_statuses_reads_remote_markers():
    stages = [
        pl.Stage("zfs send", ("zfs", "send"), REMOTE),
        pl.Stage("zstd", ("zstd",), REMOTE),
        pl.Stage("mbuffer", ("mbuffer",), REMOTE),
        pl.Stage("zfs receive", ("zfs", "receive")),
    ]
    procs = pl.processes(stages, None)
    tails = [["zsw-exit:0:1", "cannot send", "zsw-exit:1:0"], []]
    out = blame.stage_statuses(procs, [0, 0], tails)
    assert [(s.index, s.stage.name, s.status) for s in out] == [
        (0, "zfs send", 1),
        (1, "zstd", 0),
        (2, "mbuffer", 0),
        (3, "zfs receive", 0),
    ]
    assert out[0].stderr == ["cannot send"]


def test_stage_statuses_on_ssh_error_adds_an_ssh_stage():
    stages = [pl.Stage("zfs send", ("zfs", "send")), pl.Stage("zfs receive", ("zfs", "receive"), REMOTE)]
    procs = pl.processes(stages, None)
    out = blame.stage_statuses(procs, [-13, 255], [[], ["Connection refused"]])
    assert [(s.index, s.stage.name, s.status) for s in out] == [
        (0, "zfs send", -13),
        (-1, "ssh to backup", 255),
        (1, "zfs receive", 0),
    ]
    assert blame.culprit(out).stage == "ssh to backup"


# -- single commands


def test_run_returns_output_and_status():
    result = execute.Executor().run(LOCAL, ["sh", "-c", "echo out; echo err >&2"], changes=False)
    assert result == execute.Result("out\n", "err\n", 0)


def test_run_failure_raises_command_failed():
    with pytest.raises(CommandFailed) as info:
        execute.Executor().run(LOCAL, ["sh", "-c", "echo 'no such pool' >&2; exit 4"], changes=False)
    err = info.value
    assert (err.status, err.host, err.stderr) == (4, "localhost", "no such pool\n")
    assert err.command == "sh -c 'echo '\"'\"'no such pool'\"'\"' >&2; exit 4'"
    assert str(err) == f"command failed on localhost (exit 4): {err.command}: no such pool"
    assert err.exit_code == ExitCode.FAILED


def test_run_unchecked_returns_the_failure():
    result = execute.Executor().run(LOCAL, ["sh", "-c", "exit 9"], changes=False, check=False)
    assert result.status == 9


def test_run_missing_program_is_a_prerequisite_error():
    with pytest.raises(PrerequisiteError, match="'zsw-no-such-program' is not installed on localhost"):
        execute.Executor().run(LOCAL, ["zsw-no-such-program"], changes=False)


def test_run_gives_the_command_an_empty_stdin():
    assert execute.Executor().run(LOCAL, ["cat"], changes=False).stdout == ""


@pytest.mark.parametrize(
    "dry_run, changes, runs",
    [(True, True, False), (True, False, True), (False, True, True), (False, False, True)],
)
def test_dry_run_echoes_changes_and_runs_reads(tmp_path, dry_run, changes, runs):
    marker = tmp_path / "my marker"
    echoed = []
    ex = execute.Executor(dry_run=dry_run, echo=echoed.append)
    result = ex.run(LOCAL, ["touch", str(marker)], changes=changes)
    assert marker.exists() is runs
    assert echoed == ([] if runs else [f"touch '{marker}'"])
    assert (result is None) is not runs


def test_dry_run_of_a_remote_change_names_the_host():
    echoed = []
    ex = execute.Executor(dry_run=True, echo=echoed.append)
    endpoint = Endpoint(host="backup", user="root", port=2222)
    assert ex.run(endpoint, ["zfs", "destroy", "tank/my x@s"], changes=True) is None
    assert echoed == ["[root@backup:2222] zfs destroy 'tank/my x@s'"]


def test_remote_run_goes_through_ssh(fake_ssh):
    ex = execute.Executor(control_dir="/run/ctl")
    result = ex.run(REMOTE, ["printf", "%s", "my data"], changes=False)
    assert result.stdout == "my data"
    assert fake_ssh.read_text().splitlines() == [
        "-o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "
        "-o ControlMaster=auto -o ControlPath=/run/ctl/%C -o ControlPersist=60 backup "
        "env LC_ALL=C sh -c 'printf %s '\"'\"'my data'\"'\"''"
    ]


@pytest.mark.usefixtures("fake_ssh")
def test_remote_ssh_failure_is_a_connection_failure():
    with pytest.raises(ConnectionFailed) as info:
        execute.Executor().run(UNREACHABLE, ["zfs", "list"], changes=False)
    err = info.value
    assert isinstance(err, CommandFailed)
    assert (err.host, err.status) == ("unreachable", 255)
    assert err.command.startswith("ssh -o BatchMode=yes ")
    assert err.command.endswith(" unreachable 'env LC_ALL=C sh -c '\"'\"'zfs list'\"'\"''")
    assert str(err) == (
        "ssh to unreachable failed (exit 255): ssh: connect to host unreachable port 22: Connection refused\n"
        f"  command: {err.command}"
    )


def test_remote_command_failure_names_the_host(fake_ssh):
    with pytest.raises(CommandFailed) as info:
        execute.Executor().run(REMOTE, ["sh", "-c", "echo nope >&2; exit 2"], changes=False)
    err = info.value
    assert (err.host, err.status, err.command) == ("backup", 2, "sh -c 'echo nope >&2; exit 2'")


def test_argv_wraps_remote_commands_in_ssh():
    ex = execute.Executor(control_dir=None)
    assert ex.argv(LOCAL, ["zfs", "list"]) == ["zfs", "list"]
    remote = ex.argv(REMOTE, ["zfs", "list", "tank/my x"])
    assert remote[-2:] == ["backup", "env LC_ALL=C sh -c 'zfs list '\"'\"'tank/my x'\"'\"''"]
    assert shlex.split(shlex.split(remote[-1])[4]) == ["zfs", "list", "tank/my x"]  # what arrives, whole


def test_shell_runs_a_snippet():
    result = execute.Executor().shell(LOCAL, "echo hi; echo there >&2")
    assert result == execute.Result("hi\n", "there\n", 0)
    with pytest.raises(CommandFailed) as info:
        execute.Executor().shell(LOCAL, "exit 3")
    assert (info.value.command, info.value.status) == ("exit 3", 3)
    assert execute.Executor().shell(LOCAL, "exit 3", check=False).status == 3


# -- failing closed, naming the stage behind a direct hop, and blaming by cause


def test_a_remote_stage_whose_marker_never_came_has_failed():
    stages = [
        pl.Stage("zfs send", ("zfs", "send"), REMOTE),
        pl.Stage("zstd", ("zstd",), REMOTE),
        pl.Stage("mbuffer", ("mbuffer",), REMOTE),
        pl.Stage("zfs receive", ("zfs", "receive")),
    ]
    procs = pl.processes(stages, None)
    out = blame.stage_statuses(procs, [0, 0], [["zsw-exit:0:0"], []])  # no marker for zstd
    assert [(s.stage.name, s.status) for s in out] == [
        ("zfs send", 0),
        ("zstd", None),
        ("mbuffer", 0),
        ("zfs receive", 0),
    ]
    failure = blame.culprit(out)
    assert (failure.stage, failure.status) == ("zstd", None)
    assert str(failure).startswith("stage 'zstd' failed on backup (no exit status came back): zstd")


SRC_HOST = Endpoint(host="nas", user="root")
DIRECT = pl.build(
    ["zfs", "send", "t@s"], ["zfs", "receive", "b"], SRC_HOST, REMOTE, pl.PipelineSettings(None), REMOTE
)


def _direct_statuses(status: int, tail: list[str]) -> list:
    return blame.stage_statuses(pl.processes(DIRECT, None), [status], [tail])


def test_the_stages_behind_a_direct_hop_report_through_it():
    ok = ["zsw-exit:0:0", "zsw-exit:1:0", "zsw-exit:2:0", "zsw-exit:100:0"]
    out = _direct_statuses(0, ok)
    assert [(s.stage.name, s.stage.endpoint.label, s.status) for s in out] == [
        ("zfs send", "root@nas", 0),
        ("pv", "root@nas", 0),
        ("mbuffer", "root@nas", 0),
        ("mbuffer", "backup", 0),
        ("zfs receive", "backup", 0),
    ]
    failed = blame.culprit(_direct_statuses(1, ok + ["cannot receive: destination exists"]))
    assert (failed.stage, failed.host, failed.status) == ("zfs receive", "backup", 1)  # not the hop
    missing = blame.culprit(_direct_statuses(0, ok[:3]))
    assert (missing.stage, missing.host, missing.status) == ("mbuffer", "backup", None)


def test_a_direct_hop_that_dropped_is_the_failure_and_is_retried():
    from zfs_sync_wizard.running.transfer import retryable

    failed = blame.culprit(_direct_statuses(255, ["zsw-exit:0:141", "zsw-exit:1:1", "zsw-exit:2:1"]))
    assert (failed.stage, failed.host) == ("ssh from root@nas to backup", "root@nas")
    assert retryable(failed)


def test_a_relay_whose_ssh_died_blames_the_ssh_whatever_its_peers_said():
    stages = [
        status(0, "zfs send", 0, endpoint=SRC_HOST),
        status(
            1,
            "mbuffer",
            1,
            ["mbuffer: error: outputThread: error writing to <stdout>: Connection reset"],
            SRC_HOST,
        ),
        status(2, "pv", 1, ["pv: write failed: Broken pipe"]),
        status(-1, "ssh to backup", -9),
        status(3, "zfs receive", 0, endpoint=REMOTE),
    ]
    assert blame.culprit(stages).stage == "ssh to backup"


def test_a_killed_runner_takes_its_pipeline_with_it(tmp_path):
    """SIGKILL leaves no stage running on its own (it would trip the next run)."""
    import signal
    import subprocess
    import sys

    pids = tmp_path / "pids"
    code = (
        "from zfs_sync_wizard.commands import pipeline as pl\n"
        "from zfs_sync_wizard.running import blame, execute\n"
        f"script = 'echo $$ >> {pids}; exec sleep 600'\n"
        "stage = lambda n: pl.Stage(n, ('sh', '-c', script))\n"
        "execute.Executor().pipeline([stage('zfs send'), stage('zfs receive')])\n"
    )
    runner = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 20
    while not (pids.exists() and len(pids.read_text().split()) == 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    stages = [int(p) for p in pids.read_text().split()]
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{p}").exists() for p in stages) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in stages if Path(f"/proc/{p}").exists()], "a stage outlived the runner"


def test_a_run_keeps_its_control_sockets_in_a_private_folder(monkeypatch):
    from zfs_sync_wizard.running import runner

    seen = []

    class Stop(Exception):
        pass

    def first_step(state):
        seen.append(oct(Path(state.ex.control_dir).stat().st_mode & 0o777))
        raise Stop

    monkeypatch.setattr(runner, "_run", first_step)
    with pytest.raises(Stop):
        runner.run(None, runner.RunOptions())
    assert seen == ["0o700"]


def test_feed_hands_the_text_to_stdin():
    assert execute.Executor().feed(["cat"], "To: root\n\nhello\n", timeout=10).stdout == "To: root\n\nhello\n"


def test_feed_failure_names_the_command_and_its_stderr():
    with pytest.raises(CommandFailed, match=r"exit 75\): sh -c .*: queue full"):
        execute.Executor().feed(["sh", "-c", "echo queue full >&2; exit 75"], "x", timeout=10)


def test_feed_never_waits_longer_than_its_timeout():
    started = time.monotonic()
    with pytest.raises(CommandFailed, match=r"timed out after 0.5 s"):
        execute.Executor().feed(["sleep", "30"], "x", timeout=0.5)
    assert time.monotonic() - started < 10
