"""Recover a QR code's module grid from its PNG, with the standard library only.

The API sends QR codes as PNG data URLs, not as the text they encode, so a terminal cannot
re-encode them: it must read the image. This module decodes non-interlaced PNGs (every bit depth
and colour type; zlib plus the five scanline filters) and samples one pixel at the centre of each
module. The module size comes from the top-left finder pattern, which is always 7 modules wide.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["QRGridError", "decode_png_gray", "qr_matrix", "render_half_blocks"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class QRGridError(ValueError):
    """The image is not a PNG this module can read, or shows no QR code."""


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png_gray(data: bytes) -> tuple[int, int, list[bytearray]]:
    """Decode a PNG into rows of 8-bit luminance (alpha composed over white).

    Args:
        data: The PNG file bytes.

    Returns:
        ``(width, height, rows)``.
    """
    if not data.startswith(_SIGNATURE):
        raise QRGridError("not a PNG image")
    pos = len(_SIGNATURE)
    header: tuple[int, ...] | None = None
    palette = b""
    idat = bytearray()
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if header is None:
        raise QRGridError("PNG without IHDR")
    width, height, depth, color, _, _, interlace = header
    if interlace or color not in _CHANNELS:
        raise QRGridError("interlaced or unknown PNG colour type")
    raw = zlib.decompress(bytes(idat))
    channels = _CHANNELS[color]
    bits = depth * channels
    stride = (width * bits + 7) // 8
    bpp = max(1, bits // 8)
    rows: list[bytearray] = []
    previous = bytearray(stride)
    offset = 0
    for _ in range(height):
        filter_type = raw[offset]
        line = bytearray(raw[offset + 1 : offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            if filter_type == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filter_type == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filter_type == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif filter_type == 4:
                upleft = previous[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, up, upleft)) & 0xFF
        previous = line
        rows.append(_to_gray(line, width, depth, color, palette))
    return width, height, rows


def _samples(line: bytearray, count: int, depth: int) -> list[int]:
    if depth == 8:
        return list(line[:count])
    if depth == 16:
        return [line[2 * i] for i in range(count)]
    per_byte = 8 // depth
    mask = (1 << depth) - 1
    out = []
    for i in range(count):
        byte = line[i // per_byte]
        shift = 8 - depth * (i % per_byte + 1)
        out.append((byte >> shift) & mask)
    return out


def _to_gray(line: bytearray, width: int, depth: int, color: int, palette: bytes) -> bytearray:
    channels = _CHANNELS[color]
    values = _samples(line, width * channels, depth)
    scale = 255 // ((1 << min(depth, 8)) - 1) if color in (0, 4) else 1
    gray = bytearray(width)
    for x in range(width):
        px = values[x * channels : (x + 1) * channels]
        if color == 3:
            r, g, b = palette[3 * px[0] : 3 * px[0] + 3]
            lum, alpha = (r * 299 + g * 587 + b * 114) // 1000, 255
        elif color in (0, 4):
            lum = px[0] * scale
            alpha = px[1] * scale if color == 4 else 255
        else:
            lum = (px[0] * 299 + px[1] * 587 + px[2] * 114) // 1000
            alpha = px[3] if color == 6 else 255
        gray[x] = (lum * alpha + 255 * (255 - alpha)) // 255
    return gray


def qr_matrix(png: bytes) -> list[list[bool]]:
    """Return the QR code's modules (True = dark), without the quiet zone.

    Args:
        png: A PNG image of one QR code, upright and unskewed (as the API generates them).
    """
    width, height, rows = decode_png_gray(png)
    dark = [[v < 128 for v in row] for row in rows]
    ys = [y for y in range(height) if any(dark[y])]
    xs = [x for x in range(width) if any(dark[y][x] for y in ys)]
    if not ys or not xs:
        raise QRGridError("the image shows no QR code")
    top, left, right = ys[0], xs[0], xs[-1]
    run = 0
    while left + run <= right and dark[top][left + run]:
        run += 1
    module = run / 7
    if module < 1:
        raise QRGridError("no finder pattern in the top-left corner")
    size = round((right - left + 1) / module)
    return [
        [dark[top + int((r + 0.5) * module)][left + int((c + 0.5) * module)] for c in range(size)]
        for r in range(size)
    ]


def render_half_blocks(matrix: list[list[bool]], *, quiet: int = 2, invert: bool = True) -> str:
    """Draw a module matrix with Unicode half blocks: two module rows per text line.

    Args:
        matrix: Modules, True = dark.
        quiet: Light modules of margin around the code (scanners need some).
        invert: Print light modules as blocks, for light-on-dark terminals (the usual case).
    """
    size = len(matrix)
    full = size + 2 * quiet

    def lit(r: int, c: int) -> bool:
        r, c = r - quiet, c - quiet
        dark = 0 <= r < size and 0 <= c < size and matrix[r][c]
        return dark != invert

    glyphs = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
    lines = []
    for r in range(0, full, 2):
        lines.append(
            "".join(glyphs[(lit(r, c), r + 1 < full and lit(r + 1, c))] for c in range(full))
        )
    return "\n".join(lines) + "\n"
