"""What pip installs is the product, and only the product."""

from __future__ import annotations

import subprocess

from tests.installed import Installed

CRON_ENV = ["env", "-i", "-C", "/", "PATH=/usr/bin:/bin", "HOME=/", "SHELL=/bin/sh"]


def test_the_wheel_holds_the_package_and_man_pages_and_no_dev_tooling(installed: Installed):
    files = installed.wheel_files()
    packages = {name.split("/")[0] for name in files if not name.startswith("zfs_sync_wizard-")}
    assert packages == {"zfs_sync_wizard"}, packages
    assert not [f for f in files if "sandbox" in f or "demo" in f or f.startswith(("dev/", "tests/"))]
    for module in (
        "running/execute.py",
        "planning/plan.py",
        "commands/zfs.py",
        "cli/run.py",
        "cli/wizard.py",
    ):
        assert f"zfs_sync_wizard/{module}" in files
    data = [f for f in files if ".data/data/share/man/" in f]
    assert sorted(f.rsplit("/", 1)[1] for f in data) == [
        "zfs-sync-job.5",
        "zfs-sync-run.8",
        "zfs-sync-wizard.1",
    ]


def test_installed_programs_start_as_cron_starts_them(installed: Installed):
    for program in ("zfs-sync-run", "zfs-sync-wizard"):
        done = subprocess.run(
            [*CRON_ENV, installed.program(program), "--version"], capture_output=True, text=True
        )
        assert done.returncode == 0 and done.stdout.startswith(program), done.stderr
    assert (installed.venv / "share" / "man" / "man8" / "zfs-sync-run.8").is_file()


def test_installed_package_is_not_the_checkout(installed: Installed):
    where = subprocess.run(
        [*CRON_ENV, installed.python, "-c", "import zfs_sync_wizard; print(zfs_sync_wizard.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(installed.venv) + "/"), where
