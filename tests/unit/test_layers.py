"""The layers are a contract (import-linter, setup.cfg): pure planning and
command building never import what starts processes, and only
running/execute.py imports `sh` or `subprocess`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT = str(Path(sys.executable).with_name("lint-imports"))


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--no-cache"], cwd=tree, capture_output=True, text=True)


def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "zfs_sync_wizard", tmp_path / "zfs_sync_wizard")
    shutil.copy(REPO / "setup.cfg", tmp_path / "setup.cfg")
    return tmp_path


def test_the_tree_keeps_its_contracts():
    result = lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("planning/plan.py", "from ..running import execute", "Layers"),
        ("planning/retention.py", "import subprocess", "Pure modules"),
        ("commands/zfs.py", "import sh", "Pure modules"),
        ("wizard/prompts.py", "import subprocess", "Only running/execute.py starts processes"),
    ],
)
def test_a_broken_layer_fails_the_check(tmp_path, module, line, contract):
    tree = copy_of_the_package(tmp_path)
    path = tree / "zfs_sync_wizard" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    broken = [text for text in result.stdout.splitlines() if " BROKEN" in text]
    assert any(text.startswith(contract) for text in broken), result.stdout
