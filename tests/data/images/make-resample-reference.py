#!/usr/bin/python3
"""Writes Pillow's reference for image_resize and image_resize_f32 (needs
python3-pil and python3-numpy, only when regenerating; the outputs are
committed):

    /usr/bin/python3 tests/data/images/make-resample-reference.py tests/data/images

resample-u8.bin: RGB8 inputs and, for each case, Pillow 9.4's
    Image.frombytes("RGB", (w, h), data).resize((ow, oh), FILTER)
with FILTER BILINEAR or BICUBIC.
resample-f32.bin: float32 single-channel inputs and
    Image.fromarray(array_float32, mode "F").resize((ow, oh), FILTER)

File layout (little-endian u32 unless said): magic "HDMRS1\\0\\0", kind
(1 = uint8 RGB, 4 = float32), n_inputs, then per input w, h and w*h*ch
samples; n_cases, then per case input index, filter (0 bilinear, 1 bicubic),
ow, oh and ow*oh*ch samples.  Inputs are pseudo-random textures (smooth
ramps plus noise, and for floats a wide signed range as a depth model's
logits have).  The sizes cover up- and downscaling of each axis apart,
1-pixel inputs and outputs, non-integer and large ratios (the 1000x700
input down to 320x256-like ratios is hailo-depth's case; the float map
upscaled 3x4 is its map back to the image size).
"""
import os
import struct
import sys

import numpy as np
from PIL import Image

FILTERS = [Image.BILINEAR, Image.BICUBIC]
INPUTS_U8 = [(61, 37), (29, 53), (9, 7), (1, 1), (1, 12), (240, 160)]
INPUTS_F32 = [(40, 32), (7, 11), (1, 1), (5, 1), (200, 120)]


def texture_u8(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 7 + y * 3) % 256, (y * 11 + 40) % 256, (x * y) % 256], axis=-1)
    noise = rng.integers(-40, 41, size=(h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def texture_f32(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    return (np.sin(x * 0.3) * 5 + np.cos(y * 0.2) * 3 + rng.normal(0, 2, size=(h, w))
            - 1.5).astype(np.float32)


def sizes_for(w, h):
    if w >= 200:  # downscaling only, large and non-integer ratios
        return sorted({(1, 1), (17, 13), (2, 40), (w // 7, h // 5), (w // 3, h // 4),
                       (w // 2 + 3, h // 9), (w // 11, h // 2)})
    return sorted({(1, 1), (w, h // 2 or 1), (w * 2 - 1, h), (max(1, w // 3), h + 5), (17, 13),
                   (w + 1, h + 1), (max(1, w // 2), max(1, h // 2)), (w * 3, h * 2 + 1),
                   (2, 40)})


def write(path, kind, inputs, cases):
    with open(path, "wb") as f:
        f.write(b"HDMRS1\0\0" + struct.pack("<II", kind, len(inputs)))
        for arr in inputs:
            h, w = arr.shape[:2]
            f.write(struct.pack("<II", w, h) + arr.astype("<f4" if kind == 4 else "u1").tobytes())
        f.write(struct.pack("<I", len(cases)))
        for idx, filt, arr in cases:
            h, w = arr.shape[:2]
            f.write(struct.pack("<IIII", idx, filt, w, h)
                    + arr.astype("<f4" if kind == 4 else "u1").tobytes())


def main(out):
    inputs, cases = [], []
    for i, (w, h) in enumerate(INPUTS_U8):
        arr = texture_u8(w, h, i)
        inputs.append(arr)
        img = Image.fromarray(arr, "RGB")
        for ow, oh in sizes_for(w, h):
            for fi, f in enumerate(FILTERS):
                cases.append((i, fi, np.asarray(img.resize((ow, oh), f))))
    write(os.path.join(out, "resample-u8.bin"), 1, inputs, cases)

    inputs, cases = [], []
    for i, (w, h) in enumerate(INPUTS_F32):
        arr = texture_f32(w, h, 100 + i)
        inputs.append(arr)
        img = Image.fromarray(arr, "F")
        extra = [(w * 3, h * 4)] if w < 100 else [(47, 31)]  # the depth map up and down
        for ow, oh in sizes_for(w, h) + extra:
            for fi, f in enumerate(FILTERS):
                cases.append((i, fi, np.asarray(img.resize((ow, oh), f), dtype=np.float32)))
    write(os.path.join(out, "resample-f32.bin"), 4, inputs, cases)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
