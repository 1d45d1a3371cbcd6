"""Package names that import their module on first use (PEP 562 module ``__getattr__``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    namespace: dict[str, Any], modules: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of a package whose names load on first use.

    Use as ``__getattr__, __dir__ = lazy_names(globals(), {"Name": "module", ...})``, with the
    same names imported under ``TYPE_CHECKING`` for mypy and IDEs.

    Args:
        namespace: The package's ``globals()``; a loaded name is stored there, so later lookups
            find it without calling ``__getattr__``.
        modules: Each lazy name and the module defining it, relative to the package.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *namespace["__all__"]})

    return __getattr__, __dir__
