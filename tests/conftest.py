"""Shared test setup."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import aioresponses.core
from aiohttp import ClientResponse

# aiohttp 3.14 made `stream_writer` a required argument of ClientResponse, and aioresponses
# (0.7.9, the latest release) does not pass it yet, so every mocked response fails to build. Until
# aioresponses ships the fix, give its responses a finished writer (output_size 0); nothing here
# reads it. The shim only applies when the installed aiohttp needs it.
if "stream_writer" in inspect.signature(ClientResponse.__init__).parameters:

    class _MockedResponse(ClientResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
            super().__init__(*args, **kwargs)

    aioresponses.core.ClientResponse = _MockedResponse  # type: ignore[misc]
