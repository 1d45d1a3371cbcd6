"""Webhook API: configuration and delivery logs on the wire."""

from __future__ import annotations

import pytest
from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async._client import Client
from vzaps_async.errors import InputError, ResponseError
from vzaps_async.models import EventType, WebhookLogStatus

ROOT = f"/instances/{IID}/webhook"


async def test_get_reads_subscribe_array(wire: Wire, client: Client) -> None:
    """get returns the URL and the subscribed events from the 'subscribe' array."""
    wire.reply("GET", ROOT, envelope({"webhook": "https://h.example/x", "subscribe": ["Message"]}))
    config = await client.instance(IID, INSTANCE_TOKEN).webhook.get()
    assert (wire.last.method, wire.last.auth) == ("GET", "instance")
    assert config.webhook == "https://h.example/x"
    assert config.events == ("Message",)


async def test_set_sends_documented_form_and_reads_it_back(wire: Wire, client: Client) -> None:
    """set posts webhookURL and a comma-joined events string, then reads the webhook back once."""
    wire.reply(
        "POST", ROOT, envelope({"webhook": "https://h.example/x", "events": "Message,ReadReceipt"})
    )
    wire.reply(
        "GET",
        ROOT,
        envelope({"webhook": "https://h.example/x", "subscribe": ["Message", "ReadReceipt"]}),
    )
    hook = client.instance(IID, INSTANCE_TOKEN).webhook
    config = await hook.set("https://h.example/x", [EventType.MESSAGE, "ReadReceipt"])
    assert [(c.method, c.json) for c in wire.calls] == [
        ("POST", {"webhookURL": "https://h.example/x", "events": "Message,ReadReceipt"}),
        ("GET", None),
    ]
    assert wire.last.auth == "instance"
    assert config.events == ("Message", "ReadReceipt")
    # Verified once: later sets of this client trust the form without reading back.
    await hook.set("https://h.example/x", ["Message", "ReadReceipt"])
    assert [c.method for c in wire.calls] == ["POST", "GET", "POST"]


async def test_set_without_events_sends_only_the_url(wire: Wire, client: Client) -> None:
    """Leaving events out keeps the server's list: the body has only webhookURL."""
    wire.reply("GET", ROOT, envelope({"webhook": "http://h.example/x", "subscribe": []}))
    await client.instance(IID, INSTANCE_TOKEN).webhook.set("http://h.example/x")
    assert wire.calls[0].json == {"webhookURL": "http://h.example/x"}


async def test_set_falls_back_to_the_other_form_once_and_remembers_it(
    wire: Wire, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A webhook that did not stick is sent again as webhook_url + array, which is then kept."""
    wire.reply("GET", ROOT, envelope({"webhook": "", "subscribe": []}))
    wire.reply("GET", ROOT, envelope({"webhook": "https://h.example/x", "subscribe": ["Message"]}))
    hook = client.instance(IID, INSTANCE_TOKEN).webhook
    with caplog.at_level("WARNING", logger="vzaps_async"):
        await hook.set("https://h.example/x", ["Message"])
    posts = [c.json for c in wire.calls if c.method == "POST"]
    assert posts == [
        {"webhookURL": "https://h.example/x", "events": "Message"},
        {"webhook_url": "https://h.example/x", "events": ["Message"]},
    ]
    assert "reads the webhook_url form" in caplog.text
    # Another handle of the same client starts with the form that worked.
    await client.instance(IID).webhook.set("https://h.example/y")
    assert wire.last.json == {"webhook_url": "https://h.example/y"}


async def test_set_falls_back_after_a_400(wire: Wire, client: Client) -> None:
    """A server that refuses the first form with 400 gets the other one."""
    wire.reply(
        "POST", ROOT, {"code": 400, "success": False, "error": "webhook_url: required"}, status=400
    )
    wire.reply("POST", ROOT, envelope({}))
    wire.reply("GET", ROOT, envelope({"webhook": "https://h.example/x", "subscribe": []}))
    await client.instance(IID, INSTANCE_TOKEN).webhook.set("https://h.example/x")
    assert [c.json for c in wire.calls if c.method == "POST"] == [
        {"webhookURL": "https://h.example/x"},
        {"webhook_url": "https://h.example/x"},
    ]


async def test_set_raises_when_neither_form_sticks(wire: Wire, client: Client) -> None:
    """When the read-back shows neither form stored, set raises instead of claiming success."""
    wire.reply("GET", ROOT, envelope({"webhook": "", "subscribe": []}))
    with pytest.raises(ResponseError, match="stored it in neither"):
        await client.instance(IID, INSTANCE_TOKEN).webhook.set("https://h.example/x")


async def test_set_rejects_a_non_http_url(wire: Wire, client: Client) -> None:
    """A URL that is not http(s) raises InputError naming 'url'."""
    with pytest.raises(InputError, match=r"^url:"):
        await client.instance(IID).webhook.set("h.example/x")
    assert wire.calls == []


async def test_logs_search_iterate_get_and_retry(wire: Wire, client: Client) -> None:
    """Log search posts filters and paging, iteration walks pages, get and retry hit their ids."""
    hook = client.instance(IID, INSTANCE_TOKEN).webhook
    wire.reply(
        "POST",
        f"{ROOT}/logs/search",
        envelope(
            {
                "content": [{"id": "log_1", "status": "failed", "attempts": 3}],
                "page": 1,
                "size": 1,
                "total": 2,
                "total_pages": 2,
            }
        ),
    )
    wire.reply(
        "POST",
        f"{ROOT}/logs/search",
        envelope(
            {
                "content": [{"id": "log_2", "status": "bounced", "attempts": [{}, {}]}],
                "page": 2,
                "size": 1,
                "total": 2,
                "total_pages": 2,
            }
        ),
    )
    logs = [log async for log in hook.iter_logs("failed", page_size=1)]
    assert [c.json for c in wire.calls] == [
        {"status": "failed", "page": 1, "size": 1},
        {"status": "failed", "page": 2, "size": 1},
    ]
    assert logs[0].status is WebhookLogStatus.FAILED
    assert logs[1].status == "bounced"
    assert logs[1].attempts == 2
    wire.reply("GET", f"{ROOT}/logs/log_1", envelope({"id": "log_1", "payload": {"type": "x"}}))
    log = await hook.get_log("log_1")
    assert log.payload == {"type": "x"}
    wire.reply("POST", f"{ROOT}/logs/log_1/retry", envelope({"status": "queued", "retried": True}))
    retried = await hook.retry_log("log_1")
    assert (retried.status, retried.extra) == ("queued", {"retried": True})
    assert (wire.last.method, wire.last.auth) == ("POST", "instance")
