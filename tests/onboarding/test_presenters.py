"""Presenters: scannable terminal QR codes, the PNG folder and the live web page."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import zxingcpp
from PIL import Image

from vzaps_async._client import Client
from vzaps_async.onboarding import (
    PairCodeShown,
    PngFolderPresenter,
    QRShown,
    Snapshot,
    State,
    TerminalPresenter,
    WebPresenter,
)
from vzaps_async.onboarding._presenters import png_from_data_url
from vzaps_async.onboarding._qrgrid import qr_matrix
from vzaps_async.testing import Simulator

SNAP = Snapshot(name="shop-01", state=State.PAIRING, phone="5511999990001")


async def simulator_qr() -> str:
    async with (
        Simulator() as sim,
        Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client,
    ):
        info = await client.instances.create("qr-source")
        qr = await client.instance(info.id, info.token).session.qr()
        assert qr.qr_code is not None
        return qr.qr_code


def decode(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    return str(results[0].text)


def parse_half_blocks(text: str) -> list[list[bool]]:
    """Turn a (non-inverted) half-block drawing back into rows of dark modules."""
    top = {" ": False, "▀": True, "▄": False, "█": True}
    bottom = {" ": False, "▀": False, "▄": True, "█": True}
    rows: list[list[bool]] = []
    for line in text.splitlines():
        rows.append([top[ch] for ch in line])
        rows.append([bottom[ch] for ch in line])
    return rows


def image_of(rows: list[list[bool]], scale: int = 8) -> Image.Image:
    height, width = len(rows), max(len(r) for r in rows)
    image = Image.new("L", (width * scale, height * scale), 255)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    return image


async def test_terminal_qr_is_scannable() -> None:
    """A simulator QR drawn in half blocks decodes (re-rendered) to the same text as the PNG."""
    data_url = await simulator_qr()
    original = decode(Image.open(io.BytesIO(png_from_data_url(data_url))))
    printed: list[str] = []
    presenter = TerminalPresenter(printed.append, invert=False)
    await presenter.qr_shown(SNAP, QRShown(data_url))
    title, _, drawing = printed[0].partition("\n")
    assert "shop-01" in title
    rows = parse_half_blocks(drawing)
    assert decode(image_of(rows)) == original
    # The inverted default draws the same grid with light and dark swapped.
    inverted: list[str] = []
    await TerminalPresenter(inverted.append).qr_shown(SNAP, QRShown(data_url))
    flipped = [[not d for d in row] for row in parse_half_blocks(inverted[0].partition("\n")[2])]
    # (the last half row is padding when the drawing has an odd number of module rows)
    assert flipped[:-1] == rows[:-1]


async def test_qr_matrix_matches_the_png_module_grid() -> None:
    """The stdlib PNG reader recovers a square module grid with the three finder patterns."""
    matrix = qr_matrix(png_from_data_url(await simulator_qr()))
    size = len(matrix)
    assert size >= 21
    assert all(len(row) == size for row in matrix)
    finder = [row[:7] for row in matrix[:7]]
    assert finder[0] == [True] * 7
    assert finder[3] == [True, False, True, True, True, False, True]


async def test_terminal_pair_code_names_the_phone() -> None:
    """The pair-code line shows the code and the phone number it is for."""
    printed: list[str] = []
    await TerminalPresenter(printed.append).pair_code_shown(
        SNAP, PairCodeShown("ABCD-EFGH", "5511999990001")
    )
    assert "ABCD-EFGH" in printed[0]
    assert "+5511999990001" in printed[0]


async def test_png_folder_writes_then_removes(tmp_path: Path) -> None:
    """The PNG folder holds <name>.png while pairing and drops it once connected."""
    data_url = await simulator_qr()
    presenter = PngFolderPresenter(tmp_path / "qr")
    await presenter.qr_shown(SNAP, QRShown(data_url))
    target = tmp_path / "qr" / "shop-01.png"
    assert target.read_bytes() == png_from_data_url(data_url)
    await presenter.connected(SNAP)
    assert not target.exists()
    assert list((tmp_path / "qr").iterdir()) == []


async def test_web_presenter_serves_live_state() -> None:
    """The web page lists pending codes, replaces rotated ones and marks connected instances."""
    async with WebPresenter() as web, aiohttp.ClientSession() as http:
        await web.qr_shown(SNAP, QRShown("data:image/png;base64,FIRST"))
        await web.qr_shown(SNAP, QRShown("data:image/png;base64,SECOND"))
        other = Snapshot(name="shop-02", state=State.PAIRING)
        await web.pair_code_shown(other, PairCodeShown("WXYZ-1234", "5511000000002"))
        async with http.get(web.url) as page:
            assert page.status == 200
            assert "state.json" in await page.text()
        async with http.get(web.url + "state.json") as resp:
            state = {item["name"]: item for item in await resp.json()}
        assert state["shop-01"]["qr"].endswith("SECOND")
        assert state["shop-02"]["code"] == "WXYZ-1234"
        await web.connected(SNAP)
        async with http.get(web.url + "state.json") as resp:
            state = {item["name"]: item for item in await resp.json()}
        assert state["shop-01"]["status"] == "connected"
        assert state["shop-01"]["qr"] is None


async def test_web_presenter_puts_who_needs_a_phone_first_and_says_why() -> None:
    """Pending codes come first with their expiry; a re-pair's card says why it is needed."""
    web = WebPresenter()
    await web.connected(Snapshot(name="aaa-connected", state=State.CONNECTED))
    again = Snapshot(name="zzz-again", state=State.PAIRING, repairs=1, incident="logout")
    await web.qr_shown(again, QRShown("data:image/png;base64,QR", expires_at=123.0))
    first, second = web.state()
    assert (first["name"], first["expires_at"]) == ("zzz-again", 123.0)
    assert first["detail"] == "pair again: logout"
    assert second["name"] == "aaa-connected"


async def test_the_terminal_draws_one_pending_qr_at_a_time() -> None:
    """With several instances pairing, one QR is drawn (with a count of the others), another's
    rotation prints nothing, and the next is drawn once the shown one connects."""
    printed: list[str] = []
    presenter = TerminalPresenter(printed.append)
    snaps = [Snapshot(name=f"shop-0{i}", state=State.PAIRING) for i in (1, 2, 3)]
    for snap in snaps:
        await presenter.qr_shown(snap, QRShown("data:image/png;base64,AAAA"))
    assert len(printed) == 1
    assert printed[0].startswith("shop-01: scan")
    await presenter.qr_shown(snaps[1], QRShown("data:image/png;base64,BBBB"))
    assert len(printed) == 1
    await presenter.qr_shown(snaps[0], QRShown("data:image/png;base64,CCCC"))  # a rotation
    assert len(printed) == 2
    assert printed[-1].startswith("shop-01: scan")
    assert "2 more waiting" in printed[-1]
    await presenter.connected(snaps[0])
    assert printed[-2] == "shop-01: connected\n"
    assert printed[-1].startswith("shop-02: scan")
    assert "1 more waiting" in printed[-1]
    await presenter.failed(snaps[1])
    assert printed[-1].startswith("shop-03: scan")
    assert "more waiting" not in printed[-1]
