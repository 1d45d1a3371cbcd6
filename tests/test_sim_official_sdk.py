"""The official VZaps Python SDK (`vzaps`) drives the simulator as if it were the real service.

Every call goes through `vzaps.AsyncVZapsClient` with its documented call shapes (keyword requests,
its own wire names such as ``webhook_url`` and array ``events``), so these tests fail when the
simulator stops accepting what the reference client sends or answers in a shape it cannot read.
The module is skipped where the official SDK is not installed.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

vzaps = pytest.importorskip("vzaps")

from vzaps_async.testing import PhonePolicy, Simulator  # noqa: E402

# Numbers ending in 0 are "not on WhatsApp" in the simulator; every other number is.
PHONE = "5511987654321"
MISSING_PHONE = "5511987654320"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A guard against a hung socket, not a timing assertion: events arrive in milliseconds.
EVENT_WAIT = 5.0


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A lenient simulator (the official SDK sends its own forms) whose phones act on command."""
    async with Simulator(phones=PhonePolicy.manual(), strict=False) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Any]:
    """The official SDK's async client pointed at the simulator."""
    async with vzaps.AsyncVZapsClient(
        base_url=sim.base_url,
        realtime_url=sim.realtime_url,
        client_token=sim.client_token,
        client_secret=sim.client_secret,
    ) as official:
        yield official


async def _create(client: Any, name: str, **fields: Any) -> tuple[str, str]:
    """Create and subscribe an instance; returns its id and instance token."""
    created = await client.instances.create(name=name, **fields)
    assert created["id"].startswith("VZ")
    assert created["token"]
    billing = await client.instances.subscribe(created["id"])
    assert billing["success"] is True
    assert billing["data"]["mode"] == "direct"
    return str(created["id"]), str(created["token"])


async def _paired(client: Any, sim: Simulator, name: str = "official sdk") -> tuple[str, str]:
    """Create, subscribe and pair an instance through its QR code."""
    instance_id, instance_token = await _create(client, name)
    qr = await client.sessions.qr(instance_id)
    assert qr["data"]["qr_code"]
    await sim.scan(instance_id)
    return instance_id, instance_token


async def test_token_instances_and_pairing(client: Any, sim: Simulator) -> None:
    """Token, create/list/get/update, subscribe, QR scan and pair code all work through the SDK."""
    jwt = await client.auth.get_access_token()
    assert jwt

    created = await client.instances.create(
        name="official sdk",
        webhook="http://127.0.0.1:9/hook",
        events_subscribe=["Message", "Connected"],
        labels={"team": "qa"},
    )
    instance_id, instance_token = created["id"], created["token"]
    assert instance_id.startswith("VZ")
    assert instance_token.startswith("inst_")
    assert created["events_subscribe"] == "Message,Connected"

    page = await client.instances.list(page=1, size=10, search="official")
    assert [summary["id"] for summary in page["content"]] == [instance_id]
    assert page["total"] == 1

    fetched = await client.instances.get(instance_id)
    assert fetched["id"] == instance_id
    updated = await client.instances.update(instance_id, name="renamed by sdk")
    assert updated["name"] == "renamed by sdk"

    billing = await client.instances.subscribe(instance_id)
    assert billing["data"]["mode"] == "direct"
    assert billing["data"]["subscription_id"]

    before = await client.sessions.status(instance_id)
    assert before.data.connected is False

    qr = await client.sessions.qr(instance_id, instance_token=instance_token)
    prefix = "data:image/png;base64,"
    assert qr["data"]["qr_code"].startswith(prefix)
    png = base64.b64decode(qr["data"]["qr_code"][len(prefix) :])
    assert png.startswith(PNG_SIGNATURE)

    await sim.scan(instance_id)
    status = await client.sessions.status(instance_id, instance_token=instance_token)
    assert isinstance(status, vzaps.SessionStatusResponse)
    assert status.success is True
    assert status.data.connected is True
    assert status.data.phone
    assert status.data.whatsapp_jid == f"{status.data.phone}@s.whatsapp.net"

    second_id, _ = await _create(client, "official sdk two")
    code = await client.sessions.pair_code(second_id, PHONE)
    linking = code["data"]["linking_code"]
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", linking)
    await sim.enter_pair_code(second_id, linking)
    second = await client.sessions.status(second_id)
    assert second.data.connected is True


async def test_webhook_config_in_the_sdk_wire_form(client: Any, sim: Simulator) -> None:
    """The SDK's ``webhook_url`` and array ``events`` are saved and read back; logs search."""
    instance_id, instance_token = await _create(client, "webhook sdk")

    saved = await client.webhooks.set(
        instance_id=instance_id,
        instance_token=instance_token,
        webhook_url="http://127.0.0.1:9/hook",
        events=["Message", "ReadReceipt"],
    )
    assert saved["data"] == {"webhook": "http://127.0.0.1:9/hook", "events": "Message,ReadReceipt"}

    config = await client.webhooks.get(instance_id, instance_token=instance_token)
    assert config["data"] == {
        "webhook": "http://127.0.0.1:9/hook",
        "subscribe": ["Message", "ReadReceipt"],
    }

    logs = await client.webhooks.search_logs(instance_id=instance_id, status="failed", page=1)
    assert logs["success"] is True
    assert isinstance(logs["data"]["content"], list)

    # The lenient simulator read the SDK's form and recorded how it differs from the docs.
    async with aiohttp.ClientSession() as http, http.get(sim.base_url + "/__sim/contract") as resp:
        report = await resp.json()
    deviations = {(d["route"], d["field"], d["documented"]) for d in report["deviations"]}
    route = "POST /instances/{id}/webhook"
    assert (route, "webhook_url", "the field webhookURL") in deviations
    assert (route, "events", "a string") in deviations


async def test_messages_users_groups_chats_and_queues(client: Any, sim: Simulator) -> None:
    """Sends of every kind, react, mark-read and the directory routes succeed through the SDK."""
    instance_id, instance_token = await _paired(client, sim)
    target = {"instance_id": instance_id, "instance_token": instance_token, "phone": PHONE}
    messages = client.messages

    text = await messages.send_text(**target, message="hello from the official sdk")
    sends = [
        await messages.send_image(**target, image="https://example.com/a.jpg", caption="pic"),
        await messages.send_audio(**target, audio="https://example.com/a.ogg", ptt=True),
        await messages.send_document(
            **target, document="https://example.com/a.pdf", file_name="a.pdf"
        ),
        await messages.send_video(**target, video="https://example.com/a.mp4"),
        await messages.send_sticker(**target, sticker="https://example.com/a.webp"),
        await messages.send_location(**target, latitude=-23.55, longitude=-46.63, name="SP"),
        await messages.send_contact(**target, contact_name="Ana", contact_phone="5511977776666"),
        await messages.send_poll(**target, name="Lunch?", options=["yes", "no"]),
        await messages.send_list(
            **target,
            title="Menu",
            description="Pick one",
            button_text="Open",
            sections=[{"title": "Main", "rows": [{"id": "r1", "title": "Row"}]}],
        ),
    ]
    message_ids = [reply["data"]["message_id"] for reply in [text, *sends]]
    assert all(message_ids)
    assert len(set(message_ids)) == len(message_ids)

    message_id = text["data"]["message_id"]
    reacted = await messages.react(**target, message_id=message_id, reaction="👍")
    assert reacted["success"] is True
    read = await messages.mark_read(
        instance_id=instance_id, id=[message_id], chat=f"{PHONE}@s.whatsapp.net"
    )
    assert read["data"]["details"]

    checked = await client.users.check(instance_id=instance_id, phone=[PHONE, MISSING_PHONE])
    exists = {user["phone"]: user["exists"] for user in checked["data"]["users"]}
    assert exists == {PHONE: True, MISSING_PHONE: False}

    await client.contacts.add(instance_id=instance_id, phone=PHONE, first_name="Ana")
    contacts = await client.contacts.list(instance_id, instance_token=instance_token)
    assert contacts["success"] is True
    assert isinstance(contacts["data"], list)

    group = await client.groups.create(
        instance_id=instance_id, group_name="SDK group", participants=[PHONE]
    )
    group_jid = group["data"]["jid"]
    assert group_jid.endswith("@g.us")
    groups = await client.groups.list(instance_id=instance_id, page=1, page_size=10)
    assert group_jid in [item["jid"] for item in groups["data"]["content"]]

    chats = await client.chats.list(instance_id=instance_id, page=1, page_size=10)
    assert PHONE in [chat["phone"] for chat in chats["data"]["content"]]
    chat = await client.chats.get(instance_id=instance_id, phone=PHONE)
    assert chat["phone"] == PHONE

    queued = await client.queues.list_messages(instance_id=instance_id)
    assert isinstance(queued["data"]["content"], list)
    operations = await client.queues.list_operations(instance_id=instance_id)
    assert isinstance(operations["data"]["content"], list)


async def test_typebot_and_chatwoot_integrations(client: Any, sim: Simulator) -> None:
    """A TypeBot config and the Chatwoot config are created and read back through the SDK."""
    instance_id, instance_token = await _create(client, "integrations sdk")

    created = await client.typebots.create(
        instance_id=instance_id,
        enabled=True,
        description="support bot",
        typebot_url="https://typebot.io",
        public_id="support-flow",
        trigger_type="keyword",
        trigger_value="help",
        priority=10,
        expire_in_minutes=30,
    )
    typebot_id = created["data"]["typebot_id"]
    assert typebot_id
    listed = await client.typebots.list(instance_id, instance_token=instance_token)
    assert [bot["typebot_id"] for bot in listed["data"]] == [typebot_id]

    saved = await client.chatwoot.set(
        instance_id=instance_id,
        enabled=True,
        url="https://chatwoot.example.com",
        account_id="7",
        token="chatwoot-access-token",
        name_inbox="WhatsApp",
    )
    assert saved["data"]["account_id"] == "7"
    config = await client.chatwoot.get(instance_id)
    assert config["data"]["url"] == "https://chatwoot.example.com"
    assert config["data"]["webhook_url"]
    assert "chatwoot-access-token" not in str(config)


async def test_disconnect_billing_restart_and_delete(client: Any, sim: Simulator) -> None:
    """Disconnect, cancel, resume, restart and delete answer in shapes the SDK returns cleanly."""
    instance_id, _ = await _paired(client, sim, "lifecycle sdk")

    disconnected = await client.sessions.disconnect(instance_id)
    assert disconnected["data"]["instance_id"] == instance_id
    status = await client.sessions.status(instance_id)
    assert status.data.connected is False

    cancelled = await client.instances.cancel(instance_id)
    assert cancelled["message"]
    assert (await client.instances.get(instance_id))["cancel_at"]
    resumed = await client.instances.resume_subscription(instance_id)
    assert resumed == {"status": "ok"}
    assert (await client.instances.get(instance_id))["cancel_at"] is None

    restarted = await client.instances.restart(instance_id)
    assert restarted["data"]["instance_id"] == instance_id

    assert await client.instances.delete(instance_id) is None
    with pytest.raises(vzaps.VZapsAPIError) as caught:
        await client.instances.get(instance_id)
    assert caught.value.status_code == 404


async def test_realtime_subscription_receives_and_acks(client: Any, sim: Simulator) -> None:
    """The SDK's realtime client receives an injected event and its ack stops a later replay."""
    instance_id, instance_token = await _create(client, "realtime sdk")
    received: asyncio.Queue[Any] = asyncio.Queue()
    errors: list[BaseException] = []

    def subscribe() -> Any:
        subscription = client.events.subscribe(
            instance_id=instance_id,
            instance_token=instance_token,
            events=["Message"],
            reconnect=False,
        )
        subscription.on("Message", received.put_nowait)
        subscription.on_error(errors.append)
        return subscription

    async with subscribe():
        first = await sim.events.inject(
            instance_id, "Message", {"info": {"id": "M1"}, "message": {"conversation": "hi"}}
        )
        event = await asyncio.wait_for(received.get(), EVENT_WAIT)
        assert isinstance(event, vzaps.RealtimeEvent)
        assert event.id == first["id"]
        assert event.instance_id == instance_id
        assert event.data["event"]["message"]["conversation"] == "hi"

    # A new connection without a cursor replays only events no client acked: the first event
    # was acked, so the next one the SDK sees is the event injected now.
    async with subscribe():
        second = await sim.events.inject(instance_id, "Message", {"info": {"id": "M2"}})
        event = await asyncio.wait_for(received.get(), EVENT_WAIT)
        assert event.id == second["id"]
    assert errors == []
