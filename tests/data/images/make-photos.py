#!/usr/bin/python3
"""Writes the real-photo fixtures of photos/ and exif/ (needs python3-pil,
python3-numpy, python3-opencv and the photos named below; only when
regenerating: the outputs are committed, see README.md):

    /usr/bin/python3 tests/data/images/make-photos.py tests/data/images SKIMAGE_DATA_DIR

SKIMAGE_DATA_DIR is skimage/data from Debian's python3-skimage 0.19.3
(`apt-get download python3-skimage; dpkg-deb -x python3-skimage_*.deb x`);
grace_hopper.jpg comes from python3-matplotlib's sample data.

photos/: each input and photos/<input>.squash224.png (grace-exif6.jpg: the
same pixels as grace_hopper.jpg, so it shares its tensor), the tensor of the
original hailo-clip, Image.open(f).convert("RGB").resize((224, 224),
Image.BICUBIC) with Pillow 9.4, stored losslessly as an RGB PNG; for the
first photo also .crop224.png, Pillow's resize of the shorter side to 224
then the centre 224x224 (torchvision's Resize + CenterCrop).

exif/: a 48x64 crop of grace_hopper.jpg re-encoded once (orient-base.jpg),
then the same bytes with an EXIF APP1 block carrying Orientation 1..8
inserted after SOI (orient-N.jpg: identical pixel data), the same for PNG
with an eXIf chunk before IDAT (orient-N.png), and what OpenCV 4.6 decodes
from each: cv2.imdecode(data, cv2.IMREAD_COLOR) converted BGR -> RGB,
stored as raw RGB8 with its size in the name (orient-N.<ext>.cv2-WxH.rgb).
"""
import io
import os
import struct
import sys
import zlib

import cv2
import numpy as np
from PIL import Image

GRACE = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"


def exif_block(orientation):
    ex = Image.Exif()
    ex[0x0112] = orientation
    ex[0x010F] = "hailo-ai-services test"  # a string entry before the tag, as cameras write
    return ex.tobytes()  # b"Exif\0\0" + TIFF


def with_app1(jpeg, orientation):
    block = exif_block(orientation)
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block + jpeg[2:]


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def with_exif_chunk(png, orientation):
    tiff = exif_block(orientation)[6:]
    ihdr_end = 8 + 8 + 13 + 4
    return png[:ihdr_end] + png_chunk(b"eXIf", tiff) + png[ihdr_end:]


def save(path, data):
    with open(path, "wb") as f:
        f.write(data)


def encoded(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def squash(data):
    return Image.open(io.BytesIO(data)).convert("RGB").resize((224, 224), Image.BICUBIC)


def centre_crop(data, s=224):
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    nw, nh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
    im = im.resize((nw, nh), Image.BICUBIC)
    left, top = int(round((nw - s) / 2.0)), int(round((nh - s) / 2.0))
    return im.crop((left, top, left + s, top + s))


def photos(out, skimage):
    grace = open(GRACE, "rb").read()
    gimg = Image.open(io.BytesIO(grace))
    face = gimg.crop((96, 40, 416, 320))  # 320x280: smaller files for the CMYK and grey copies
    chelsea = Image.open(os.path.join(skimage, "chelsea.png")).convert("RGB").crop((100, 40, 340, 240))
    alpha = Image.linear_gradient("L").resize(chelsea.size)
    rgba = chelsea.copy()
    rgba.putalpha(alpha)
    inputs = [
        ("grace_hopper.jpg", grace),                                   # as shipped, 512x600
        ("grace-exif6.jpg", with_app1(grace, 6)),  # EXIF says rotate: ignored, as Pillow does
        ("grace-cmyk.jpg", encoded(face.convert("CMYK"), "JPEG", quality=90)),
        ("grace-progressive.jpg", encoded(gimg, "JPEG", quality=90, progressive=True)),
        ("grace-grey.jpg", encoded(face.convert("L"), "JPEG", quality=90)),
        ("grace.webp", encoded(gimg, "WEBP", quality=85)),
        ("rocket.jpg", open(os.path.join(skimage, "rocket.jpg"), "rb").read()),    # 640x427, 4:4:4
        ("retina.jpg", open(os.path.join(skimage, "retina.jpg"), "rb").read()),    # 1411x1411
        ("chelsea-alpha.png", encoded(rgba, "PNG", optimize=True)),     # RGBA, 240x200
        ("chelsea-palette.png", encoded(chelsea.quantize(64), "PNG", optimize=True)),
    ]
    d = os.path.join(out, "photos")
    os.makedirs(d, exist_ok=True)
    for name, data in inputs:
        save(os.path.join(d, name), data)
        if name != "grace-exif6.jpg":  # its pixels, and so its tensor, are grace_hopper.jpg's
            save(os.path.join(d, name + ".squash224.png"),
                 encoded(squash(data), "PNG", optimize=True))
    save(os.path.join(d, "grace_hopper.jpg.crop224.png"),
         encoded(centre_crop(grace), "PNG", optimize=True))


def exif(out):
    d = os.path.join(out, "exif")
    os.makedirs(d, exist_ok=True)
    base = Image.open(GRACE).convert("RGB").crop((200, 150, 248, 214))  # 48x64, not square
    jpeg = encoded(base, "JPEG", quality=92)
    png = encoded(base, "PNG")
    save(os.path.join(d, "orient-base.jpg"), jpeg)
    for n in range(1, 9):
        for ext, data in (("jpg", with_app1(jpeg, n)), ("png", with_exif_chunk(png, n))):
            name = "orient-%d.%s" % (n, ext)
            save(os.path.join(d, name), data)
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            h, w = rgb.shape[:2]
            save(os.path.join(d, "%s.cv2-%dx%d.rgb" % (name, w, h)), rgb.tobytes())


if __name__ == "__main__":
    photos(sys.argv[1], sys.argv[2])
    exif(sys.argv[1])
