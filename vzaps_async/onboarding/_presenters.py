"""Presenters: show QR codes and pair codes to the people holding the phones.

- `TerminalPresenter` draws each QR with Unicode half blocks (read back from the API's PNG) and
  prints pair codes with their phone numbers;
- `PngFolderPresenter` keeps ``<folder>/<name>.png`` up to date and removes it once connected;
- `WebPresenter` serves a local page listing every pending QR / pair code, refreshed live;
- `NullPresenter` shows nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from ._presenters_base import NullPresenter, Presenter
from ._qrgrid import QRGridError, qr_matrix, render_half_blocks
from ._state import PairCodeShown, QRShown, Snapshot

__all__ = [
    "NullPresenter",
    "PngFolderPresenter",
    "Presenter",
    "TerminalPresenter",
    "WebPresenter",
    "png_from_data_url",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def png_from_data_url(url: str) -> bytes:
    """Return the PNG bytes of a ``data:image/png;base64,...`` URL.

    Args:
        url: The data URL (a bare base64 string is accepted too).
    """
    _, comma, encoded = url.partition(",")
    return base64.b64decode(encoded if comma else url)


def _remaining(expires_at: float | None) -> str:
    if expires_at is None:
        return ""
    return f", expires in {max(0.0, expires_at - time.time()):.0f}s"


class TerminalPresenter:
    """Prints QR codes as half-block drawings and pair codes as text.

    One QR code fills most of a 24-line terminal, so only one is drawn at a time: the oldest
    pending instance's (redrawn when it rotates), with a count of the others waiting; when it
    connects or fails, the next one is drawn. The others' rotations are kept, not printed.

    Args:
        write: Where text goes (default: standard output).
        invert: Draw light modules as blocks (right for light-on-dark terminals).
    """

    def __init__(self, write: Callable[[str], None] | None = None, *, invert: bool = True) -> None:
        self._write = write or (lambda text: print(text, end="", file=sys.stdout, flush=True))
        self._invert = invert
        #: The latest QR of each instance waiting for a scan, oldest first.
        self._pending: dict[str, QRShown] = {}
        self._shown: str | None = None

    async def qr_shown(self, snapshot: Snapshot, event: QRShown) -> None:
        """Draw the QR under a title line, or keep it until the one on screen is done.

        Args:
            snapshot: The instance's snapshot.
            event: The QR and its expiry.
        """
        self._pending[snapshot.name] = event
        if self._shown in (None, snapshot.name):
            self._draw(snapshot.name)

    def _draw(self, name: str) -> None:
        event = self._pending[name]
        self._shown = name
        title = f"{name}: scan with WhatsApp → Linked devices{_remaining(event.expires_at)}"
        try:
            drawing = render_half_blocks(
                qr_matrix(png_from_data_url(event.qr_code)), invert=self._invert
            )
        except (QRGridError, ValueError) as exc:
            drawing = f"(cannot draw this QR code: {exc})\n"
        others = len(self._pending) - 1
        waiting = f"({others} more waiting; the next is shown once this one links)\n"
        self._write(f"{title}\n{drawing}{waiting if others else ''}")

    def _done(self, name: str) -> None:
        self._pending.pop(name, None)
        if self._shown == name:
            self._shown = None
            if self._pending:
                self._draw(next(iter(self._pending)))

    async def pair_code_shown(self, snapshot: Snapshot, event: PairCodeShown) -> None:
        """Print the code with its phone number.

        Args:
            snapshot: The instance's snapshot.
            event: The code, phone and expiry.
        """
        self._write(
            f"{snapshot.name}: on phone +{event.phone} open WhatsApp → Linked devices → "
            f"Link with phone number and type {event.code}{_remaining(event.expires_at)}\n"
        )
        self._done(snapshot.name)  # switched from QR to the pair code

    async def connected(self, snapshot: Snapshot) -> None:
        """Say it connected.

        Args:
            snapshot: The instance's snapshot.
        """
        phone = f" (+{snapshot.phone})" if snapshot.phone else ""
        self._write(f"{snapshot.name}: connected{phone}\n")
        self._done(snapshot.name)

    async def failed(self, snapshot: Snapshot) -> None:
        """Say it failed and why.

        Args:
            snapshot: The instance's snapshot.
        """
        if snapshot.failure is None and snapshot.attention is not None:
            self._write(f"{snapshot.name}: NEEDS A PERSON: {snapshot.attention}\n")
        else:
            self._write(f"{snapshot.name}: FAILED: {snapshot.failure}\n")
        self._done(snapshot.name)


class PngFolderPresenter:
    """Keeps one PNG per pending instance in a folder (``<name>.png``), removed when done.

    Args:
        folder: Target folder; created if missing.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path_for(self, name: str) -> Path:
        """The PNG file of an instance (unsafe characters of the name replaced by ``_``).

        Args:
            name: Instance name.
        """
        return self.folder / f"{_UNSAFE.sub('_', name)}.png"

    async def qr_shown(self, snapshot: Snapshot, event: QRShown) -> None:
        """Write the QR atomically (a viewer never sees half a file).

        Args:
            snapshot: The instance's snapshot.
            event: The QR.
        """
        target = self.path_for(snapshot.name)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(png_from_data_url(event.qr_code))
        os.replace(tmp, target)

    async def pair_code_shown(self, snapshot: Snapshot, event: PairCodeShown) -> None:
        """Write ``<name>.txt`` with the code and phone.

        Args:
            snapshot: The instance's snapshot.
            event: The code.
        """
        target = self.path_for(snapshot.name).with_suffix(".txt")
        target.write_text(f"phone +{event.phone}: {event.code}\n")

    async def connected(self, snapshot: Snapshot) -> None:
        """Remove the instance's files.

        Args:
            snapshot: The instance's snapshot.
        """
        self._remove(snapshot.name)

    async def failed(self, snapshot: Snapshot) -> None:
        """Remove the instance's files.

        Args:
            snapshot: The instance's snapshot.
        """
        self._remove(snapshot.name)

    def _remove(self, name: str) -> None:
        path = self.path_for(name)
        path.unlink(missing_ok=True)
        path.with_suffix(".txt").unlink(missing_ok=True)


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>VZaps onboarding</title>
<style>body{font-family:sans-serif;margin:2em}div.card{display:inline-block;margin:1em;
padding:1em;border:1px solid #ccc;border-radius:8px;text-align:center;vertical-align:top}
.connected{background:#dfd}.failed{background:#fdd}img{width:240px;image-rendering:pixelated}
code{font-size:2em}</style></head>
<body><h1>VZaps onboarding</h1><p id="summary"></p><div id="cards"></div>
<script>
async function refresh(){
  const r = await fetch('state.json', {cache:'no-store'}); const items = await r.json();
  const pending = items.filter(i => i.status === 'pending').length;
  document.getElementById('summary').textContent =
    pending + ' waiting for a phone, ' + items.length + ' in all';
  const cards = document.getElementById('cards'); cards.replaceChildren();
  for (const i of items){
    const d = document.createElement('div'); d.className = 'card ' + i.status;
    const h = document.createElement('h3'); h.textContent = i.name; d.appendChild(h);
    if (i.status === 'pending' && i.qr){ const img = document.createElement('img');
      img.src = i.qr; img.alt = 'QR code for ' + i.name; d.appendChild(img); }
    if (i.status === 'pending' && i.code){ const c = document.createElement('code');
      c.textContent = i.code; d.appendChild(c);
      const p = document.createElement('p'); p.textContent = 'phone +' + i.phone;
      d.appendChild(p); }
    if (i.status === 'pending' && i.expires_at){ const p = document.createElement('p');
      const left = Math.max(0, Math.round(i.expires_at - Date.now() / 1000));
      p.textContent = left ? 'expires in ' + left + 's' : 'expired, a new one is coming';
      d.appendChild(p); }
    if (i.status !== 'pending' || i.detail){ const p = document.createElement('p');
      p.textContent = i.status === 'pending' ? i.detail
        : i.status + (i.detail ? ': ' + i.detail : '');
      d.appendChild(p); }
    cards.appendChild(d);
  }
}
refresh(); setInterval(refresh, 1000);
</script></body></html>
"""


def _why_again(snapshot: Snapshot) -> str | None:
    """Why a connected instance needs a phone again (a supervisor's re-pair), or None."""
    if not snapshot.repairs:
        return None
    return f"pair again: {snapshot.incident or 'the session was lost'}"


@attrs.define
class _Card:
    status: str = "pending"
    qr: str | None = None
    code: str | None = None
    phone: str | None = None
    detail: str | None = None
    expires_at: float | None = None


class WebPresenter:
    """A live local web page listing every pending QR code and pair code.

    Use as ``async with WebPresenter() as web:``; open ``web.url`` in a browser. The page polls
    ``state.json`` every second, so rotated codes replace old ones and connected instances are
    marked as such. Instances waiting for a phone come first, each code with a countdown to its
    expiry, and a supervisor's re-pairs say why the phone is needed again.

    Args:
        host: Interface to bind (keep the default: the page shows pairing material).
        port: Port (0 picks a free one).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._cards: dict[str, _Card] = {}
        self._runner: Any = None

    @property
    def url(self) -> str:
        """The page's address (after `start`)."""
        if self._runner is None:
            raise RuntimeError("the web presenter is not started")
        return f"http://{self._host}:{self._port}/"

    def state(self) -> list[dict[str, Any]]:
        """What ``state.json`` serves: one entry per instance seen, those waiting for a phone
        first."""
        cards = sorted(self._cards.items(), key=lambda item: (item[1].status != "pending", item[0]))
        return [{"name": name, **attrs.asdict(card)} for name, card in cards]

    async def start(self) -> WebPresenter:
        """Start serving; return self."""
        from aiohttp import web

        async def page(request: web.Request) -> web.Response:
            return web.Response(text=_PAGE, content_type="text/html")

        async def state(request: web.Request) -> web.Response:
            return web.Response(
                text=json.dumps(self.state()),
                content_type="application/json",
                headers={"Cache-Control": "no-store"},
            )

        app = web.Application()
        app.router.add_get("/", page)
        app.router.add_get("/state.json", state)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self._port = sockets[0].getsockname()[1]
        self._runner = runner
        return self

    async def aclose(self) -> None:
        """Stop serving."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> WebPresenter:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def qr_shown(self, snapshot: Snapshot, event: QRShown) -> None:
        """Show (or replace) the instance's QR.

        Args:
            snapshot: The instance's snapshot.
            event: The QR.
        """
        self._cards[snapshot.name] = _Card(
            qr=event.qr_code, expires_at=event.expires_at, detail=_why_again(snapshot)
        )

    async def pair_code_shown(self, snapshot: Snapshot, event: PairCodeShown) -> None:
        """Show the instance's pair code and phone.

        Args:
            snapshot: The instance's snapshot.
            event: The code.
        """
        self._cards[snapshot.name] = _Card(
            code=event.code,
            phone=event.phone,
            expires_at=event.expires_at,
            detail=_why_again(snapshot),
        )

    async def connected(self, snapshot: Snapshot) -> None:
        """Mark the instance connected (its code is dropped).

        Args:
            snapshot: The instance's snapshot.
        """
        self._cards[snapshot.name] = _Card(status="connected", detail=snapshot.phone)

    async def failed(self, snapshot: Snapshot) -> None:
        """Mark the instance failed, with the reason.

        Args:
            snapshot: The instance's snapshot.
        """
        self._cards[snapshot.name] = _Card(
            status="failed", detail=snapshot.failure or snapshot.attention
        )
