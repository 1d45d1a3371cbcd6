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
from vzaps_async.testing._events import get_bus  # noqa: E402

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


def _resource_methods() -> set[str]:
    """``resource.method`` for every public coroutine method of the SDK's async resources."""
    import inspect

    from vzaps.resources import async_resources

    names = set()
    for cls_name, cls in vars(async_resources).items():
        if cls_name.startswith("Async") and cls_name.endswith("Resource"):
            resource = cls_name[len("Async") : -len("Resource")].lower()
            for name, member in vars(cls).items():
                if inspect.iscoroutinefunction(member) and not name.startswith("_"):
                    names.add(f"{resource}.{name}")
    return names


async def test_every_official_sdk_resource_method_runs_against_the_simulator(
    client: Any, sim: Simulator
) -> None:
    """Each resource method of the official SDK completes against the lenient simulator."""
    get_bus(sim.state).retry_delays = (0.0, 0.01, 0.01)
    iid, token = await _paired(client, sim, "every method")
    # Not paired: its sends and operations stay queued, for the queue routes.
    other, other_token = await _create(client, "every method lifecycle")
    queued = {"instance_id": other, "instance_token": other_token, "phone": PHONE}
    inst = {"instance_id": iid, "instance_token": token}
    target = {**inst, "phone": PHONE}
    url = "https://example.com/a"
    found: dict[str, Any] = {}
    m, g, q, t, c, ch = (
        client.messages,
        client.groups,
        client.queues,
        client.typebots,
        client.chatwoot,
        client.chats,
    )

    async def extra() -> Any:
        found["extra"] = (await client.instances.create(name="every method extra"))["id"]

    async def remove_message() -> Any:
        reply = await m.send_text(**queued, message="later")
        return await q.remove_message(**queued, message_id=reply["data"]["message_id"])

    async def remove_operation() -> Any:
        sent = await m.send_text(**queued, message="react to me")
        mid = sent["data"]["message_id"]
        reply = await m.react(**queued, message_id=mid, reaction="👍")
        return await q.remove_operation(**queued, message_id=reply["data"]["operation_id"])

    async def text() -> Any:
        found["mid"] = (await m.send_text(**target, message="hi"))["data"]["message_id"]

    async def poll() -> Any:
        reply = await m.send_poll(**target, name="Lunch?", options=["yes", "no"])
        found["poll"] = reply["data"]["message_id"]

    async def group() -> Any:
        reply = await g.create(**inst, group_name="Team", participants=[PHONE])
        found["gid"] = reply["data"]["jid"]

    async def typebot() -> Any:
        reply = await t.create(
            **inst,
            enabled=True,
            description="bot",
            typebot_url="https://typebot.io",
            public_id="flow",
            trigger_type="keyword",
            trigger_value="help",
            priority=1,
            expire_in_minutes=5,
        )
        found["tid"] = reply["data"]["typebot_id"]

    async def start() -> Any:
        reply = await t.start_session(**inst, public_id="flow", phone=PHONE, message="help")
        found["session"] = reply["session"]["session_id"]

    async def log_id() -> str:
        await asyncio.wait_for(get_bus(sim.state).settle(), EVENT_WAIT)
        logs = await client.webhooks.search_logs(**inst, page=1)
        return str(logs["data"]["content"][0]["id"])

    steps: list[tuple[str, Any]] = [
        ("auth.get_access_token", lambda: client.auth.get_access_token()),
        ("instances.create", extra),
        ("instances.list", lambda: client.instances.list(page=1, size=5)),
        ("instances.get", lambda: client.instances.get(iid)),
        ("instances.update", lambda: client.instances.update(iid, name="every method 2")),
        ("instances.provision", lambda: client.instances.provision(name="every method prov")),
        ("instances.search", lambda: client.instances.search(filter={"query": "every"})),
        ("instances.subscribe", lambda: client.instances.subscribe(found["extra"])),
        ("sessions.status", lambda: client.sessions.status(iid)),
        ("sessions.qr", lambda: client.sessions.qr(iid)),
        ("sessions.pair_code", lambda: client.sessions.pair_code(other, PHONE)),
        ("webhooks.set", lambda: client.webhooks.set(**inst, webhook_url="http://127.0.0.1:9/h")),
        ("webhooks.get", lambda: client.webhooks.get(iid, instance_token=token)),
        ("messages.send_text", text),
        ("messages.send_image", lambda: m.send_image(**target, image=url + ".jpg")),
        ("messages.send_audio", lambda: m.send_audio(**target, audio=url + ".ogg")),
        ("messages.send_document", lambda: m.send_document(**target, document=url + ".pdf")),
        ("messages.send_video", lambda: m.send_video(**target, video=url + ".mp4")),
        ("messages.send_sticker", lambda: m.send_sticker(**target, sticker=url + ".webp")),
        ("messages.send_gif", lambda: m.send_gif(**target, gif=url + ".mp4")),
        ("messages.send_location", lambda: m.send_location(**target, latitude=1, longitude=2)),
        ("messages.send_contact", lambda: m.send_contact(**target, contact_name="Ana")),
        (
            "messages.send_buttons",
            lambda: m.send_buttons(**target, message="x", buttons=[{"id": "b", "text": "B"}]),
        ),
        (
            "messages.send_list",
            lambda: m.send_list(
                **target,
                title="T",
                description="D",
                button_text="Open",
                sections=[{"title": "S", "rows": [{"id": "r", "title": "R"}]}],
            ),
        ),
        ("messages.send_link", lambda: m.send_link(**target, message="see", link_url=url)),
        ("messages.send_poll", poll),
        (
            "messages.poll_vote",
            lambda: m.poll_vote(**target, message_id=found["poll"], selected_options=["yes"]),
        ),
        ("messages.react", lambda: m.react(**target, message_id=found["mid"], reaction="👍")),
        ("messages.remove_reaction", lambda: m.remove_reaction(**target, message_id=found["mid"])),
        ("messages.presence", lambda: m.presence(**target, state="composing")),
        ("messages.mark_read", lambda: m.mark_read(**inst, id=[found["mid"]], chat=PHONE)),
        *(
            (
                f"messages.download_{kind}",
                lambda kind=kind: getattr(m, f"download_{kind}")(**inst, url=url),
            )
            for kind in ("image", "video", "audio", "document")
        ),
        ("messages.edit", lambda: m.edit(**inst, message_id=found["mid"], message="edited")),
        ("messages.send", lambda: m.send(iid, "send/text", {"phone": PHONE, "message": "raw"})),
        ("messages.delete", lambda: m.delete(**inst, message_id=found["mid"])),
        ("webhooks.search_logs", lambda: client.webhooks.search_logs(**inst, status="failed")),
        ("webhooks.get_log", lambda: _with_log(log_id, client.webhooks.get_log, inst)),
        ("webhooks.retry_log", lambda: _with_log(log_id, client.webhooks.retry_log, inst)),
        ("users.check", lambda: client.users.check(**inst, phone=[PHONE])),
        ("users.info", lambda: client.users.info(**inst, phone=[PHONE])),
        ("users.avatar", lambda: client.users.avatar(**target, preview=True)),
        ("users.contacts", lambda: client.users.contacts(iid, instance_token=token)),
        ("contacts.add", lambda: client.contacts.add(**target, first_name="Ana")),
        ("contacts.list", lambda: client.contacts.list(iid, instance_token=token)),
        ("groups.create", group),
        ("groups.list", lambda: g.list(**inst, page=1, page_size=10)),
        ("groups.get", lambda: g.get(**inst, group_id=found["gid"])),
        ("groups.invite_link", lambda: g.invite_link(**inst, group_id=found["gid"])),
        ("groups.set_photo", lambda: g.set_photo(**inst, group_id=found["gid"], image=url)),
        ("groups.set_name", lambda: g.set_name(**inst, group_id=found["gid"], name="New")),
        (
            "groups.set_description",
            lambda: g.set_description(**inst, group_id=found["gid"], description="About"),
        ),
        (
            "groups.set_settings",
            lambda: g.set_settings(**inst, group_id=found["gid"], admin_only_message=True),
        ),
        (
            "groups.add_admin",
            lambda: g.add_admin(**inst, group_id=found["gid"], participants=[PHONE]),
        ),
        (
            "groups.remove_admin",
            lambda: g.remove_admin(**inst, group_id=found["gid"], participants=[PHONE]),
        ),
        ("queues.list_messages", lambda: q.list_messages(**inst)),
        ("queues.remove_message", remove_message),
        ("queues.purge_messages", lambda: q.purge_messages(**inst)),
        ("queues.list_operations", lambda: q.list_operations(**inst)),
        ("queues.remove_operation", remove_operation),
        ("queues.purge_operations", lambda: q.purge_operations(**inst)),
        ("typebots.create", typebot),
        ("typebots.list", lambda: t.list(iid, instance_token=token)),
        ("typebots.update", lambda: t.update(**inst, typebot_id=found["tid"], priority=2)),
        ("typebots.start_session", start),
        ("typebots.list_sessions", lambda: t.list_sessions(iid, instance_token=token)),
        ("typebots.pause_session", lambda: t.pause_session(**inst, session=found["session"])),
        ("typebots.close_session", lambda: t.close_session(**inst, session=found["session"])),
        ("typebots.delete", lambda: t.delete(**inst, typebot_id=found["tid"])),
        (
            "chatwoot.set",
            lambda: c.set(**inst, enabled=True, url=url, account_id="7", token="cw-token"),
        ),
        ("chatwoot.get", lambda: c.get(iid, instance_token=token)),
        ("chatwoot.trigger_import", lambda: c.trigger_import(**inst, what="contacts")),
        ("chatwoot.delete", lambda: c.delete(iid, instance_token=token)),
        ("chats.list", lambda: ch.list(**inst, page=1, page_size=10)),
        ("chats.get", lambda: ch.get(**target)),
        *(
            (f"chats.{action}", lambda action=action: getattr(ch, action)(**target))
            for action in (
                "archive",
                "unarchive",
                "mute",
                "unmute",
                "pin",
                "unpin",
                "read",
                "unread",
            )
        ),
        ("chats.clear", lambda: ch.clear(**target, delete_media=False)),
        ("chats.set_expiration", lambda: ch.set_expiration(**target, expiration="7_DAYS")),
        ("chats.delete", lambda: ch.delete(**target)),
        ("sessions.disconnect", lambda: client.sessions.disconnect(iid)),
        ("instances.cancel", lambda: client.instances.cancel(other)),
        ("instances.resume_subscription", lambda: client.instances.resume_subscription(other)),
        ("instances.restart", lambda: client.instances.restart(other)),
        ("instances.delete", lambda: client.instances.delete(other)),
    ]
    failures = {}
    for name, step in steps:
        try:
            await step()
        except Exception as exc:  # every failure is collected, then reported together
            failures[name] = repr(exc)
    assert failures == {}
    assert {name for name, _ in steps} == _resource_methods()


async def _with_log(log_id: Any, call: Any, inst: dict[str, Any]) -> Any:
    return await call(**inst, log_id=await log_id())
