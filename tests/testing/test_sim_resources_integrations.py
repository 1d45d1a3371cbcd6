"""Simulator resource routes: TypeBot and Chatwoot integrations (plain HTTP against `Simulator`)."""

from __future__ import annotations

from typing import Any

import pytest
from _sim_api import PHONE, Api

TYPEBOT = {
    "enabled": True,
    "description": "support bot",
    "typebot_url": "https://typebot.io",
    "public_id": "support-v1",
    "trigger_type": "keyword",
    "trigger_value": "help",
    "priority": 10,
    "expire_in_minutes": 30,
    "keep_open": False,
}

CHATWOOT = {
    "enabled": True,
    "url": "https://chatwoot.example.com",
    "account_id": "42",
    "token": "cw_secret_token_value_9876",
    "name_inbox": "WhatsApp",
    "ignore_jids": [],
}


async def _create_typebot(api: Api, **changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = await api.data("POST", "typebots", {**TYPEBOT, **changes})
    return config


# ------------------------------------------------------------------------------ typebot


async def test_typebot_create_list_update_delete(api: Api) -> None:
    """Configs are created (enveloped, with typebot_id), listed, updated and deleted (flat)."""
    created = await _create_typebot(api)
    assert created["typebot_id"]
    assert created["public_id"] == "support-v1"
    low = await _create_typebot(api, public_id="other", priority=1)
    listed = await api.data("GET", "typebots")
    assert [c["typebot_id"] for c in listed] == [created["typebot_id"], low["typebot_id"]]

    path = f"typebots/{created['typebot_id']}"
    assert await api.flat("PATCH", path, {"priority": 0, "description": "x"}) == {"status": "ok"}
    listed = await api.data("GET", "typebots")
    assert [c["typebot_id"] for c in listed] == [low["typebot_id"], created["typebot_id"]]
    assert listed[1]["description"] == "x"

    assert await api.flat("DELETE", path) == {"status": "ok"}
    await api.error("DELETE", path, status=404)
    await api.error("PATCH", path, {"priority": 1}, status=404)


@pytest.mark.parametrize(
    "field",
    [
        "enabled",
        "description",
        "typebot_url",
        "public_id",
        "trigger_type",
        "priority",
        "expire_in_minutes",
    ],
)
async def test_typebot_requires_fields(api: Api, field: str) -> None:
    """Creating a config without a required field answers 400 naming it."""
    body = {key: value for key, value in TYPEBOT.items() if key != field}
    error = await api.error("POST", "typebots", body, status=400)
    assert error["message"].startswith(f"{field}:")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trigger_type": "sometimes"}, "trigger_type"),
        ({"trigger_value": None}, "trigger_value"),
        ({"trigger_type": "advanced", "trigger_operator": None}, "trigger_operator"),
        ({"trigger_type": "advanced", "trigger_operator": "like"}, "trigger_operator"),
        ({"trigger_type": "regex", "trigger_value": "("}, "trigger_value"),
        ({"trigger_operator": "equals"}, "trigger_operator"),
        ({"expire_in_minutes": -1}, "expire_in_minutes"),
        ({"typebot_url": "typebot.io"}, "typebot_url"),
    ],
)
async def test_typebot_trigger_rules(api: Api, changes: dict[str, Any], field: str) -> None:
    """Trigger rules: a value except for all/none; an operator only (and always) for advanced."""
    error = await api.error("POST", "typebots", {**TYPEBOT, **changes}, status=400)
    assert error["message"].startswith(f"{field}:")


async def test_typebot_trigger_all_and_none_need_no_value(api: Api) -> None:
    """trigger_type all/none are valid without trigger_value; advanced takes an operator."""
    await _create_typebot(api, trigger_type="all", trigger_value=None)
    await _create_typebot(api, trigger_type="none", trigger_value=None)
    await _create_typebot(api, trigger_type="advanced", trigger_operator="contains")


async def test_typebot_update_is_validated_as_a_whole(api: Api) -> None:
    """An update that breaks the trigger rules answers 400 and leaves the config unchanged."""
    created = await _create_typebot(api)
    await api.error(
        "PATCH", f"typebots/{created['typebot_id']}", {"trigger_type": "advanced"}, status=400
    )
    [config] = await api.data("GET", "typebots")
    assert config["trigger_type"] == "keyword"


async def test_typebot_sessions_start_pause_close(api: Api) -> None:
    """Sessions start on both routes (flat status), list, pause and close; unknown ids are 404."""
    created = await _create_typebot(api)
    started = await api.flat(
        "POST",
        "typebots/sessions/start",
        {"public_id": "support-v1", "phone": PHONE, "message": "help"},
    )
    assert started["status"] == "ok"
    assert started["session"]["status"] == "opened"
    again = await api.flat(
        "POST",
        f"typebots/{created['typebot_id']}/sessions/start",
        {"phone": PHONE, "message": "help", "push_name": "Ann"},
    )
    [session] = await api.data("GET", "typebots/sessions")
    assert session["session_id"] == again["session"]["session_id"]
    assert session["remote_jid"] == f"{PHONE}@s.whatsapp.net"

    sid = session["session_id"]
    paused = await api.data("POST", f"typebots/sessions/{sid}/pause")
    assert paused["session"]["status"] == "paused"
    closed = await api.data("POST", f"typebots/sessions/{sid}/close")
    assert closed["session"]["status"] == "closed"
    await api.error("POST", f"typebots/sessions/{sid}/pause", status=409)
    await api.error("POST", "typebots/sessions/nope/close", status=404)


async def test_typebot_session_start_validation(api: Api) -> None:
    """Session start requires public_id, phone and message; unknown bots are 404."""
    created = await _create_typebot(api)
    error = await api.error(
        "POST", "typebots/sessions/start", {"phone": PHONE, "message": "x"}, status=400
    )
    assert error["message"].startswith("public_id:")
    error = await api.error(
        "POST", f"typebots/{created['typebot_id']}/sessions/start", {"phone": PHONE}, status=400
    )
    assert error["message"].startswith("message:")
    await api.error(
        "POST",
        "typebots/sessions/start",
        {"public_id": "missing", "phone": PHONE, "message": "x"},
        status=404,
    )
    await api.error(
        "POST", "typebots/nope/sessions/start", {"phone": PHONE, "message": "x"}, status=404
    )


async def test_deleting_a_typebot_deletes_its_sessions(api: Api) -> None:
    """Deleting a config removes its sessions."""
    created = await _create_typebot(api)
    await api.flat(
        "POST",
        f"typebots/{created['typebot_id']}/sessions/start",
        {"phone": PHONE, "message": "x"},
    )
    await api.flat("DELETE", f"typebots/{created['typebot_id']}")
    assert await api.data("GET", "typebots/sessions") == []


# ------------------------------------------------------------------------------ chatwoot


async def test_chatwoot_set_get_never_echo_the_token(api: Api) -> None:
    """The config is saved and read back with token_masked and webhook_url, never the token."""
    await api.error("GET", "chatwoot", status=404)
    saved = await api.data("POST", "chatwoot", CHATWOOT)
    fetched = await api.data("GET", "chatwoot")
    for view in (saved, fetched):
        assert "token" not in view
        assert CHATWOOT["token"] not in str(view)
        assert view["token_masked"].endswith("9876")
        assert view["webhook_url"].endswith(f"/chatwoot/webhook/{api.instance_id}")
        assert view["account_id"] == "42"
    assert saved == fetched


async def test_chatwoot_update_keeps_token_and_validates(api: Api) -> None:
    """A later save may omit the token; required fields and types are validated."""
    api.lenient()
    await api.error(
        "POST", "chatwoot", {k: v for k, v in CHATWOOT.items() if k != "token"}, status=400
    )
    await api.data("POST", "chatwoot", CHATWOOT)
    body = {k: v for k, v in CHATWOOT.items() if k != "token"}
    updated = await api.data("POST", "chatwoot", {**body, "account_id": 7})
    assert updated["account_id"] == "7"
    assert updated["token_masked"].endswith("9876")
    for field in ("enabled", "url", "account_id"):
        error = await api.error(
            "POST", "chatwoot", {k: v for k, v in CHATWOOT.items() if k != field}, status=400
        )
        assert error["message"].startswith(f"{field}:")
    error = await api.error(
        "POST", "chatwoot", {**CHATWOOT, "days_limit_import_messages": 0}, status=400
    )
    assert error["message"].startswith("days_limit_import_messages:")


async def test_chatwoot_import_and_delete(api: Api) -> None:
    """import accepts contacts/messages/all when configured; delete removes the config."""
    await api.error("POST", "chatwoot/import/all", status=404)
    await api.data("POST", "chatwoot", CHATWOOT)
    for what in ("contacts", "messages", "all"):
        assert (await api.data("POST", f"chatwoot/import/{what}"))["status"] == "ok"
    error = await api.error("POST", "chatwoot/import/everything", status=400)
    assert error["message"].startswith("what:")
    assert await api.data("DELETE", "chatwoot") == {"status": "ok"}
    await api.error("GET", "chatwoot", status=404)
    await api.error("DELETE", "chatwoot", status=404)
