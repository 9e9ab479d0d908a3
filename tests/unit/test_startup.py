"""Start-up: each command of the runner imports what it needs, not what every command might.

Measured in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sh", "yaml", "croniter", "humanize", "questionary", "prompt_toolkit", "dateutil")


def heavy_imported(code: str) -> list[str]:
    """The heavy modules imported once `code` has run in a fresh interpreter."""
    code += f"\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_no_heavy_module(argv):
    main = f"from zfs_sync_wizard.cli import run\ntry:\n    run.main({argv!r})\nexcept SystemExit:\n    pass"
    assert heavy_imported(main) == []


def test_a_run_imports_no_scheduling_size_or_prompt_library(tmp_path):
    """What a run of a job loads (cli/run.py's _run_job): YAML for the job and `sh` for the
    commands; croniter and humanize wait for a schedule, a notification or a size shown, and
    questionary belongs to the wizard."""
    path = tmp_path / "j.yaml"
    path.write_text("source: {dataset: tank/a}\ndestination: {dataset: tank/b}\n")
    code = (
        "from zfs_sync_wizard.cli import run\n"
        "from zfs_sync_wizard.jobs.job import load_job\n"
        "from zfs_sync_wizard.operations import metrics, notify\n"
        "from zfs_sync_wizard.running import lock, logfile, records, runner\n"
        f"load_job(__import__('pathlib').Path({str(path)!r}))\n"
    )
    assert heavy_imported(code) == ["sh", "yaml"]
