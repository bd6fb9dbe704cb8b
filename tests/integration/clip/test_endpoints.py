"""hailo-clip endpoints end to end against a real manager on the sim backend."""

import math

from conftest import DIM, assert_error, b64, dot, norm, png_bytes

PROMPTS = ["a photo of a cat", "a photo of a dog", "a red square", "a blue car", "a tree"]


def test_health(clip):
    r = clip.health()
    assert r.status_code == 200
    h = r.json()
    assert h["status"] == "healthy"
    assert h["service"] == "hailo-clip"
    assert h["model_loaded"] is True
    assert h["model"] == "clip-vit-b-32"
    assert h["backend"] == "sim"
    assert h["manager_reachable"] is True
    assert h["embedding_dimension"] == DIM


def test_health_registers_model_with_manager(clip, stack):
    from conftest import manager_call
    st = manager_call(stack["manager"].sock, {"action": "status"})
    models = [(m["model_type"], m["model_path"]) for m in st["loaded_models"]]
    assert any(t == "clip" and p.endswith("clip_vit_b_32_image_encoder.hef") for t, p in models), st


def test_embed_image(clip, stack):
    r = clip.post("/v1/embed/image", {"image": b64(stack["red"])})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dimension"] == DIM
    assert body["model"] == "clip-vit-b-32"
    assert len(body["embedding"]) == DIM
    assert abs(norm(body["embedding"]) - 1.0) < 1e-4
    # data: URI prefix gives the same embedding; the same input is deterministic
    r2 = clip.post("/v1/embed/image", {"image": "data:image/png;base64," + b64(stack["red"])})
    assert r2.status_code == 200
    assert r2.json()["embedding"] == body["embedding"]
    # a different image differs
    r3 = clip.post("/v1/embed/image", {"image": b64(stack["blue"])})
    assert r3.json()["embedding"] != body["embedding"]


def test_embed_image_odd_shapes(clip):
    # tall, wide and tiny images all crop to the model size
    for w, h in ((7, 300), (300, 7), (1, 1)):
        png = png_bytes(w, h, lambda x, y: (x % 256, y % 256, 90))
        r = clip.post("/v1/embed/image", {"image": b64(png)})
        assert r.status_code == 200, (w, h, r.text)
        assert abs(norm(r.json()["embedding"]) - 1.0) < 1e-4


def test_embed_text(clip):
    r = clip.post("/v1/embed/text", {"text": "a photo of a zebra"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dimension"] == DIM and len(body["embedding"]) == DIM
    assert abs(norm(body["embedding"]) - 1.0) < 1e-4
    assert body["cached"] is False
    # lower-casing and whitespace clean-up give the same tokens: a cache hit
    r2 = clip.post("/v1/embed/text", {"text": "  A PHOTO of a   Zebra "})
    assert r2.json()["cached"] is True
    assert r2.json()["embedding"] == body["embedding"]
    r3 = clip.post("/v1/embed/text", {"text": "a photo of a horse"})
    assert r3.json()["embedding"] != body["embedding"]
    # empty and very long texts are fine (truncated to 77 tokens)
    assert clip.post("/v1/embed/text", {"text": ""}).status_code == 200
    long = clip.post("/v1/embed/text", {"text": "cat " * 5000})
    assert long.status_code == 200
    longer = clip.post("/v1/embed/text", {"text": "cat " * 6000})
    assert longer.json()["cached"] is True  # same 77 tokens
    # unicode
    assert clip.post("/v1/embed/text", {"text": "café 🐱 naïve ÉCOLE"}).status_code == 200


def test_classify(clip, stack):
    r = clip.post("/v1/classify", {"image": b64(stack["gradient"]), "prompts": PROMPTS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "clip-vit-b-32"
    assert body["inference_time_ms"] >= 0
    cls = body["classifications"]
    assert len(cls) == 3  # default top_k
    assert [c["rank"] for c in cls] == [1, 2, 3]
    scores = [c["score"] for c in cls]
    assert scores == sorted(scores, reverse=True)
    assert all(c["text"] in PROMPTS for c in cls)
    assert len({c["text"] for c in cls}) == 3


def test_classify_matches_embeddings(clip, stack):
    """Scores are softmax(100 * cosine) of the two embedding endpoints."""
    img = clip.post("/v1/embed/image", {"image": b64(stack["gradient"])}).json()["embedding"]
    texts = [clip.post("/v1/embed/text", {"text": p}).json()["embedding"] for p in PROMPTS]
    logits = [100.0 * dot(img, t) for t in texts]
    m = max(logits)
    exps = [math.exp(x - m) for x in logits]
    probs = [e / sum(exps) for e in exps]
    r = clip.post("/v1/classify", {"image": b64(stack["gradient"]), "prompts": PROMPTS,
                                   "top_k": len(PROMPTS)})
    cls = r.json()["classifications"]
    assert len(cls) == len(PROMPTS)
    assert abs(sum(c["score"] for c in cls) - 1.0) < 1e-6
    for c in cls:
        want = probs[PROMPTS.index(c["text"])]
        # the endpoints print 7 significant digits per value
        assert abs(c["score"] - want) < 2e-3, (c, want)
    order = sorted(range(len(PROMPTS)), key=lambda i: -probs[i])
    assert [c["text"] for c in cls][0] == PROMPTS[order[0]]


def test_classify_top_k_and_threshold(clip, stack):
    img = b64(stack["red"])
    r = clip.post("/v1/classify", {"image": img, "prompts": PROMPTS, "top_k": 1})
    assert len(r.json()["classifications"]) == 1
    r = clip.post("/v1/classify", {"image": img, "prompts": PROMPTS[:2], "top_k": 10})
    assert len(r.json()["classifications"]) == 2  # capped at the prompts
    full = clip.post("/v1/classify", {"image": img, "prompts": PROMPTS, "top_k": 5}).json()
    scores = [c["score"] for c in full["classifications"]]
    cut = scores[1]  # keep the two best (inclusive bound)
    r = clip.post("/v1/classify", {"image": img, "prompts": PROMPTS, "top_k": 5,
                                   "threshold": cut})
    kept = r.json()["classifications"]
    assert all(c["score"] >= cut for c in kept)
    assert [c["text"] for c in kept] == [c["text"] for c in full["classifications"]][:len(kept)]
    assert 1 <= len(kept) <= 2
    r = clip.post("/v1/classify", {"image": img, "prompts": PROMPTS, "threshold": 1.0})
    assert r.status_code == 200
    assert all(c["score"] >= 1.0 for c in r.json()["classifications"])



def test_classify_single_prompt_raw_cosine(clip, stack):
    """One prompt: the raw cosine, as the original (softmax needs two or
    more), so a threshold can accept or reject it."""
    image = b64(stack["gradient"])
    img = clip.post("/v1/embed/image", {"image": image}).json()["embedding"]
    txt = clip.post("/v1/embed/text", {"text": "a cat"}).json()["embedding"]
    cosine = dot(img, txt)
    r = clip.post("/v1/classify", {"image": image, "prompts": ["a cat"]})
    cls = r.json()["classifications"]
    assert len(cls) == (1 if cosine >= 0 else 0)  # default threshold 0.0
    r = clip.post("/v1/classify", {"image": image, "prompts": ["a cat"], "threshold": -1})
    cls = r.json()["classifications"]
    assert len(cls) == 1 and cls[0]["rank"] == 1
    assert abs(cls[0]["score"] - cosine) < 1e-5, (cls, cosine)
    assert abs(cls[0]["score"]) < 1.0
    r = clip.post("/v1/classify", {"image": image, "prompts": ["a cat"],
                                   "threshold": cls[0]["score"] + 1e-3})
    assert r.json()["classifications"] == []


def test_unknown_path_and_method(clip):
    assert_error(clip.post("/v1/nothing", {}), 404)
    r = clip.health()
    assert r.status_code == 200
    import requests
    assert_error(requests.get(clip.url + "/v1/classify", timeout=5), 405)
    assert_error(requests.post(clip.url + "/health", timeout=5), 405)
