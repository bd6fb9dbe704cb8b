#!/usr/bin/python3
"""Writes py_decode.txt: what Python's base64.b64decode(s) (s a str) and the
services' data-URI rule make of many inputs.  Standard library only; run from
this folder:  python3 make_expected.py"""
import base64
import random

rng = random.Random(20261203)
ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
JUNK = " \t\r\n!-_.:,;*?#@\\\"'~\x00\x01\x7f"

inputs = [
    "", "=", "==", "a", "ab", "abc", "abcd", "ab=", "ab==", "abc=", "abc==", "a=", "a==", "a===",
    "ab==cd", "abc=d", "ab=c=", "ab=c", "=abcd", "ab=======", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
    "Zm9vYmFy", "Zm9vYg", "Zm9vYmE", "Zm9vYg=", "Zm9vYg===", "Z m 9 v", "Zm9v\nYmFy\n",
    "not-valid-base64!!!", "INVALID!!!", "!!!", "Zm9v!!==", "YQ", "YR==", "YQ==YQ==",
    "data:,", "data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64", "data:", "Data:,YQ==",
    "data:a,b,YWJj", "xdata:,YQ==", "data:;base64,Zm9v,YmFy", "data:,Zm9", "data:,Zm9vY",
    "é", "Zm9v\u00e9", "Zm9v==\u00e9", "\u20ac",
    "abcd" * 100 + "e",
    "Zm9vYmFy" * 50 + "=",
]
for _ in range(800):
    kind = rng.random()
    if kind < 0.4:          # a valid encoding with junk and stray '=' sprinkled in
        raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
        enc = list(base64.b64encode(raw).decode())
        if rng.random() < 0.5:
            while enc and enc[-1] == "=":
                enc.pop()
        for _ in range(rng.randint(0, 6)):
            enc.insert(rng.randint(0, len(enc)), rng.choice(JUNK + "="))
        s = "".join(enc)
    elif kind < 0.9:        # random characters from the alphabet, '=' and junk
        s = "".join(rng.choice(ALPHA * 3 + "====" + JUNK) for _ in range(rng.randint(0, 30)))
    else:                   # a data URI around something
        s = "data:" + rng.choice(["", "image/png;base64", "x"]) + rng.choice([",", "", ",,"]) + \
            "".join(rng.choice(ALPHA + "=") for _ in range(rng.randint(0, 12)))
    inputs.append(s)


def service_decode(s):
    if s.startswith("data:"):
        s = s.split(",", 1)[1]
    return base64.b64decode(s)


with open("py_decode.txt", "w") as f:
    f.write("# hex(input as UTF-8) and then ok hex(b64decode(s)) / err <message>, for\n"
            "# b64decode(s) alone and for the services' data-URI rule first\n")
    for s in inputs:
        out = []
        for fn in (base64.b64decode, service_decode):
            try:
                out.append("ok " + (fn(s).hex() or "-"))
            except Exception as e:
                out.append("err " + str(e))
        f.write("%s\t%s\t%s\n" % (s.encode().hex() or "-", out[0], out[1]))
