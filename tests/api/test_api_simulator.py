"""The typed API against the simulator: every endpoint group round-trips a real HTTP exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from vzaps_async import ClientConfig, RetryPolicy, Secret
from vzaps_async._client import Client
from vzaps_async._handle import Instance
from vzaps_async.models import (
    BillingStatus,
    ChatwootSettings,
    SubscriptionMode,
    TypebotSettings,
)
from vzaps_async.testing._phones import PhonePolicy
from vzaps_async.testing._server import Simulator

PHONE = "5511999999999"


@pytest.fixture(name="sim")
async def sim_fixture() -> AsyncIterator[Simulator]:
    """A running simulator whose phones scan only on command."""
    async with Simulator(phones=PhonePolicy.manual()) as simulator:
        yield simulator


@pytest.fixture(name="client")
async def client_fixture(sim: Simulator) -> AsyncIterator[Client]:
    """A client for the simulator's default account."""
    config = ClientConfig(base_url=sim.base_url, retry=RetryPolicy(sleep=False))
    async with Client(sim.client_token, sim.client_secret, config=config) as c:
        yield c


@pytest.fixture(name="paired")
async def paired_fixture(sim: Simulator, client: Client) -> Instance:
    """A created, subscribed and paired instance handle."""
    info = await client.instances.create("api-smoke", events=["Message"])
    assert info.billing_status is BillingStatus.TRIALING
    subscription = await client.instances.subscribe(info.id)
    assert subscription.mode is SubscriptionMode.DIRECT
    handle = client.instance(info.id, info.token)
    assert (await handle.session.qr()).png is not None
    await sim.scan(info.id)
    assert (await handle.session.status()).connected
    return handle


async def test_instances_lifecycle(client: Client, paired: Instance) -> None:
    """List, find, update, restart, cancel, resume and delete work against the simulator."""
    assert [i.id for i in await client.instances.find_by_name("api-smoke")] == [paired.id]
    assert (await paired.update(name="api-smoke-2")).name == "api-smoke-2"
    assert (await paired.restart()).instance_id == paired.id
    assert await paired.billing.cancel()
    await paired.billing.resume()
    assert (await paired.info()).cancel_at is None
    await paired.delete()
    assert await client.instances.find_by_name("api-smoke-2") == ()


async def test_instance_route_groups(paired: Instance) -> None:
    """Webhook, messages, users, contacts, groups, queues and chats answer in the typed shapes."""
    config = await paired.webhook.set("http://127.0.0.1:1/hook", ["Message", "Connected"])
    assert config.events == ("Message", "Connected")
    assert (await paired.webhook.search_logs()).content == ()
    sent = await paired.messages.send_text(PHONE, "hi")
    assert sent.message_id
    assert (await paired.messages.mark_read(PHONE, [sent.message_id])).details
    [user] = await paired.users.check(PHONE)
    assert user.exists
    assert (await paired.users.avatar(PHONE)).content
    assert (await paired.contacts.add(PHONE, full_name="Ana")).phone == PHONE
    group = await paired.groups.create("Team", [PHONE])
    assert [g.jid async for g in paired.groups.iter()] == [group.jid]
    assert (await paired.queues.messages()).content == ()
    chat = await paired.chats.get(PHONE)
    assert chat.phone == PHONE
    await paired.chats.pin(PHONE)
    assert (await paired.chats.get(PHONE)).pinned
    assert {c.jid async for c in paired.chats.iter()} >= {chat.jid, group.jid}


async def test_integrations(paired: Instance) -> None:
    """TypeBot and Chatwoot configuration round-trips through the simulator."""
    created = await paired.typebot.create(
        TypebotSettings(
            enabled=True,
            description="d",
            typebot_url="https://typebot.io",
            public_id="flow",
            trigger_type="all",
            priority=1,
            expire_in_minutes=0,
        )
    )
    assert [t.typebot_id for t in await paired.typebot.list()] == [created.typebot_id]
    session = await paired.typebot.start_session("flow", PHONE, "hi")
    # The session nested in {"status": "ok", "session": {...}} is read, not lost.
    assert session.id is not None
    assert session.status == "opened"
    saved = await paired.chatwoot.set(
        ChatwootSettings(
            enabled=True, url="https://cw.example", account_id="1", token=Secret("cw-token")
        )
    )
    assert saved.account_id == "1"
    assert (await paired.chatwoot.get()).url == "https://cw.example"
