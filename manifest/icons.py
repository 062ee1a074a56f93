"""The app's two icons, drawn in code so the repository holds no binaries and every build is identical.

Teams wants a 192x192 full-colour icon and a 32x32 outline icon that is white on transparent. Both
show the same symbol, a bridge with a "live" dot, described once as geometry in a unit square and
rasterised here with a small supersampling rasteriser and PNG encoder from the standard library
(no Pillow at run time; the tests decode the files with Pillow as an independent check).
"""

from __future__ import annotations

import math
import struct
import zlib
from functools import cache
from typing import Final

COLOR_SIZE: Final = 192
OUTLINE_SIZE: Final = 32
ACCENT_COLOR: Final = "#0F6CBD"
WHITE: Final = (255, 255, 255)

# The symbol, in unit coordinates (0..1, y down).
_ARCH_CENTER: Final = (0.5, 0.72)
_ARCH_OUTER: Final = 0.42
_ARCH_INNER: Final = 0.34
_DECK: Final = (0.0, 0.64, 1.0, 0.72)  # x0, y0, x1, y1
_HANGER_XS: Final = (0.34, 0.66)
_HANGER_HALF_WIDTH: Final = 0.028
_PIERS: Final = ((0.1, 0.72, 0.18, 0.9), (0.82, 0.72, 0.9, 0.9))
_LIVE_DOT: Final = (0.88, 0.14, 0.1)  # cx, cy, r


def _in_rect(x: float, y: float, rect: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = rect
    return x0 <= x <= x1 and y0 <= y <= y1


def _in_symbol(x: float, y: float) -> bool:
    cx, cy = _ARCH_CENTER
    if y <= cy and _ARCH_INNER**2 <= (x - cx) ** 2 + (y - cy) ** 2 <= _ARCH_OUTER**2:
        return True
    if _in_rect(x, y, _DECK) or any(_in_rect(x, y, pier) for pier in _PIERS):
        return True
    for hx in _HANGER_XS:
        if abs(x - hx) <= _HANGER_HALF_WIDTH and y <= _DECK[1]:
            top = cy - math.sqrt(max(_ARCH_INNER**2 - (hx - cx) ** 2, 0.0))
            if y >= top - 0.01:
                return True
    dx, dy, r = _LIVE_DOT
    return (x - dx) ** 2 + (y - dy) ** 2 <= r * r


def _coverage(size: int, margin: float, samples: int) -> list[list[float]]:
    """Fraction of each pixel inside the symbol; the symbol fills the square less ``margin`` a side."""
    span = 1.0 - 2 * margin
    offsets = [(i + 0.5) / samples for i in range(samples)]
    total = samples * samples
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            hits = 0
            for oy in offsets:
                v = ((py + oy) / size - margin) / span
                for ox in offsets:
                    u = ((px + ox) / size - margin) / span
                    hits += _in_symbol(u, v)
            row.append(hits / total)
        rows.append(row)
    return rows


def _png(pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    """Encode RGBA rows as a PNG (8-bit, no interlace, filter 0), byte-for-byte reproducible."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _hex_rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def color_icon(accent: str = ACCENT_COLOR) -> bytes:
    """192x192 PNG: the white symbol, anti-aliased, on a full-bleed accent-colour square."""
    return _color_icon(accent.upper())


@cache  # about half a second of pure-Python rasterising; the result never changes
def _color_icon(accent: str) -> bytes:
    background = _hex_rgb(accent)

    def shade(c: float) -> tuple[int, int, int, int]:
        r, g, b = (round(base + (white - base) * c) for base, white in zip(background, WHITE, strict=True))
        return (r, g, b, 255)

    pixels = [[shade(c) for c in row] for row in _coverage(COLOR_SIZE, margin=0.17, samples=3)]
    return _png(pixels)


@cache
def outline_icon() -> bytes:
    """32x32 PNG: the symbol in opaque white on a fully transparent background; every pixel is
    white or transparent (no anti-aliasing), as Teams asks of outline icons."""
    pixels = [
        [(*WHITE, 255) if c >= 0.5 else (0, 0, 0, 0) for c in row]
        for row in _coverage(OUTLINE_SIZE, margin=0.04, samples=4)
    ]
    return _png(pixels)
