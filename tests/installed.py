"""The product as users install it: a wheel built from this checkout and
installed with pip into a fresh venv that is not on PATH.

Built once per test session (the ``installed`` fixture in tests/conftest.py;
``product()`` for helpers outside fixtures) from a copy of the checkout's
files as git knows them, so nothing left lying around (build/,
*.egg-info, a stale module) reaches the wheel.  The integration tiers run
``Installed.program(...)`` by its absolute path, with no PYTHONPATH and
from ``/``, so a packaging mistake (a missing module or data file, an entry
point that imports the dev tooling) fails a test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PIP_QUIET = ("-q", "--disable-pip-version-check")


@dataclass(frozen=True)
class Installed:
    base: Path
    wheel: Path

    @property
    def venv(self) -> Path:
        return self.base / "venv"

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def program(self, name: str) -> str:
        """The absolute path of an installed console script (zfs-sync-run, zfs-sync-wizard)."""
        return str(self.venv / "bin" / name)

    def wheel_files(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as wheel:
            return wheel.namelist()


_built: Installed | None = None


def product() -> Installed:
    global _built
    if _built is None:
        _built = build(Path(tempfile.mkdtemp(prefix="zsw-installed-")))
    return _built


def remove() -> None:
    global _built
    if _built is not None:
        shutil.rmtree(_built.base, ignore_errors=True)
        _built = None


def build(base: Path) -> Installed:
    source, dist = base / "source", base / "dist"
    for name in checkout_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    _run([sys.executable, "-m", "pip", "wheel", *PIP_QUIET, "--no-deps", "-w", str(dist), str(source)])
    wheel = next(dist.glob("zfs_sync_wizard-*.whl"))
    _run([sys.executable, "-m", "venv", str(base / "venv")])
    _run([str(base / "venv" / "bin" / "pip"), "install", *PIP_QUIET, str(wheel)])
    shutil.rmtree(source)
    return Installed(base, wheel)


def checkout_files() -> list[str]:
    """The files of this checkout as git knows them (tracked, or new and not ignored)."""
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listing.split("\0") if name and (REPO / name).is_file()]


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, cwd="/")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
