"""TypeBot API on the wire."""

from __future__ import annotations

import attrs
import pytest
from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async._client import Client
from vzaps_async.errors import InputError
from vzaps_async.models import (
    TypebotConfig,
    TypebotSessionStatus,
    TypebotSettings,
    TypebotTriggerType,
)

ROOT = f"/instances/{IID}/typebots"
SETTINGS = TypebotSettings(
    enabled=True,
    description="Sales",
    typebot_url="https://typebot.io",
    public_id="sales-flow",
    trigger_type=TypebotTriggerType.KEYWORD,
    trigger_value="buy",
    priority=10,
    expire_in_minutes=0,
)


async def test_create_list_update_delete(wire: Wire, client: Client) -> None:
    """Config CRUD hits the typebot routes; update sends only the fields set."""
    typebot = client.instance(IID, INSTANCE_TOKEN).typebot
    wire.reply("POST", ROOT, envelope({"typebot_id": "tb1", "trigger_type": "keyword"}))
    created = await typebot.create(SETTINGS)
    assert (wire.last.method, wire.last.auth) == ("POST", "instance")
    assert wire.last.json == {
        "enabled": True,
        "description": "Sales",
        "typebot_url": "https://typebot.io",
        "public_id": "sales-flow",
        "trigger_type": "keyword",
        "trigger_value": "buy",
        "priority": 10,
        "expire_in_minutes": 0,
    }
    assert created.typebot_id == "tb1"
    assert created.trigger_type is TypebotTriggerType.KEYWORD
    wire.reply("GET", ROOT, envelope([{"id": "tb1", "trigger_type": "fuzzy"}]))
    listed = await typebot.list()
    assert listed[0].typebot_id == "tb1"
    assert listed[0].trigger_type == "fuzzy"
    wire.reply("PATCH", f"{ROOT}/tb1", {"status": "ok"})
    await typebot.update("tb1", TypebotSettings(enabled=False))
    assert (wire.last.method, wire.last.json) == ("PATCH", {"enabled": False})
    wire.reply("DELETE", f"{ROOT}/tb1", {"status": "ok"})
    await typebot.delete("tb1")
    assert (wire.last.method, wire.last.path) == ("DELETE", f"{ROOT}/tb1")


async def test_sessions_start_pause_close(wire: Wire, client: Client) -> None:
    """Session routes send their bodies; start tolerates the bare {"status": "ok"} answer."""
    typebot = client.instance(IID, INSTANCE_TOKEN).typebot
    wire.reply(
        "GET",
        f"{ROOT}/sessions",
        envelope([{"id": "s1", "status": "opened", "remote_jid": "5511999999999@s.whatsapp.net"}]),
    )
    sessions = await typebot.sessions()
    assert sessions[0].status is TypebotSessionStatus.OPENED
    wire.reply("POST", f"{ROOT}/sessions/start", {"status": "ok"})
    started = await typebot.start_session("sales-flow", "5511999999999", "hi", push_name="Ana")
    assert wire.last.json == {
        "public_id": "sales-flow",
        "phone": "5511999999999",
        "message": "hi",
        "push_name": "Ana",
    }
    assert started.status == "ok"
    await typebot.start_bot_session("tb1", "5511999999999", "hi")
    assert wire.last.path == f"{ROOT}/tb1/sessions/start"
    assert wire.last.json == {"phone": "5511999999999", "message": "hi"}
    await typebot.pause_session("s1")
    assert wire.last.path == f"{ROOT}/sessions/s1/pause"
    await typebot.close_session("s1")
    assert (wire.last.method, wire.last.path, wire.last.auth) == (
        "POST",
        f"{ROOT}/sessions/s1/close",
        "instance",
    )


async def test_create_requires_the_documented_fields(wire: Wire, client: Client) -> None:
    """create refuses settings missing a required field, naming it, before sending."""
    with pytest.raises(InputError) as caught:
        await client.instance(IID).typebot.create(TypebotSettings(enabled=True))
    assert caught.value.field == "description"
    partial = attrs.evolve(SETTINGS, trigger_value=None)
    with pytest.raises(InputError) as caught:
        await client.instance(IID).typebot.create(partial)
    assert caught.value.field == "trigger_value"
    assert wire.calls == []


async def test_a_config_is_not_taken_for_settings(wire: Wire, client: Client) -> None:
    """A `TypebotConfig` read from the server is refused as settings (its id is not a setting)."""
    config = TypebotConfig(typebot_id="tb1", **attrs.asdict(SETTINGS))
    with pytest.raises(InputError) as caught:
        await client.instance(IID).typebot.create(config)
    assert caught.value.field == "settings"
    assert wire.calls == []
