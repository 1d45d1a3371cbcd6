"""QR code images of the simulator: real PNGs as ``data:image/png;base64,...`` URLs.

segno computes the QR matrix; the PNG (1-bit grayscale, 4 pixels per module, 4-module quiet
zone) is written here with zlib, which is several times faster than segno's pure-Python writer
and matters when ten thousand instances pair at once. Images are cached per reference, and segno
is imported on first use so that importing the simulator stays cheap.
"""

from __future__ import annotations

import base64
import functools
import struct
import zlib
from collections.abc import Sequence

__all__ = ["qr_data_url", "qr_png"]

_SCALE = 4
_BORDER = 4
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


def _png(matrix: Sequence[Sequence[int]]) -> bytes:
    """Encode a module matrix (1 = dark) as a 1-bit grayscale PNG (bit 1 = white)."""
    modules = len(matrix) + 2 * _BORDER
    width = modules * _SCALE
    row_bytes = (width + 7) // 8
    padding = "1" * (row_bytes * 8 - width)
    quiet = "1" * (_BORDER * _SCALE)
    blank = b"\x00" + int("1" * width + padding, 2).to_bytes(row_bytes, "big")
    lines = [blank] * (_BORDER * _SCALE)
    for row in matrix:
        bits = "".join("0" * _SCALE if module & 1 else "1" * _SCALE for module in row)
        line = b"\x00" + int(quiet + bits + quiet + padding, 2).to_bytes(row_bytes, "big")
        lines.extend([line] * _SCALE)
    lines.extend([blank] * (_BORDER * _SCALE))
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(lines), 6))
        + _chunk(b"IEND", b"")
    )


def qr_png(reference: str) -> bytes:
    """PNG bytes of a QR code that encodes ``reference``.

    Args:
        reference: The text the phone reads from the QR code.
    """
    import segno

    # A fixed mask pattern is valid QR and skips segno's mask search (most of its cost).
    code = segno.make(reference, error="l", micro=False, mask=0)
    return _png(code.matrix)


@functools.lru_cache(maxsize=16384)
def qr_data_url(reference: str) -> str:
    """A PNG data URL of a QR code that encodes ``reference``.

    Args:
        reference: The text the phone reads from the QR code.
    """
    return "data:image/png;base64," + base64.b64encode(qr_png(reference)).decode("ascii")
