"""A throw-away PostgreSQL server for tests: Debian's package, a private port and data folder.

Installed with apt when missing (as the browser tests install Chromium). PostgreSQL refuses
to run as root, so as root the server runs as the package's ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.apt import ensure_package


def binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: Debian keeps them out of PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def ensure_postgres() -> Path:
    """PostgreSQL's binaries, installed with apt when missing; skip (saying why) if impossible."""
    return ensure_package("postgresql", binaries)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yield the SQLAlchemy URL of an empty database on it; stop and delete it."""
    bin_dir = ensure_postgres()
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
    # not under pytest's tmp_path: its parents are private to root
    root = Path(tempfile.mkdtemp(prefix="course-postgres-"))
    data = root / "data"
    if as_user:
        shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o700)
    port = _free_port()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*as_user, *args], capture_output=True, text=True, timeout=120, cwd=root
        )

    result = run(
        str(bin_dir / "initdb"),
        *("-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"),
        *("--no-locale", "-E", "UTF8"),  # whatever locales the machine has generated
    )
    assert result.returncode == 0, result.stdout + result.stderr
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = root / "server.log"
    result = run(
        str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"
    )
    assert result.returncode == 0, (
        result.stdout + result.stderr + (log.read_text() if log.exists() else "")
    )
    try:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(
                    f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True
                ) as connection:
                    connection.execute("CREATE DATABASE gradebook")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield f"postgresql://postgres@127.0.0.1:{port}/gradebook"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)
