"""errors: every class's exit status and message."""

from __future__ import annotations

import pytest

from zfs_sync_wizard import errors
from zfs_sync_wizard.errors import ExitCode


def test_exit_code_values():
    assert [(c.name, int(c)) for c in ExitCode] == [
        ("OK", 0),
        ("FAILED", 1),
        ("USAGE", 2),
        ("LOCKED", 3),
        ("INTERRUPTED", 130),
    ]


@pytest.mark.parametrize(
    "error, code",
    [
        (errors.ZswError("x"), 1),
        (errors.ConfigError("job.yaml", "version: expected 1"), 2),
        (errors.UsageError("no such option"), 2),
        (errors.LockedError("another run holds the lock"), 3),
        (errors.Interrupted("interrupted"), 130),
        (errors.PrerequisiteError("'pv' is not installed"), 1),
        (errors.CommandFailed("localhost", "zfs list", 1, ""), 1),
        (errors.ConnectionFailed("backup", "ssh backup zfs list", 255, "refused"), 1),
        (errors.StageFailed("zfs send", "localhost", "zfs send x", 1, ""), 1),
        (errors.ReplicationConflict("diverged"), 1),
        (errors.VerificationFailed("guid mismatch"), 1),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_exit_code_of_each_class(error, code):
    assert isinstance(error, errors.ZswError)
    assert error.exit_code == code
    assert isinstance(error.exit_code, ExitCode)


def test_every_error_class_is_covered():
    # a new class must be added to the table above
    classes = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, errors.ZswError) and obj.__module__ == errors.__name__
    }
    assert {c.__name__ for c in classes} == {
        "ZswError",
        "ConfigError",
        "UsageError",
        "LockedError",
        "Interrupted",
        "PrerequisiteError",
        "CommandFailed",
        "ConnectionFailed",
        "StageFailed",
        "ReplicationConflict",
        "VerificationFailed",
    }


@pytest.mark.parametrize(
    "where, problem, text",
    [
        ("/etc/zsw/jobs/a.yaml", "transfer.buffer: bad", "/etc/zsw/jobs/a.yaml: transfer.buffer: bad"),
        ("", "job name: bad", "job name: bad"),
    ],
)
def test_config_error_message(where, problem, text):
    err = errors.ConfigError(where, problem)
    assert str(err) == text
    assert (err.where, err.problem) == (where, problem)


@pytest.mark.parametrize(
    "stderr, text",
    [
        ("", "command failed on nas (exit 2): zfs list"),
        ("  \n", "command failed on nas (exit 2): zfs list"),
        ("cannot open 'x'\n", "command failed on nas (exit 2): zfs list: cannot open 'x'"),
    ],
)
def test_command_failed_message(stderr, text):
    err = errors.CommandFailed("nas", "zfs list", 2, stderr)
    assert str(err) == text
    assert (err.host, err.command, err.status, err.stderr) == ("nas", "zfs list", 2, stderr)


@pytest.mark.parametrize(
    "stderr, reason",
    [
        ("", "no message"),
        (
            "ssh: connect to host nas port 22: Connection refused\n",
            "ssh: connect to host nas port 22: Connection refused",
        ),
        ("a\nb\nc\nd\n", "b c d"),  # the last three lines, on one line
    ],
)
def test_connection_failed_message(stderr, reason):
    err = errors.ConnectionFailed("root@nas", "ssh root@nas 'zfs list'", 255, stderr)
    assert str(err) == f"ssh to root@nas failed (exit 255): {reason}\n  command: ssh root@nas 'zfs list'"
    assert err.status == 255 and err.host == "root@nas"


def test_stage_failed_message():
    stderr = "\n".join(f"l{i}" for i in range(1, 11)) + "\n"
    err = errors.StageFailed("zfs receive", "backup", "zfs receive -u b/x", 1, stderr, ["pv exit 141"])
    assert str(err).splitlines() == [
        "stage 'zfs receive' failed on backup (exit 1): zfs receive -u b/x",
        "  l3",
        "  l4",
        "  l5",
        "  l6",
        "  l7",
        "  l8",
        "  l9",
        "  l10",
        "  (also: pv exit 141)",
    ]
    assert err.others == ["pv exit 141"]


def test_stage_failed_without_stderr_is_one_line():
    assert str(errors.StageFailed("pv", "localhost", "pv -f", -13, "")) == (
        "stage 'pv' failed on localhost (exit -13): pv -f"
    )
