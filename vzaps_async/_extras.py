"""Optional extras: name the ``pip install`` line when a feature's libraries are missing.

The core install has no rich, segno or pytest-asyncio. Each feature that needs them
calls `require` before doing any work, so a user sees one line naming the extra to install
rather than a traceback from deep inside a run.
"""

from __future__ import annotations

import importlib.util

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ImportError):
    """A feature needs libraries of an extra that is not installed.

    Args:
        what: The feature, e.g. ``"vzaps-async onboard"``.
        extra: The extra that installs them, e.g. ``"cli"``.
        modules: The missing modules.
    """

    def __init__(self, what: str, extra: str, modules: list[str]) -> None:
        self.extra = extra
        super().__init__(
            f"{what} needs {', '.join(modules)}, which the [{extra}] extra installs: "
            f"pip install 'vzaps-async[{extra}]'",
            name=modules[0],
        )


def require(what: str, extra: str, *modules: str) -> None:
    """Raise `MissingExtraError` unless every module is importable.

    Args:
        what: The feature that needs them, for the message.
        extra: The extra that installs them.
        *modules: Top-level module names.
    """
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError(what, extra, missing)
