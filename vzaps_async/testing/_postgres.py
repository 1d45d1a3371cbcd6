"""A throwaway PostgreSQL cluster, for tests and benchmarks of `PostgresJournal`.

`throwaway_cluster` makes a cluster with the machine's ``initdb``/``pg_ctl`` (found with
``pg_config --bindir`` or under ``/usr/lib/postgresql/*/bin``) in a temporary folder, listening on
127.0.0.1 and a free port, run as the ``postgres`` system user when the caller is root, and stops
and deletes it on exit. `PostgresUnavailable` says what to install when it cannot.
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

__all__ = ["INSTALL_HINT", "Cluster", "PostgresUnavailable", "throwaway_cluster"]

INSTALL_HINT = (
    "install PostgreSQL (Debian/Ubuntu: apt-get install postgresql) so that initdb and pg_ctl "
    "are found, or set VZAPS_TEST_POSTGRES_DSN=postgresql://user@host:port/db"
)


class PostgresUnavailable(RuntimeError):
    """No cluster could be started here (the message says why and what to install)."""


class Cluster:
    """A running throwaway cluster.

    Args:
        dsn: The DSN of its ``postgres`` database (user ``postgres``, no password).
        data: Its data folder (None for a server given by ``VZAPS_TEST_POSTGRES_DSN``).
    """

    def __init__(self, dsn: str, data: Path | None) -> None:
        self.dsn = dsn
        self.data = data

    @property
    def postmaster_pid(self) -> int | None:
        """The server's main process id (None for a server not started here)."""
        if self.data is None:
            return None
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None


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


@contextlib.contextmanager
def throwaway_cluster(*, env_dsn: str = "VZAPS_TEST_POSTGRES_DSN") -> Iterator[Cluster]:
    """Start a cluster (or use the server named by ``$VZAPS_TEST_POSTGRES_DSN``); stop it after.

    Args:
        env_dsn: The environment variable that may name a server to use instead.

    Raises:
        PostgresUnavailable: No binaries, or the cluster did not start.
    """
    given = os.environ.get(env_dsn)
    if given:
        yield Cluster(given, None)
        return
    bindir = _bindir()
    if bindir is None:
        raise PostgresUnavailable(f"no PostgreSQL server binaries: {INSTALL_HINT}")
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
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        # fsync off: the tests kill workers, never the machine.
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
             "-w", "-t", "60", "start"],
            check=True,
            capture_output=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        output = getattr(exc, "stderr", None) or b""
        detail = output.decode(errors="replace")[-500:] if isinstance(output, bytes) else exc
        raise PostgresUnavailable(f"could not start a cluster with {bindir}: {detail}") from exc
    try:
        yield Cluster(f"postgresql://postgres@127.0.0.1:{port}/postgres", data)
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
