"""Raw responses, per-call options (`with_options`) and ``VZAPS_LOG``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from _wire import BASE, CLIENT_TOKEN, IID, INSTANCE_TOKEN, JWT, Wire

from vzaps_async import Client, ClientConfig, InputError, RetryPolicy, ServerError, Timeouts
from vzaps_async._logs import _EnvHandler, configure_from_env
from vzaps_async._raw import recording
from vzaps_async.testing import Simulator

SECRET = "client-secret-value"


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    """A client of the mocked base URL that retries (without sleeping) up to 4 attempts."""
    config = ClientConfig(base_url=BASE, retry=RetryPolicy(sleep=False, max_attempts=4))
    async with Client(CLIENT_TOKEN, SECRET, config=config) as c:
        yield c


async def test_raw_gives_status_headers_and_request_id_beside_the_model(sim: Simulator) -> None:
    """raw() returns the parsed model with the last response's status, headers and request id."""
    async with Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client:
        resp = await client.raw(client.instances.create("shop-raw"))
        assert resp.parsed.name == "shop-raw"
        assert resp.status == 200
        assert str(resp.request_id).startswith("req_")
        assert resp.headers["Content-Type"].startswith("application/json")
        # The JWT fetch is listed but is not "the" response of the call.
        assert [(e.method, e.path) for e in resp.exchanges] == [
            ("POST", "/token"),
            ("PUT", "/instances/create"),
        ]
        handle = client.instance(resp.parsed.id, resp.parsed.token)
        status = await client.raw(handle.session.status())
        assert [e.path for e in status.exchanges] == [f"/instances/{resp.parsed.id}/session/status"]
    assert recording.get() is None


async def test_a_call_outside_raw_records_nothing(wire: Wire, client: Client) -> None:
    """Without raw() the transport keeps no responses."""
    wire.reply("POST", "/instances/get", {"id": IID})
    await client.instances.get(IID)
    assert recording.get() is None


async def test_with_options_retry_applies_to_the_view_only(wire: Wire, client: Client) -> None:
    """A view with retry=1 makes one attempt; the client itself still retries."""
    path = f"/instances/{IID}/session/status"
    wire.reply("GET", path, {"error": "down"}, status=503)
    view = client.with_options(retry=1)
    with pytest.raises(ServerError):
        await view.instance(IID, INSTANCE_TOKEN).session.status()
    assert sum(c.path == path for c in wire.calls) == 1
    with pytest.raises(ServerError):
        await client.instance(IID, INSTANCE_TOKEN).session.status()
    assert sum(c.path == path for c in wire.calls) == 1 + 4


async def test_with_options_shares_the_session_and_the_jwt(wire: Wire, client: Client) -> None:
    """A view uses the client's session and cached JWT; closing the view keeps the client open."""
    view = client.with_options(timeout=5)
    assert view.config.timeouts == Timeouts(connect=5, total=5)
    assert client.config.timeouts == Timeouts()
    assert view.transport.session() is client.transport.session()
    wire.reply("POST", "/instances/get", {"id": IID})
    await client.instances.get(IID)
    await view.instances.get(IID)
    assert [c.headers["Authorization"] for c in wire.calls] == [f"Bearer {JWT}"] * 2
    await view.aclose()
    assert not client.transport.closed
    await client.instances.get(IID)


async def test_with_options_refuses_bad_values(client: Client) -> None:
    """A timeout or retry that is not a positive number raises InputError naming it."""
    with pytest.raises(InputError) as caught:
        client.with_options(timeout=0)
    assert caught.value.field == "timeout"
    with pytest.raises(InputError) as caught:
        client.with_options(retry=0)
    assert caught.value.field == "retry"


@pytest.fixture
def package_logger() -> AsyncIterator[logging.Logger]:
    """The vzaps_async logger, restored after the test."""
    logger = logging.getLogger("vzaps_async")
    level, handlers = logger.level, list(logger.handlers)
    yield logger
    logger.setLevel(level)
    logger.handlers[:] = handlers


def test_vzaps_log_turns_package_logging_on_once(package_logger: logging.Logger) -> None:
    """VZAPS_LOG=debug sets the level and adds one stderr handler, however often it is applied."""
    configure_from_env({"VZAPS_LOG": "debug"})
    configure_from_env({"VZAPS_LOG": "DEBUG"})
    assert package_logger.level == logging.DEBUG
    assert sum(isinstance(h, _EnvHandler) for h in package_logger.handlers) == 1
    configure_from_env({"VZAPS_LOG": "info"})
    assert package_logger.level == logging.INFO


def test_vzaps_log_unknown_value_warns(package_logger: logging.Logger) -> None:
    """An unknown VZAPS_LOG value warns with the accepted ones and changes nothing."""
    level = package_logger.level
    with pytest.warns(UserWarning, match="'debug' or 'info'"):
        configure_from_env({"VZAPS_LOG": "verbose"})
    assert package_logger.level == level


async def test_debug_logs_carry_no_secret(
    wire: Wire, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """At debug level the log shows calls but never the JWT, the secret or an instance token."""
    wire.reply("GET", f"/instances/{IID}/session/status", {"error": "down"}, status=503)
    with caplog.at_level(logging.DEBUG, logger="vzaps_async"), pytest.raises(ServerError):
        await client.instance(IID, INSTANCE_TOKEN).session.status()
    assert "session/status" in caplog.text
    for secret in (JWT, SECRET, INSTANCE_TOKEN, CLIENT_TOKEN):
        assert secret not in caplog.text
