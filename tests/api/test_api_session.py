"""Session (pairing) API: QR code, pair code, status and disconnect on the wire."""

from __future__ import annotations

import base64

import pytest
from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async._client import Client
from vzaps_async.errors import InputError

PNG = b"\x89PNG\r\n\x1a\nfake"
ROOT = f"/instances/{IID}/session"

STATUS_EXAMPLE = {
    "connected": True,
    "phone": "551151968302",
    "whatsapp_jid": "551151968302@s.whatsapp.net",
    "push_name": "Acme",
    "business_name": "Acme",
    "business_profile": {
        "business_hours_timezone": "America/Sao_Paulo",
        "categories": [{"id": "1022050661163852", "name": "Finance"}],
        "profile_options": {"cart_enabled": "true"},
    },
    "profile_picture_id": "1242225976",
    "profile_picture_url": "https://pps.whatsapp.net/x",
    "profile_url": "https://wa.me/551151968302",
}


async def test_qr_returns_the_png_data_url(wire: Wire, client: Client) -> None:
    """qr GETs session/qr with the instance token and decodes the PNG data URL."""
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    wire.reply("GET", f"{ROOT}/qr", envelope({"qr_code": data_url, "expires_in": 20}))
    qr = await client.instance(IID, INSTANCE_TOKEN).session.qr()
    assert (wire.last.method, wire.last.path, wire.last.auth) == ("GET", f"{ROOT}/qr", "instance")
    assert wire.last.headers["X-Instance-Token"] == INSTANCE_TOKEN
    assert qr.png == PNG
    assert qr.expires_in == 20
    assert not qr.connected


@pytest.mark.parametrize("key", ["QRCode", "qr_code", None], ids=["QRCode", "qr_code", "bare"])
async def test_qr_reads_every_documented_shape(wire: Wire, client: Client, key: str | None) -> None:
    """The code is read from qr_code, QRCode, or data itself when it is the data URL."""
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    wire.reply("GET", f"{ROOT}/qr", envelope(data_url if key is None else {key: data_url}))
    qr = await client.instance(IID, INSTANCE_TOKEN).session.qr()
    assert qr.png == PNG


async def test_qr_when_connected_has_no_image(wire: Wire, client: Client) -> None:
    """Once paired, qr reports connected with the phone and no image."""
    wire.reply("GET", f"{ROOT}/qr", envelope({"status": "connected", "phone": "5511999999999"}))
    qr = await client.instance(IID, INSTANCE_TOKEN).session.qr()
    assert qr.connected
    assert qr.png is None
    assert qr.phone == "5511999999999"


@pytest.mark.parametrize("key", ["LinkingCode", "linking_code"])
async def test_pair_code_reads_both_spellings(wire: Wire, client: Client, key: str) -> None:
    """pair_code puts the normalised phone in the path and reads either key spelling."""
    wire.reply("GET", f"{ROOT}/paircode/5511999999999", envelope({key: "9H3J-H3J8"}))
    code = await client.instance(IID, INSTANCE_TOKEN).session.pair_code("+55 11 99999-9999")
    assert wire.last.path == f"{ROOT}/paircode/5511999999999"
    assert code.code == "9H3J-H3J8"


async def test_pair_code_rejects_bad_phone_before_sending(wire: Wire, client: Client) -> None:
    """A phone that is not digits raises InputError naming 'phone' and sends nothing."""
    with pytest.raises(InputError) as caught:
        await client.instance(IID, INSTANCE_TOKEN).session.pair_code("call me")
    assert caught.value.field == "phone"
    assert wire.calls == []


async def test_status_reads_the_documented_example(wire: Wire, client: Client) -> None:
    """status structures the connected example, business profile included."""
    wire.reply("GET", f"{ROOT}/status", envelope(STATUS_EXAMPLE))
    status = await client.instance(IID, INSTANCE_TOKEN).session.status()
    assert status.connected
    assert status.whatsapp_jid == "551151968302@s.whatsapp.net"
    assert status.business_profile is not None
    assert status.business_profile.categories[0].name == "Finance"
    assert status.business_profile.profile_options == {"cart_enabled": "true"}


async def test_disconnect_posts_and_reads_action_result(wire: Wire, client: Client) -> None:
    """disconnect POSTs session/disconnect and returns the action result."""
    wire.reply(
        "POST",
        f"{ROOT}/disconnect",
        envelope({"instance_id": IID, "status": "disconnected", "details": "logged out"}),
    )
    result = await client.instance(IID, INSTANCE_TOKEN).session.disconnect()
    assert (wire.last.method, wire.last.auth) == ("POST", "instance")
    assert result.status == "disconnected"
