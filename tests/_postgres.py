"""A throwaway PostgreSQL server for the tests that need one.

`VZAPS_TEST_POSTGRES_DSN` names a server to use instead. Otherwise a cluster is made with the
machine's ``initdb``/``pg_ctl`` (found with ``pg_config --bindir`` or under
``/usr/lib/postgresql/*/bin``) in a temporary folder, listening on 127.0.0.1 and a free port, run
as the ``postgres`` system user when the tests run as root, and stopped at the end. Without the
binaries the tests skip, except in CI (``CI=true``), where a missing server is a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL_HINT = (
    "the PostgreSQL tests need a server: install PostgreSQL (Debian/Ubuntu: "
    "apt-get install postgresql) so that initdb and pg_ctl are found, or set "
    "VZAPS_TEST_POSTGRES_DSN=postgresql://user@host:port/db"
)


def _bindir() -> Path | None:
    candidates: list[Path] = []
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        candidates.append(Path(out))
    candidates.extend(Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a missing server fails the run)", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a cluster; yield the DSN of its ``postgres`` database; stop and delete it."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        _unavailable("the PostgreSQL tests need asyncpg: pip install 'vzaps-async[postgres]'")
    given = os.environ.get("VZAPS_TEST_POSTGRES_DSN")
    if given:
        yield given
        return
    bindir = _bindir()
    if bindir is None:
        _unavailable(INSTALL_HINT)
        return
    as_root = os.geteuid() == 0
    prefix: list[str] = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="vzaps-pg-"))
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    sockets.mkdir()
    if as_root:
        # The server refuses to run as root; its files must belong to the postgres user.
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    try:
        subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        # fsync off: the tests kill workers, never the machine.
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        output = (exc.stderr or b"").decode(errors="replace")[-500:]
        _unavailable(f"could not start a PostgreSQL cluster with {bindir}: {output}")
        return
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
