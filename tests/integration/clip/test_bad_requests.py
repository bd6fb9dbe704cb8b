"""Bad requests of every kind: a 400 (or 404/405/413) with a JSON error
naming what was wrong, and the service carries on."""


import pytest
import requests

from conftest import assert_error, b64

PROMPTS = ["a cat", "a dog"]


@pytest.fixture(scope="module")
def img(stack):
    return b64(stack["red"])


def test_body_not_json(clip):
    assert_error(clip.post("/v1/classify", b"{not json", headers={"Content-Type": "application/json"}), 400)
    assert_error(clip.post("/v1/embed/text", b"", headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize("path", ["/v1/classify", "/v1/embed/image", "/v1/embed/text"])
def test_body_not_object(clip, path):
    for body in ("[1, 2]", "\"text\"", "42", "null"):
        assert_error(clip.post(path, body, headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize("path", ["/v1/classify", "/v1/embed/image"])
def test_image_missing_or_wrong_type(clip, path):
    assert_error(clip.post(path, {"prompts": PROMPTS}), 400, "image is required")
    assert_error(clip.post(path, {"image": None, "prompts": PROMPTS}), 400, "image is required")
    assert_error(clip.post(path, {"image": 42, "prompts": PROMPTS}), 400, "image")
    assert_error(clip.post(path, {"image": ["x"], "prompts": PROMPTS}), 400, "image")
    assert_error(clip.post(path, {"image": "", "prompts": PROMPTS}), 400, "image")


@pytest.mark.parametrize("path", ["/v1/classify", "/v1/embed/image"])
def test_image_undecodable(clip, stack, path):
    bad = {
        "not base64": "this is !!! not base64 ***",
        "text, not an image": b64(b"hello, this is plain text and no image at all"),
        "truncated png": b64(stack["gradient"][:200]),
        "png header only": b64(stack["red"][:33]),
        "data uri of junk": "data:image/png;base64," + b64(b"\x89PNG\r\n\x1a\nxxxx"),
    }
    for what, image in bad.items():
        err = assert_error(clip.post(path, {"image": image, "prompts": PROMPTS}), 400)
        assert "image" in err, (what, err)


def test_prompts_bad(clip, img):
    assert_error(clip.post("/v1/classify", {"image": img}), 400, "prompts is required")
    assert_error(clip.post("/v1/classify", {"image": img, "prompts": []}), 400,
                 "prompts must not be empty")
    assert_error(clip.post("/v1/classify", {"image": img, "prompts": "a cat"}), 400,
                 "prompts must be a list")
    assert_error(clip.post("/v1/classify", {"image": img, "prompts": ["a", 3]}), 400,
                 "prompts[1]")
    assert_error(clip.post("/v1/classify", {"image": img, "prompts": [None]}), 400, "prompts[0]")
    assert_error(clip.post("/v1/classify", {"image": img, "prompts": ["a"] * 1001}), 400,
                 "prompts")


# Where the original crashed (a 500) or did nonsense (a negative top_k cut
# the last ones off), a clear 400; src/clip/classify.c has the whole table.
@pytest.mark.parametrize("top_k", [-1, 1.5, "3", None, [3], {"k": 1}])
def test_top_k_bad(clip, img, top_k):
    assert_error(clip.post("/v1/classify", {"image": img, "prompts": PROMPTS, "top_k": top_k}),
                 400, "top_k")


@pytest.mark.parametrize("threshold", ["0.5", None, [0.1], {"t": 1}])
def test_threshold_bad(clip, img, threshold):
    assert_error(clip.post("/v1/classify", {"image": img, "prompts": PROMPTS,
                                            "threshold": threshold}), 400, "threshold")


# What the original accepted: top_k 0/false (no classifications), true (1), a
# fraction above the prompt count (capped); any threshold number or bool.
@pytest.mark.parametrize("top_k,count", [(0, 0), (False, 0), (True, 1), (2.5, 2), (2.0, 2),
                                         (1e300, 2)])
def test_top_k_lenient(clip, img, top_k, count):
    r = clip.post("/v1/classify", {"image": img, "prompts": PROMPTS, "top_k": top_k})
    assert r.status_code == 200, r.text
    assert len(r.json()["classifications"]) == count


@pytest.mark.parametrize("threshold,count", [(-0.5, 2), (1.01, 0), (100, 0), (True, 0),
                                             (False, 2)])
def test_threshold_lenient(clip, img, threshold, count):
    r = clip.post("/v1/classify", {"image": img, "prompts": PROMPTS, "threshold": threshold})
    assert r.status_code == 200, r.text
    assert len(r.json()["classifications"]) == count


def test_text_bad(clip):
    assert_error(clip.post("/v1/embed/text", {}), 400, "text is required")
    assert_error(clip.post("/v1/embed/text", {"text": None}), 400, "text is required")
    assert_error(clip.post("/v1/embed/text", {"text": 5}), 400, "text must be a string")
    assert_error(clip.post("/v1/embed/text", {"text": ["a", "b"]}), 400, "text must be a string")


def test_unknown_path_and_method(clip):
    assert_error(clip.post("/v1/nothing", {}), 404)
    assert_error(requests.get(clip.url + "/nothing", timeout=5), 404)
    assert_error(requests.get(clip.url + "/v1/embed/text", timeout=5), 405)
    assert_error(requests.delete(clip.url + "/health", timeout=5), 405)


def test_body_too_large(clip):
    # the sim config allows 16 MiB bodies
    big = b'{"image": "' + b"A" * (17 * 1024 * 1024) + b'"}'
    try:
        r = clip.post("/v1/embed/image", big, headers={"Content-Type": "application/json"})
    except requests.ConnectionError:
        pytest.fail("the service closed the connection instead of answering 413")
    assert_error(r, 413)


def test_still_serving_after_bad_requests(clip, img):
    r = clip.post("/v1/classify", {"image": img, "prompts": PROMPTS})
    assert r.status_code == 200, r.text
    assert len(r.json()["classifications"]) == 2
    assert clip.alive()
