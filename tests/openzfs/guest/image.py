"""The guest image: where build-image caches it, and whether guests can run here."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from dev.sandbox import proc
from dev.sandbox.proc import SandboxError

HERE = Path(__file__).resolve().parent
BUILD_SCRIPT = HERE / "build-image"


def image_dir() -> Path:
    """Where ``build-image`` puts (or has put) the image for its current inputs."""
    out = proc.run([str(BUILD_SCRIPT), "--path"], env=_env_with_cache()).stdout
    return Path(out.strip())


def _env_with_cache() -> dict[str, str]:
    env = {"PATH": proc.SYSTEM_PATH, "LANG": "C.UTF-8"}
    for name in ("ZSW_GUEST_CACHE", "ZSW_DEBIAN_MIRROR", "ZSW_DEBIAN_SECURITY_MIRROR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def build_log() -> Path:
    """The log of the last build of the current image (kept in the cache)."""
    image = image_dir()
    return image.parent / f"build-{image.name}.log"


def image_ready() -> bool:
    return (image_dir() / "manifest").is_file()


def unavailable() -> str | None:
    """Why guests cannot boot here (None if they can), not counting the image."""
    if os.environ.get("ZSW_NO_OPENZFS"):
        return "OpenZFS guest tier disabled (ZSW_NO_OPENZFS is set)"
    if os.geteuid() != 0:
        return "OpenZFS guest tier needs root (guest state under /run, image cache under /var/cache)"
    tools = ("qemu-system-x86_64", "qemu-img", "ssh", "ssh-keygen")
    missing = [t for t in tools if not shutil.which(t, path=proc.SYSTEM_PATH)]
    if missing:
        return (
            f"OpenZFS guest tier: {', '.join(missing)} missing "
            "(apt-get install qemu-system-x86 qemu-utils openssh-client)"
        )
    return None


def build_image(*, quiet: bool = False) -> None:
    """Run ``build-image`` (a no-op when cached); its progress goes to stderr."""
    argv = [str(BUILD_SCRIPT)] + (["--quiet"] if quiet else [])
    # The whole environment: proxies and CA settings matter to apt and pip.
    env = dict(os.environ, PATH=proc.SYSTEM_PATH)
    result = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=None, text=True
    )
    if result.returncode != 0:
        raise SandboxError(f"build-image failed (exit {result.returncode}); its log: {build_log()}")
