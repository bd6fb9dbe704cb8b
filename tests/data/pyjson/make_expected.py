#!/usr/bin/python3
"""Writes the expected outputs of src/common/pyjson.c, as Debian's python3
(standard library only) produces them.
Run from this folder:  python3 make_expected.py"""
import json
import math
import random
import struct

rng = random.Random(20261203)


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def floats():
    vals = [0.0, -0.0, math.nan, math.inf, -math.inf, 1.0, 3.0, -3.0, 0.1, 0.2, 0.3,
            1e-05, 1e-4, 0.0001234, 1e16, 1e15, 9999999999999998.0, 1e17,
            1.2345678901234568e+17, 5e-324, 2.2250738585072014e-308,
            1.7976931348623157e+308, 2.0 ** 53, 2.0 ** 53 + 2, 2 / 3, 100.0,
            123456789012345.6, 0.5, 2.5, 1234.5, -0.00001, 12345678.9]
    for e in range(-1074, 1024):          # powers of two: lopsided intervals
        vals.append(math.ldexp(1.0, e))
    for e in range(-323, 309):            # powers of ten and their neighbours
        v = float("1e%d" % e)
        vals += [v, math.nextafter(v, math.inf), math.nextafter(v, 0.0)]
    for _ in range(1000):                 # any bit pattern
        v = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if not math.isnan(v):
            vals.append(v)
    for _ in range(500):                  # float32 values, as embeddings hold
        vals.append(struct.unpack("<f", struct.pack("<f", rng.uniform(-1, 1)))[0])
    for _ in range(500):                  # short decimals at every scale
        vals.append(round(rng.uniform(-1000, 1000), rng.randint(0, 6)) * 10.0 ** rng.randint(-8, 14))
    for _ in range(300):                  # whole numbers as floats
        vals.append(float(rng.getrandbits(rng.randint(1, 62))))
    return vals


with open("floats.txt", "w") as f:
    f.write("# <IEEE-754 bits as hex> <json.dumps(float)>\n")
    for v in floats():
        f.write("%016x %s\n" % (bits(v), json.dumps(v)))

# Trees: each line is hex(input JSON bytes) and the three styles' outputs in hex.
docs = [
    b'{}', b'[]', b'""', b'null', b'true', b'false', b'0', b'-17', b'0.5', b'1e-07',
    b'{"a": 1, "b": [1, 2, {"c": null}], "d": true, "e": false, "f": 0.25}',
    b'{"z": 1, "a": 2, "m": {"y": 1, "b": 2}}',
    b'["caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe4\xb8\xad\xe6\x96\x87"]',
    b'["tab\\there", "nl\\nx", "cr\\r", "bs\\\\", "q\\"", "\\b\\f", "\\u0001\\u001f", "\\u007f", "/"]',
    b'{"k\xc3\xa9y": "v", "\xf0\x9f\x98\x80": 1, "A": 2}',
    b'[1.5, -2.25, 3.141592653589793, 1e+100, 6.02e23, 123456789]',
    # invalid UTF-8 inside strings: replaced, never emitted raw
    b'["\xff", "a\xc3", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "x\x80y", "\xf0\x9f\x98"]',
    b'{"\xfe": "\xe0\x80\xaf", "ok": "\xf1\x80\x80"}',
    b'[[[[[]]]], {"a": {"b": {"c": []}}}]',
]
for _ in range(120):                      # random text in all planes
    chars = []
    for _ in range(rng.randint(0, 12)):
        r = rng.random()
        if r < 0.4:
            chars.append(chr(rng.randint(0x20, 0x7e)))
        elif r < 0.5:
            chars.append(chr(rng.randint(1, 0x1f)))  # NUL ends a C string
        elif r < 0.8:
            cp = rng.randint(0x80, 0xFFFF)
            chars.append(chr(cp) if not 0xD800 <= cp <= 0xDFFF else "x")
        else:
            chars.append(chr(rng.randint(0x10000, 0x10FFFF)))
    s = "".join(chars)
    docs.append(json.dumps({s: [s, rng.randint(-99999, 99999)]}, ensure_ascii=False).encode())
for _ in range(80):                       # random bytes inside a string
    raw = bytes(rng.randint(0x20, 0xff) for _ in range(rng.randint(1, 10)))
    raw = raw.replace(b"\\", b"/").replace(b'"', b"'")
    docs.append(b'["' + raw + b'"]')

with open("trees.txt", "w") as f:
    f.write("# hex(input) hex(json.dumps) hex(compact, ensure_ascii=False) hex(flask jsonify)\n")
    for d in docs:
        obj = json.loads(d.decode("utf-8", "replace"))
        dumps = json.dumps(obj)
        compact = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
        flask = json.dumps(obj, separators=(",", ":"), sort_keys=True) + "\n"
        f.write("%s %s %s %s\n" % (d.hex(), dumps.encode().hex(), compact.encode().hex(),
                                    flask.encode().hex()))
