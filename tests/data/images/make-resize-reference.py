#!/usr/bin/python3
"""Writes Pillow's reference for image_resize_crop (needs python3-pil, only
when regenerating; the outputs are committed):

    /usr/bin/python3 tests/data/images/make-resize-reference.py tests/data/images

For each case: resize-in-WxH.rgb (raw RGB8 input, deterministic pseudo-random
texture) and resize-out-WxH-S.rgb = Pillow resize of the shorter side to S
with BICUBIC, then a centre crop, exactly as CLIP's torchvision
preprocessing (Resize(S, BICUBIC) + CenterCrop(S)) does.
"""
import os
import sys

from PIL import Image

CASES = [(61, 37, 24), (29, 53, 20), (9, 7, 16)]


def texture(w, h):
    seed = 12345
    out = bytearray()
    for y in range(h):
        for x in range(w):
            for c in range(3):
                seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
                smooth = (x * 7 + y * 11 + c * 50) % 256
                out.append(max(0, min(255, smooth + (seed >> 16) % 41 - 20)))
    return bytes(out)


def main(out):
    for w, h, s in CASES:
        data = texture(w, h)
        img = Image.frombytes("RGB", (w, h), data)
        nw, nh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
        img = img.resize((nw, nh), Image.BICUBIC)
        top, left = int(round((nh - s) / 2.0)), int(round((nw - s) / 2.0))
        ref = img.crop((left, top, left + s, top + s)).tobytes()
        with open(os.path.join(out, f"resize-in-{w}x{h}.rgb"), "wb") as f:
            f.write(data)
        with open(os.path.join(out, f"resize-out-{w}x{h}-{s}.rgb"), "wb") as f:
            f.write(ref)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
