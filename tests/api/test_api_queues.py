"""Queues API on the wire."""

from __future__ import annotations

from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async._client import Client
from vzaps_async.models import QueueRemoval

ROOT = f"/instances/{IID}/queue"


async def test_queue_messages_list_iterate_purge_remove(wire: Wire, client: Client) -> None:
    """Message queue reads are GETs with paging; purge and remove are DELETEs."""
    queues = client.instance(IID, INSTANCE_TOKEN).queues
    wire.reply("GET", f"{ROOT}/messages", envelope([{"message_id": "m1"}, {"message_id": "m2"}]))
    page = await queues.messages(page=1, page_size=10)
    assert [m.message_id for m in page.content] == ["m1", "m2"]
    assert (wire.last.auth, wire.last.query) == ("instance", {"page": "1", "page_size": "10"})
    assert [m.message_id async for m in queues.iter_messages(page_size=10)] == ["m1", "m2"]
    wire.reply("DELETE", f"{ROOT}/messages", envelope({"removed": 2}))
    assert await queues.purge_messages() == QueueRemoval(removed=2)
    await queues.remove_message("m1")
    assert (wire.last.method, wire.last.path) == ("DELETE", f"{ROOT}/messages/m1")


async def test_queue_operations(wire: Wire, client: Client) -> None:
    """Operation queue routes mirror the message queue ones."""
    queues = client.instance(IID, INSTANCE_TOKEN).queues
    wire.reply(
        "GET",
        f"{ROOT}/operations",
        envelope({"content": [{"operation_id": "op1"}], "total_pages": 1}),
    )
    assert [op.operation_id async for op in queues.iter_operations()] == ["op1"]
    wire.reply("DELETE", f"{ROOT}/operations", None, status=204)
    assert await queues.purge_operations() == QueueRemoval()
    await queues.remove_operation("op1")
    assert (wire.last.method, wire.last.path, wire.last.auth) == (
        "DELETE",
        f"{ROOT}/operations/op1",
        "instance",
    )
