"""`hailo-clip --tokenize`: JSON strings on stdin, one JSON array of ids per
line on stdout (HF's Tokenizer.encode(text).ids: no truncation, no padding),
`null` and a "line N: ..." sentence on stderr for a bad line, exit code 1
when any line failed."""

import gzip
import json
import os
import subprocess

import pytest

from conftest import BIN, SOURCE

DATA = os.path.join(SOURCE, "tests", "data", "cliptext")
EXE = os.path.join(BIN, "hailo-clip")


def run(args, stdin, timeout=120):
    env = dict(os.environ)
    env.pop("HAILO_CLIP_CONFIG", None)
    return subprocess.run([EXE, "--tokenize"] + args, input=stdin, capture_output=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def real_tokenizer(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    with gzip.open(os.path.join(DATA, "clip-tokenizer.json.gz"), "rb") as f:
        path.write_bytes(f.read())
    return str(path)


def gap_ranges():
    ranges = []
    with open(os.path.join(DATA, "hf-unicode-gaps.txt")) as f:
        for line in f:
            if not line.startswith("#") and line.strip():
                lo, hi = line.split("..")
                ranges.append((int(lo, 16), int(hi, 16)))
    return ranges


def test_reference_corpus(real_tokenizer):
    """Every corpus line through the command equals HF's ids (lines with
    code points of hf-unicode-gaps.txt excused, as in test_encode.c)."""
    with gzip.open(os.path.join(DATA, "hf-corpus.jsonl.gz"), "rb") as f:
        corpus = f.read()
    with gzip.open(os.path.join(DATA, "hf-ids.jsonl.gz"), "rt") as f:
        want = f.read().splitlines()
    r = run(["--tokenizer", real_tokenizer], corpus)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    got = r.stdout.decode().splitlines()
    texts = corpus.decode().splitlines()
    assert len(got) == len(want) == len(texts) == 11465
    gaps = gap_ranges()
    excused = 0
    for i, (g, w) in enumerate(zip(got, want)):
        if json.loads(g) == json.loads(w):
            continue
        text = json.loads(texts[i])
        assert any(lo <= ord(c) <= hi for c in text for lo, hi in gaps), \
            "line %d: %r\n ours %s\n HF   %s" % (i + 1, text[:100], g[:300], w[:300])
        excused += 1
    assert excused <= 502


def test_known_ids_and_no_truncation(real_tokenizer):
    lines = ["a photo of a cat", "A PHOTO OF A CAT!", "cafe\u0301", "İstanbul", "a\u001cb",
             "word " * 200, ""]
    r = run(["--tokenizer", real_tokenizer],
            "".join(json.dumps(s) + "\n" for s in lines).encode())
    assert r.returncode == 0, r.stderr
    out = [json.loads(l) for l in r.stdout.decode().splitlines()]
    assert out[0] == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert out[1] == [49406, 320, 1125, 539, 320, 2368, 256, 49407]
    assert out[2] == [49406, 15304, 49407]  # NFC: the same as "café"
    assert out[3][:2] == [49406, 328]  # İ -> i + U+0307: "i" stands alone
    assert out[4] == [49406, 320, 472, 321, 49407]  # U+001C is no space for HF
    assert len(out[5]) == 202 and out[5][-1] == 49407  # no cut at 77
    assert out[6] == [49406, 49407]


def test_bad_lines(real_tokenizer):
    good = json.dumps("a cat").encode()
    stdin = b"\n".join([
        good,
        b"not json",
        b'"unterminated',
        b'"\\ud800 lone surrogate"',
        b'"raw \xff byte"',
        b"",
        b'"tab\tinside"',
        b'"trailing" x',
        good,
    ]) + b"\n"
    r = run(["--tokenizer", real_tokenizer], stdin)
    assert r.returncode == 1
    out = r.stdout.decode().splitlines()
    assert len(out) == 9  # one line out per line in, aligned
    assert out[0] == out[8] == "[49406,320,2368,49407]"
    assert out[1:8] == ["null"] * 7
    err = r.stderr.decode()
    for n, what in [(2, "not a JSON string"), (3, "not closed"), (4, "surrogate"),
                    (5, "not valid UTF-8"), (6, "not a JSON string"), (7, "control character"),
                    (8, "after the closing quote")]:
        assert "line %d: " % n in err and what in err, (n, what, err)


def test_config_names_the_tokenizer(tmp_path):
    small = os.path.join(DATA, "tokenizer.json")
    cfg = tmp_path / "clip.yaml"
    cfg.write_text("clip:\n  tokenizer_path: %s\n" % small)
    r = run(["--config", str(cfg)], b'"a photo of a cat"\n')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [965, 320, 542, 515, 320, 585, 966]


def test_usage_errors(tmp_path, real_tokenizer):
    r = run(["--tokenizer", real_tokenizer, "--config", str(tmp_path / "x.yaml")], b"")
    assert r.returncode == 2 and b"not both" in r.stderr
    r = run(["--tokenizer", str(tmp_path / "missing.json")], b'"a"\n')
    assert r.returncode == 1 and b"missing.json" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"vocab": {"a": 0}, "merges": []}}')
    r = run(["--tokenizer", str(bad)], b'"a"\n')
    assert r.returncode == 1 and b"bad.json" in r.stderr
    r = run(["--help"], b"")
    assert r.returncode == 0 and b"--tokenizer FILE" in r.stdout
