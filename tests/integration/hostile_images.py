"""Hostile but valid images for the bad-input tests and the benchmark
(issue 20): built at run time, nothing committed.

- jpeg_scan_bomb(w, h, scans): a greyscale progressive JPEG whose DC scan
  is followed by `scans` AC scans that hold nothing but end-of-band runs.
  Every scan still makes the decoder walk every block, so 7000x7000 with
  5000 scans (about 280 KB) costs tens of seconds in libjpeg-turbo without
  a scan limit.  Pillow opens and decodes it: it is a valid file.
- png_pixel_bomb(w, h): a 1-bit PNG of one colour, a few KB for 49 Mpixel,
  that decodes to w*h*3 bytes of RGB.
- webp_pixel_bomb(w, h): a lossless WebP of one colour written by hand:
  every prefix code has a single symbol, so each pixel takes zero bits and
  the whole file is 36 bytes whatever its size (libwebp's encoder needs
  1.4 GB and minutes to make the same picture at 7000x7000).
"""

import io
import struct


class _Bits:
    """An entropy-coded segment writer: MSB first, 0xFF bytes stuffed with
    0x00, the last byte padded with 1 bits (as JPEG asks)."""

    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value, nbits):
        for i in range(nbits - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self._byte(self.acc)
                self.acc = self.n = 0

    def put_zeros(self, nbits):
        """Many 0 bits at once (the DC scan: one per block)."""
        while self.n and nbits:
            self.put(0, 1)
            nbits -= 1
        self.out.extend(bytes(nbits // 8))
        self.put(0, nbits % 8)

    def _byte(self, b):
        self.out.append(b)
        if b == 0xFF:
            self.out.append(0)

    def flush(self):
        if self.n:
            self._byte((self.acc << (8 - self.n)) | ((1 << (8 - self.n)) - 1))
            self.acc = self.n = 0
        return bytes(self.out)


def _segment(marker, payload):
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg_scan_bomb(w, h, scans):
    blocks = ((w + 7) // 8) * ((h + 7) // 8)
    out = bytearray(b"\xff\xd8")
    out += _segment(0xDB, b"\x00" + bytes([1] * 64))                      # DQT 0, all 1
    out += _segment(0xC2, struct.pack(">BHHB", 8, h, w, 1) + b"\x01\x11\x00")  # SOF2, grey
    # DC table 0: one 1-bit code for "difference 0"; AC table 0: one 1-bit
    # code for EOBRUN with 14 extra bits (runs of 16384..32767 blocks).
    out += _segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00")
    out += _segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\xe0")
    # The DC scan: every block's DC difference is 0.
    out += _segment(0xDA, b"\x01\x01\x00\x00\x00\x00")
    bits = _Bits()
    bits.put_zeros(blocks)
    out += bits.flush()
    # Every AC scan carries the same data: end-of-band runs over all blocks.
    bits = _Bits()
    left = blocks
    while left > 0:
        run = max(min(left, 32767), 16384)  # the last run may overshoot: the scan just ends
        bits.put(0, 1)
        bits.put(run - 16384, 14)
        left -= run
    runs = bits.flush()
    for i in range(scans):
        band = 1 + i % 63
        out += _segment(0xDA, bytes([1, 1, 0x00, band, band, 0x00])) + runs
    out += b"\xff\xd9"
    return bytes(out)


def png_pixel_bomb(w, h):
    from PIL import Image
    b = io.BytesIO()
    Image.new("1", (w, h), 1).save(b, "PNG", optimize=True)
    return b.getvalue()


def webp_pixel_bomb(w, h, argb=(255, 200, 30, 90)):
    """VP8L (lossless) bitstream, bits written LSB first: signature, size,
    no alpha, version 0; no transform; no colour cache; one prefix-code
    group of five "simple" codes with one symbol each (green, red, blue,
    alpha: 8-bit symbols; distance: symbol 0); no pixel data needed."""
    bits, n = 0, 0

    def put(value, count):
        nonlocal bits, n
        bits |= (value & ((1 << count) - 1)) << n
        n += count

    put(0x2F, 8)
    put(w - 1, 14)
    put(h - 1, 14)
    put(0, 1)          # alpha_is_used
    put(0, 3)          # version
    put(0, 1)          # no transform
    put(0, 1)          # no colour cache
    put(0, 1)          # no meta prefix codes
    a, r, g, b = argb
    for symbol in (g, r, b, a):
        put(1, 1)      # simple code
        put(0, 1)      # one symbol
        put(1, 1)      # an 8-bit symbol
        put(symbol, 8)
    put(1, 1)
    put(0, 1)
    put(0, 1)          # a 1-bit symbol: distance 0
    put(0, 1)
    data = bits.to_bytes((n + 7) // 8, "little")
    if len(data) % 2:
        data += b"\0"
    chunk = b"VP8L" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


if __name__ == "__main__":
    # python3 hostile_images.py OUTDIR: writes the three files.
    import os
    import sys
    d = sys.argv[1]
    for name, data in (("scan-bomb-7000.jpg", jpeg_scan_bomb(7000, 7000, 5000)),
                       ("pixel-bomb-7000.png", png_pixel_bomb(7000, 7000)),
                       ("pixel-bomb-7000.webp", webp_pixel_bomb(7000, 7000))):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        print(name, len(data))
