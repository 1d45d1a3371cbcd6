"""``VZAPS_LOG=debug|info``: turn on the package's logging from the environment.

Like ``OPENAI_LOG``: with the variable set, the ``vzaps_async`` logger gets that level and a
stderr handler (once), so one line per attempt (``debug``) or retries and wire-form fallbacks
(``info``) show up without any logging setup in the application. The log lines carry methods,
paths, statuses and timings, never headers, bodies or secrets.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping

__all__ = ["configure_from_env"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


class _EnvHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler `configure_from_env` adds (a class of its own, so it is added once)."""


def configure_from_env(env: Mapping[str, str] | None = None) -> None:
    """Apply ``VZAPS_LOG`` to the ``vzaps_async`` logger; an unknown value warns and does nothing.

    Args:
        env: The environment to read (default ``os.environ``).
    """
    value = (os.environ if env is None else env).get("VZAPS_LOG", "").strip().lower()
    if not value:
        return
    level = _LEVELS.get(value)
    if level is None:
        warnings.warn(
            f"VZAPS_LOG={value!r} is not 'debug' or 'info'; vzaps_async logging stays as it is",
            stacklevel=2,
        )
        return
    logger = logging.getLogger("vzaps_async")
    logger.setLevel(level)
    if not any(isinstance(handler, _EnvHandler) for handler in logger.handlers):
        handler = _EnvHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
