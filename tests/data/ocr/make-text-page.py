#!/usr/bin/python3
"""Renders text-page.png and text-page.json for the OCR end-to-end tests on the simulator.

A 1280x720 light page with text lines in PIL's default bitmap font, scaled up
with nearest-neighbour so strokes stay crisp.  text-page.json lists every
line: its text, its word count and its rectangle in page pixels.
  /usr/bin/python3 tests/data/ocr/make-text-page.py tests/data/ocr
"""
import json
import os
import sys

from PIL import Image, ImageDraw, ImageFont

LINES = [  # (x, y, scale, text)
    (80, 40, 4, "HAILO OCR DEMO"),
    (80, 130, 3, "The quick brown fox jumps"),
    (80, 190, 3, "over the lazy dog 12345"),
    (80, 270, 2, "Receipt total: 42.50 EUR"),
    (80, 310, 2, "Paid by card, thank you!"),
    (700, 270, 2, "Second column of text"),
    (700, 310, 2, "with two short lines"),
    (80, 400, 5, "STOP"),
    (80, 520, 2, "Raspberry Pi 5 with a Hailo-10H NPU"),
    (80, 560, 2, "runs many AI services at once."),
]


def main(out):
    font = ImageFont.load_default()
    page = Image.new("RGB", (1280, 720), (248, 246, 240))
    meta = []
    for x, y, scale, text in LINES:
        l, t, r, b = font.getbbox(text)
        small = Image.new("L", (r + 2, b + 2), 246)
        ImageDraw.Draw(small).text((1, 1), text, font=font, fill=20)
        big = small.resize((small.width * scale, small.height * scale), Image.NEAREST)
        page.paste(Image.merge("RGB", (big, big, big)), (x, y))
        meta.append({"text": text, "words": len(text.split()),
                     "rect": [x, y, big.width, big.height]})
    page.save(os.path.join(out, "text-page.png"), optimize=True)
    with open(os.path.join(out, "text-page.json"), "w") as f:
        json.dump({"width": 1280, "height": 720, "lines": meta}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
