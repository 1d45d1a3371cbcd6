"""A throwaway PostgreSQL server for the tests that need one (see vzaps_async.testing._postgres).

`VZAPS_TEST_POSTGRES_DSN` names a server to use instead. Without the binaries the tests skip,
except in CI (``CI=true``), where a missing server is a failure.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from vzaps_async.testing._postgres import PostgresUnavailable, throwaway_cluster


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a missing server fails the run)", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the DSN of a server for this session; skip (or fail in CI) when there is none."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        _unavailable("the PostgreSQL tests need asyncpg: pip install 'vzaps-async[postgres]'")
    try:
        with throwaway_cluster() as cluster:
            yield cluster.dsn
    except PostgresUnavailable as exc:
        _unavailable(f"the PostgreSQL tests need a server: {exc}")
