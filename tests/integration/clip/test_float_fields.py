"""Float fields come back as Python floats (common/pyjson): a client of the
original service reads `score`, `inference_time_ms`, `uptime_seconds` and
every embedding value as float, never int, so a whole value is written
"1.0", not "1", and each embedding value is Python's repr of the float32
widened to double (what the original's tolist() and json.dumps give)."""
import json
import struct

from conftest import b64


def floats_only(values):
    return all(isinstance(v, float) for v in values)


def test_classify_scores_and_time_are_floats(clip, stack):
    r = clip.post("/v1/classify", {"image": b64(stack["red"]), "prompts": ["a red square"]})
    assert r.status_code == 200, r.text
    body = json.loads(r.text)
    assert floats_only(c["score"] for c in body["classifications"]), r.text
    assert isinstance(body["inference_time_ms"], float), r.text
    assert all(isinstance(c["rank"], int) for c in body["classifications"])


def test_embedding_values_print_as_python_does(clip, stack):
    r = clip.post("/v1/embed/image", {"image": b64(stack["red"])})
    assert r.status_code == 200, r.text
    body = json.loads(r.text)
    emb = body["embedding"]
    assert floats_only(emb) and isinstance(body["inference_time_ms"], float)
    assert isinstance(body["dimension"], int)
    # Every value is a float32, written exactly as Python writes it.
    start = r.text.index('"embedding"')
    raw = r.text[r.text.index("[", start) + 1:r.text.index("]", start)]
    for text, v in zip(raw.split(","), emb):
        f32 = struct.unpack("<f", struct.pack("<f", v))[0]
        assert f32 == v, text
        assert text.strip() == repr(v), (text, repr(v))


def test_health_uptime_is_a_float(clip):
    body = json.loads(clip.health().text)
    assert isinstance(body["uptime_seconds"], float), body
