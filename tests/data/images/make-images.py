#!/usr/bin/python3
"""Writes the small PNG test files of this folder with the Python standard
library only (zlib + struct), so they can be rebuilt anywhere:

    /usr/bin/python3 tests/data/images/make-images.py tests/data/images

Each file exercises one path of the PNG decoder (see test_image.c, which
states the expected pixels).  JPEG and WebP inputs are encoded at test time
with libjpeg and libwebp instead, since the standard library has no encoder.
"""
import os
import struct
import sys
import zlib


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, bit_depth, color_type, rows, extra=b"", interlace=0):
    """rows: list of raw scanline bytes (filter byte 0 is added here)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main(out):
    files = {}
    w, h = 16, 8
    # RGB gradient: red rises with x, green with y, blue constant 77.
    files["rgb-gradient-16x8.png"] = png(w, h, 8, 2, [
        bytes(v for x in range(w) for v in (x * 17, y * 36, 77)) for y in range(h)])
    # Grey 8-bit, value 90.
    files["grey8-90.png"] = png(w, h, 8, 0, [bytes([90] * w) for _ in range(h)])
    # Grey 1-bit: left half black, right half white.
    row = int("0" * 8 + "1" * 8, 2).to_bytes(2, "big")
    files["grey1-halves.png"] = png(w, h, 1, 0, [row for _ in range(h)])
    # Grey + alpha: grey 200, alpha 10 (alpha is dropped, not composited).
    files["greyalpha-200.png"] = png(w, h, 8, 4, [bytes([200, 10] * w) for _ in range(h)])
    # RGBA: (10, 20, 30) with alpha 0.
    files["rgba-transparent.png"] = png(w, h, 8, 6, [bytes([10, 20, 30, 0] * w) for _ in range(h)])
    # Palette with tRNS: index 0 = (255, 0, 0) transparent, index 1 = (0, 0, 255).
    plte = chunk(b"PLTE", bytes([255, 0, 0, 0, 0, 255]))
    trns = chunk(b"tRNS", bytes([0]))
    files["palette-trns.png"] = png(w, h, 8, 3, [bytes([0] * 8 + [1] * 8) for _ in range(h)],
                                    extra=plte + trns)
    # 16-bit RGB: 0x1234, 0xABCD, 0xFF00 -> high bytes 0x12, 0xAB, 0xFF.
    files["rgb16.png"] = png(w, h, 16, 2, [bytes([0x12, 0x34, 0xAB, 0xCD, 0xFF, 0x00] * w)
                                           for _ in range(h)])
    # Adam7-interlaced copy of the gradient (raw data laid out per pass).
    def adam7_rows():
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                  (1, 0, 2, 2), (0, 1, 1, 2)]
        out_rows = []
        for x0, y0, dx, dy in passes:
            xs = range(x0, w, dx)
            for y in range(y0, h, dy):
                if len(xs):
                    out_rows.append(bytes(v for x in xs for v in (x * 17, y * 36, 77)))
        return out_rows
    files["rgb-gradient-interlaced.png"] = png(w, h, 8, 2, adam7_rows(), interlace=1)
    # Header claiming 100000x100000 (a decompression bomb): valid CRCs, tiny IDAT.
    files["huge-100000x100000.png"] = png(100000, 100000, 8, 2, [b"\x00\x00\x00"])
    # Truncated: the gradient cut in the middle of IDAT.
    good = files["rgb-gradient-16x8.png"]
    files["truncated.png"] = good[: len(good) - 30]
    # Corrupt: IHDR CRC broken.
    bad = bytearray(good)
    bad[29] ^= 0xFF
    files["bad-crc.png"] = bytes(bad)
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
