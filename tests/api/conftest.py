"""Fixtures of the API tests: the `Wire` double and a client pointed at it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from _wire import BASE, CLIENT_TOKEN, JWT, Wire
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from vzaps_async import ClientConfig, RetryPolicy
from vzaps_async._client import Client


@pytest.fixture(name="wire")
async def wire_fixture() -> AsyncIterator[Wire]:
    """A `Wire` mocking every route of the base URL for the duration of a test."""
    recorder = Wire()
    with aioresponses() as mocked:
        mocked.post(f"{BASE}/token", payload={"access_token": JWT, "expires_in": 3600}, repeat=True)
        pattern = re.compile(rf"^{re.escape(BASE)}/instances.*")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):

            def callback(url: URL, _method: str = method, **kwargs: Any) -> CallbackResult:
                return recorder.callback(url, method=_method, **kwargs)

            mocked.add(pattern, method=method, callback=callback, repeat=True)
        yield recorder


@pytest.fixture(name="client")
async def client_fixture() -> AsyncIterator[Client]:
    """A client pointed at the mocked base URL, with retries that do not sleep."""
    config = ClientConfig(base_url=BASE, retry=RetryPolicy(sleep=False, max_attempts=1))
    async with Client(CLIENT_TOKEN, "client-secret-value", config=config) as c:
        yield c
