"""Debian packages that tests need (Chromium, PostgreSQL), installed with apt when missing.

Two xdist workers may need a package at once; apt allows one install at a time, so they
take turns through a lock file instead of failing on dpkg's lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

LOCK = Path("/tmp/course-tests-apt.lock")


def ensure_package(package: str, found: Callable[[], Path | None]) -> Path:
    """``found()`` once ``package`` is installed; skip (saying why) when it cannot be."""
    path = found()
    if path:
        return path
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(f"{package} is missing and cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = found()  # another worker may have installed it meanwhile
        if path:
            return path
        wait = ["-o", "DPkg::Lock::Timeout=600"]
        for command in (
            ["apt-get", *wait, "update", "-qq"],
            ["apt-get", *wait, "install", "-y", "-qq", package],
        ):
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
            if result.returncode != 0:
                pytest.skip(f"could not install {package} with apt: {result.stderr[-500:]}")
    path = found()
    if not path:
        pytest.skip(f"apt installed {package}, but it cannot be found")
    return path
