"""hailo-ocr endpoints end to end against a real manager on the sim backend.

The first tests are the original's own (GM tests/test_hailo_ocr_service.py,
ORIGINAL-SERVICES.md §2.7), then the rest of the contract: the reply's
fields, order, types and bytes, the inputs (data: URI, plain base64,
multipart, file://), EXIF orientation, languages.
"""

import io
import json
import os
import shutil

import requests
import yaml

from conftest import (SOURCE, Ocr, assert_error, b64, data_uri, ocr_config, page_bytes,
                      page_meta, pil_image)


# ---- the original's tests ------------------------------------------------------------

def test_health_endpoint(ocr):
    r = ocr.get("/health")
    assert r.status_code == 200
    data = r.json()
    assert data["status"] == "ok"
    assert "memory_usage_mb" in data
    assert "uptime_seconds" in data


def test_ready_endpoint(ocr):
    r = ocr.get("/health/ready")
    assert r.status_code == 200
    assert r.json()["ready"] in [True, False]
    assert r.json() == {"ready": True}


def test_models_endpoint(ocr):
    data = ocr.get("/models").json()
    assert "data" in data
    assert isinstance(data["data"], list)
    assert len(data["data"]) > 0


def test_extract_endpoint(ocr):
    """A 200x100 white JPEG with "TEST" in PIL's default font, as a data URI."""
    image = "data:image/jpeg;base64," + b64(pil_image((200, 100), text="TEST"))
    r = ocr.extract({"image": image, "languages": ["en"]})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["success"] is True
    assert "text" in data
    assert "regions" in data
    assert "performance" in data


def test_cache_stats_endpoint(ocr):
    """The original has no such route (its test skips on the 404); there is
    no cache here either, and the answer says so."""
    data = ocr.get("/cache/stats").json()
    assert "enabled" in data
    assert "items_cached" in data
    assert data == {"enabled": False, "items_cached": 0}


def test_config_defaults_and_thresholds():
    """TestOCRConfiguration, on the config this project ships."""
    with open(os.path.join(SOURCE, "config", "hailo-ocr.yaml")) as f:
        config = yaml.safe_load(f)
    assert config["server"]["port"] == 11436
    assert "en" in config["ocr"]["languages"]
    assert config["ocr"]["enable_recognition"] is True
    assert 0.0 <= config["ocr"]["det_threshold"] <= 1.0
    assert 0.0 <= config["ocr"]["rec_threshold"] <= 1.0


# ---- the rest of the contract -----------------------------------------------------------

def test_health_fields(ocr):
    h = ocr.get("/health").json()
    assert list(h)[:7] == ["status", "models_loaded", "languages_supported", "memory_usage_mb",
                           "uptime_seconds", "model_loads", "hailo_device"]
    assert h["models_loaded"] is True
    assert h["languages_supported"] == ["en", "zh"]
    assert isinstance(h["memory_usage_mb"], int) and h["memory_usage_mb"] > 0
    assert isinstance(h["uptime_seconds"], int)
    assert h["model_loads"] >= 1
    assert h["hailo_device"] == "/dev/hailo0"
    assert h["backend"] == "sim" and h["manager_reachable"] is True


def test_models_fields(ocr):
    data = ocr.get("/models").json()
    assert data == {"data": [
        {"id": "detection", "name": "ocr_det.hef", "type": "detection", "status": "loaded"},
        {"id": "recognition_en", "name": "ocr_rec_en.hef", "type": "recognition",
         "language": "en", "status": "loaded"},
        {"id": "recognition_zh", "name": "ocr_chinese.hef", "type": "recognition",
         "language": "zh", "status": "loaded"}], "object": "list"}
    assert ocr.get("/v1/models").json() == data


def test_registered_with_manager(ocr, stack):
    st = stack.manager.request({"action": "status"})
    models = [(m["model_type"], m["model_path"]) for m in st["loaded_models"]]
    assert any(t == "ocr" and p.endswith("ocr/ocr_det.hef") for t, p in models), st


def test_extract_page(ocr):
    """The rendered page: one region per line, in reading order, with the
    original's fields, order and types, and Python's json.dumps bytes."""
    meta = page_meta()
    r = ocr.extract({"image": data_uri(page_bytes()), "languages": ["en"]})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    # json.dumps(obj) of the parsed reply is the reply: separators, order,
    # floats as Python writes them.
    assert r.text == json.dumps(body)
    assert list(body) == ["success", "text", "regions", "languages_detected", "statistics",
                          "performance", "hailo_info"]
    assert body["success"] is True
    regions = body["regions"]
    assert len(regions) == len(meta["lines"]) == 10
    seen = set()
    for reg in regions:
        assert list(reg) == ["text", "confidence", "bbox", "type", "polygon", "language"]
        assert reg["type"] == "text" and reg["language"] == "en"
        assert isinstance(reg["confidence"], float) and 0.8 < reg["confidence"] < 1.0
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = reg["bbox"]
        assert all(isinstance(v, int) for p in reg["bbox"] + reg["polygon"] for v in p)
        assert (y0, x1) == (y1, x2) and (x0, y2) == (x3, y3)  # axis-aligned corners
        # each box is centred on its own rendered line
        cx, cy = (x0 + x2) / 2, (y0 + y2) / 2
        hits = [i for i, l in enumerate(meta["lines"])
                if l["rect"][0] <= cx < l["rect"][0] + l["rect"][2]
                and l["rect"][1] <= cy < l["rect"][1] + l["rect"][3]]
        assert len(hits) == 1 and hits[0] not in seen, (reg, hits)
        seen.add(hits[0])
        # one character per glyph, a space per word gap (punctuation may add one)
        words = len(reg["text"].split())
        assert abs(words - meta["lines"][hits[0]]["words"]) <= 1, (reg["text"], hits)
    # reading order: (y // 20, x) of the boxes
    keys = [(reg["bbox"][0][1] // 20, reg["bbox"][0][0]) for reg in regions]
    assert keys == sorted(keys)
    assert body["text"] == " ".join(reg["text"] for reg in regions if reg["text"].strip())
    assert body["languages_detected"] == ["en"]
    st = body["statistics"]
    assert st["total_regions"] == 10
    assert isinstance(st["average_confidence"], float)
    assert st["average_confidence"] == sum(reg["confidence"] for reg in regions) / 10
    perf = body["performance"]
    assert list(perf) == ["detection_time_ms", "recognition_time_ms", "total_time_ms"]
    assert all(isinstance(v, int) for v in perf.values())
    assert perf["total_time_ms"] >= perf["detection_time_ms"]
    assert body["hailo_info"] == {"device": "/dev/hailo0", "detection_model": "ocr_det.hef",
                                  "recognition_model": "ocr_rec_en.hef"}


def strip_perf(body):
    body = dict(body)
    body.pop("performance", None)
    return body


def test_same_answer_every_input_form(ocr, stack):
    page = page_bytes()
    want = strip_perf(ocr.extract({"image": data_uri(page)}).json())
    assert want["success"] is True and len(want["regions"]) == 10
    # plain base64 (the original refused it), and a JSON string for languages
    assert strip_perf(ocr.extract({"image": b64(page), "languages": "en"}).json()) == want
    # base64 with line breaks, as b64decode reads it
    wrapped = "\n".join(b64(page)[i:i + 76] for i in range(0, len(b64(page)), 76))
    assert strip_perf(ocr.extract({"image": wrapped}).json()) == want
    # multipart: a file upload, with languages as a form field
    r = ocr.extract(files={"image": ("page.png", page, "image/png")}, data={"languages": "en"})
    assert r.status_code == 200, r.text
    assert strip_perf(r.json()) == want
    # multipart: a text field holding a data URI
    r = ocr.extract(files={"image": (None, data_uri(page))})
    assert strip_perf(r.json()) == want
    # file:// below images.allowed_dirs
    path = os.path.join(stack.images, "page.png")
    shutil.copy(os.path.join(SOURCE, "tests", "data", "ocr", "text-page.png"), path)
    assert strip_perf(ocr.extract({"image": "file://" + path}).json()) == want


def test_same_answer_twice(ocr):
    body = {"image": data_uri(page_bytes())}
    assert strip_perf(ocr.extract(body).json()) == strip_perf(ocr.extract(body).json())


def test_bad_base64_in_json(ocr):
    """JSON references are decoded over the parsed body's own string (no
    second copy): bad ones still get the same 400 sentences, and the
    requests after them their full answers."""
    page = page_bytes()
    want = strip_perf(ocr.extract({"image": data_uri(page)}).json())
    for image, says in (("QUJ", "Incorrect padding"),
                        ("data:image/png;base64,QUJDR", "cannot be 1 more than a multiple of 4"),
                        ("data:image/png;base64", "list index out of range"),
                        ("data:image/png;base64,", "empty after base64 decoding"),
                        ("!!!!", "empty after base64 decoding"),
                        (b64(page)[:-1] + "\u00e9", "ASCII")):
        err = assert_error(ocr.extract({"image": image}), 400, says)
        assert err.startswith("Failed to load image"), err
        assert strip_perf(ocr.extract({"image": b64(page)}).json()) == want


def test_file_uri_confined(ocr, stack):
    """Only regular files below images.allowed_dirs, one sentence for
    everything else (the original read any file the service could)."""
    for path in ("/etc/passwd", os.path.join(stack.images, "missing.png"),
                 os.path.join(stack.images, "..", "hailo-ocr.yaml"), stack.images):
        err = assert_error(ocr.extract({"image": "file://" + path}), 400)
        assert "is not a readable file in the allowed directories" in err, err
    link = os.path.join(stack.images, "link.png")
    os.symlink(os.path.join(SOURCE, "tests", "data", "ocr", "text-page.png"), link)
    assert_error(ocr.extract({"image": "file://" + link}), 400, "allowed directories")


def test_file_uri_off_by_default(stack):
    cfg = ocr_config(stack, "")
    with open(cfg) as f:
        text = f.read()
    text = text.split("images:")[0]  # no allowed_dirs: file:// is off
    off = os.path.join(stack.root, "ocr-nofiles.yaml")
    with open(off, "w") as f:
        f.write(text)
    svc = Ocr(stack, config=off)
    svc.start()
    try:
        path = os.path.join(stack.images, "red.png")
        assert_error(svc.extract({"image": "file://" + path}), 400, "images.allowed_dirs is empty")
    finally:
        svc.stop()


def test_exif_orientation(ocr):
    """A photo stored sideways with an EXIF Orientation tag reads as the
    upright one (cv2.imdecode applies the tag, and so does the service)."""
    from PIL import Image
    page = Image.open(io.BytesIO(page_bytes())).convert("RGB")
    # Orientation 6: the stored image must be turned 90 degrees clockwise to view.
    stored = page.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, format="PNG", exif=exif.tobytes())
    upright = ocr.extract({"image": data_uri(page_bytes())}).json()
    turned = ocr.extract({"image": data_uri(out.getvalue())}).json()
    assert turned["success"] is True
    assert strip_perf(turned) == strip_perf(upright)


def test_languages(ocr):
    page = data_uri(page_bytes())
    en = ocr.extract({"image": page, "languages": ["en"]}).json()
    zh = ocr.extract({"image": page, "languages": ["zh"]}).json()
    assert zh["languages_detected"] == ["zh"]
    assert zh["hailo_info"]["recognition_model"] == "ocr_chinese.hef"
    assert [r["bbox"] for r in zh["regions"]] == [r["bbox"] for r in en["regions"]]
    assert zh["text"] != en["text"]  # the sim reads glyphs per language
    both = ocr.extract({"image": page, "languages": ["en", "zh"]}).json()
    assert both["success"] is True and len(both["regions"]) == 10
    # every region keeps its most confident reading
    for b, e, z in zip(both["regions"], en["regions"], zh["regions"]):
        best = e if e["confidence"] >= z["confidence"] else z
        assert (b["text"], b["confidence"], b["language"]) == \
            (best["text"], best["confidence"], best["language"])
    assert both["languages_detected"] == [l for l in ("en", "zh")
                                          if any(r["language"] == l for r in both["regions"])]
    # no languages: ocr.languages (en)
    assert ocr.extract({"image": page}).json()["languages_detected"] == ["en"]
    assert ocr.extract({"image": page, "languages": []}).json()["languages_detected"] == ["en"]
    assert_error(ocr.extract({"image": page, "languages": ["en", "fr"]}), 400,
                 "Unsupported language: 'fr'. Available: ['en', 'zh']")


def test_no_text(ocr):
    """The original's short answer when nothing is found."""
    for color in ("white", "black", (128, 128, 128)):
        r = ocr.extract({"image": data_uri(pil_image((640, 480), color=color, fmt="PNG"))})
        assert r.status_code == 200, r.text
        body = r.json()
        assert list(body) == ["success", "text", "regions", "performance"]
        assert body["success"] is True and body["text"] == "" and body["regions"] == []
        assert body["performance"]["recognition_time_ms"] == 0
        assert r.text == json.dumps(body)


def test_head_and_errors_are_json(ocr):
    assert requests.head(ocr.url + "/health", timeout=5).status_code == 200
    assert_error(ocr.get("/nope"), 404)
    r = requests.get(ocr.url + "/v1/ocr/extract", timeout=5)
    assert_error(r, 405)


def test_bearer_token(stack):
    cfg = ocr_config(stack, "")
    with open(cfg) as f:
        text = f.read().replace("server:\n", "server:\n  bearer_token: s3cret\n", 1)
    path = os.path.join(stack.root, "ocr-token.yaml")
    with open(path, "w") as f:
        f.write(text)
    svc = Ocr(stack, config=path)
    svc.start()
    try:
        body = {"image": data_uri(pil_image((64, 64), fmt="PNG"))}
        assert_error(svc.extract(body), 401)
        r = svc.extract(body, headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200, r.text
        assert svc.get("/health").status_code == 200  # public
        assert svc.get("/health/ready").status_code == 200
        assert_error(svc.get("/models"), 401)
    finally:
        svc.stop()
