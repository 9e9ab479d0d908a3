"""Crontab text handling: only this tool's marked lines are ever touched."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from zfs_sync_wizard.errors import ZswError
from zfs_sync_wizard.running.execute import Executor, Result
from zfs_sync_wizard.schedule import cron

from .conftest import FakeExecutor

FOREIGN = (
    "# m h  dom mon dow   command\n"
    "MAILTO=admin@example.org\n"
    "PATH=/usr/bin:/bin\n"
    "\n"
    "*/5 * * * * /usr/local/bin/mine --flag   # my own comment\n"
    "# 0 3 * * * /old/zfs-sync-run nightly # zfs-sync-wizard:job=nightly\n"
    "@reboot /usr/bin/true\n"
)
OURS = "0 2 * * * /usr/bin/zfs-sync-run --config-dir /etc/zfs-sync-wizard nightly # zfs-sync-wizard:job=nightly\n"


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            OURS.strip(),
            cron.Entry(
                "nightly", "0 2 * * *", "/usr/bin/zfs-sync-run --config-dir /etc/zfs-sync-wizard nightly"
            ),
        ),
        ("@daily /x run # zfs-sync-wizard:job=d", cron.Entry("d", "@daily", "/x run")),
        ("30  1 * * 1-5\t/x a # zfs-sync-wizard:job=w  ", cron.Entry("w", "30  1 * * 1-5", "/x a")),
        ("# " + OURS.strip(), None),  # commented out by the person: theirs now
        ("*/5 * * * * /usr/local/bin/mine", None),
        ("MAILTO=x # zfs-sync-wizard:job=x", None),
        ("", None),
        ("0 2 * * * /x # zfs-sync-wizard:job=a trailing", None),  # marker not at the end
    ],
)
def test_parse_line(line, expected):
    assert cron.parse_line(line) == expected


def test_with_entry_appends_and_keeps_every_foreign_byte():
    after = cron.with_entry(FOREIGN, "nightly", OURS)
    assert after == FOREIGN + OURS
    assert list(cron.entries(after)) == ["nightly"]


def test_with_entry_replaces_the_old_line_in_place_of_adding_a_second():
    before = FOREIGN + OURS
    new = OURS.replace("0 2", "0 4")
    after = cron.with_entry(before, "nightly", new)
    assert after == FOREIGN + new
    assert cron.entries(after)["nightly"].schedule == "0 4 * * *"


def test_with_entry_adds_the_missing_final_newline_of_a_hand_edited_table():
    assert cron.with_entry("MAILTO=x", "a", "@daily /x # zfs-sync-wizard:job=a") == (
        "MAILTO=x\n@daily /x # zfs-sync-wizard:job=a\n"
    )


def test_without_removes_only_that_job():
    other = OURS.replace("job=nightly", "job=weekly").replace(" nightly ", " weekly ")
    text = FOREIGN + OURS + other
    assert cron.without(text, "nightly") == FOREIGN + other
    assert cron.without(text, "absent") == text


def test_without_leaves_a_commented_out_copy_alone():
    assert cron.without(FOREIGN, "nightly") == FOREIGN


def test_entries_of_an_empty_table():
    assert cron.entries("") == {}


def test_cron_quote_escapes_percent_and_quotes_spaces():
    assert cron.cron_quote(["/a b/run", "50%"]) == "'/a b/run' 50\\%"


def test_run_argv_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = cron.run_argv("n", "rel/config", "rel/state", program=["/usr/bin/zfs-sync-run"])
    assert argv == [
        "/usr/bin/zfs-sync-run",
        "--config-dir",
        str(tmp_path / "rel/config"),
        "--state-dir",
        str(tmp_path / "rel/state"),
        "n",
    ]


def _script(path: Path, first_line: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(first_line + "\nprint('x')\n")
    path.chmod(0o755)
    return path


def _venv(base: Path) -> Path:
    """A venv's bin/: an interpreter and both console scripts naming it in their #! line."""
    python = _script(base / "bin" / "python3", "#!/bin/sh")
    for name in ("zfs-sync-wizard", "zfs-sync-run"):
        _script(base / "bin" / name, f"#!{python}")
    return base / "bin"


def test_runner_program_is_the_console_script_beside_the_wizard(tmp_path):
    bin_dir = _venv(tmp_path / "venv")  # a venv not on PATH, or /usr/local/bin of a system-wide pip
    program = cron.runner_program(str(bin_dir / "zfs-sync-wizard"), str(bin_dir / "python3"))
    assert program == [str(bin_dir / "zfs-sync-run")]


def test_runner_program_follows_a_pipx_link_to_its_venv(tmp_path):
    venv_bin = _venv(tmp_path / "pipx" / "venvs" / "zfs-sync-wizard")
    local_bin = tmp_path / "local" / "bin"
    local_bin.mkdir(parents=True)
    (local_bin / "zfs-sync-wizard").symlink_to(venv_bin / "zfs-sync-wizard")
    # only the wizard linked: the runner is found where the wizard really is
    assert cron.runner_program(str(local_bin / "zfs-sync-wizard"), "/usr/bin/python3") == [
        str(venv_bin / "zfs-sync-run")
    ]
    (local_bin / "zfs-sync-run").symlink_to(venv_bin / "zfs-sync-run")
    assert cron.runner_program(str(local_bin / "zfs-sync-wizard"), "/usr/bin/python3") == [
        str(local_bin / "zfs-sync-run")
    ]


def test_runner_program_of_a_checkout_runs_bin_with_this_interpreter(tmp_path):
    for name in ("zfs-sync-wizard", "zfs-sync-run"):
        _script(tmp_path / "bin" / name, "#!/usr/bin/env python3")
    program = cron.runner_program(str(tmp_path / "bin" / "zfs-sync-wizard"), "/opt/py/bin/python3")
    assert program == ["/opt/py/bin/python3", str(tmp_path / "bin" / "zfs-sync-run")]


def test_runner_program_without_a_script_is_this_interpreter_with_m(tmp_path):
    # python -m zfs_sync_wizard.cli.wizard, or a wizard whose runner was removed
    expected = ["/opt/py/bin/python3", "-m", "zfs_sync_wizard.cli.run"]
    assert cron.runner_program("-m", "/opt/py/bin/python3") == expected
    _script(tmp_path / "bin" / "zfs-sync-wizard", "#!/usr/bin/python3")
    assert cron.runner_program(str(tmp_path / "bin" / "zfs-sync-wizard"), "/opt/py/bin/python3") == expected


def test_check_runner_starts_it_as_cron_would_and_refuses_what_does_not_start(tmp_path):
    cron.check_runner(Executor(), [sys.executable, "-m", "zfs_sync_wizard.cli.run"])  # this checkout's
    missing = tmp_path / "venv" / "bin" / "zfs-sync-run"
    with pytest.raises(cron.CrontabError, match="does not start as cron would start it") as info:
        cron.check_runner(Executor(), [str(missing)])
    assert str(missing) in str(info.value) and "nothing was changed" in str(info.value)
    # a program that starts but is not the runner is refused too
    with pytest.raises(cron.CrontabError):
        cron.check_runner(Executor(), ["/bin/true"])


def test_read_treats_no_crontab_as_empty():
    assert cron.read(FakeExecutor()) == ""


def test_read_reports_other_failures():
    ex = FakeExecutor()
    ex._crontab = lambda argv: Result("", "You (bob) are not allowed to use this program (crontab)\n", 1)
    with pytest.raises(ZswError, match="not allowed"):
        cron.read(ex)


def test_install_and_remove_through_the_executor_keep_foreign_lines():
    ex = FakeExecutor()
    ex.crontab = FOREIGN
    line = cron.install(ex, "nightly", "0 2 * * *", ["/usr/bin/zfs-sync-run", "nightly"])
    assert ex.crontab == FOREIGN + line + "\n"
    assert cron.remove(ex, "nightly") is True
    assert ex.crontab == FOREIGN
    writes = [c for c in ex.calls if c[2]]
    assert cron.remove(ex, "nightly") is False
    assert [c for c in ex.calls if c[2]] == writes, "nothing written when there was nothing to remove"


def test_install_into_a_user_without_a_crontab():
    ex = FakeExecutor()
    cron.install(ex, "a", "@hourly", ["/x"])
    assert ex.crontab == "@hourly /x # zfs-sync-wizard:job=a\n"
