"""hailo-vision as a drop-in for the original Python service (issue 15 item 7):
any model name is served by the loaded model, {"type": "image"} parts take
image / data / source as the original read them, bare file paths work inside
images.allowed_dirs (one answer for missing and outside), /v1/vision/analyze
gives one result per image by default and echoes each image as the original
did, and remote fetching stays off with an error that says how to turn it on."""

import base64
import os

import requests

from conftest import (MODEL, Vision, assert_openai_error, chat, data_uri, png_bytes,
                      vision_yaml)


def img_msg(part, text="What is this?"):
    if not isinstance(part, dict):
        part = {"type": "image_url", "image_url": {"url": part}}
    return [{"role": "user", "content": [part, {"type": "text", "text": text}]}]


def ok(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_any_model_name_is_served(vision):
    for name in ("gpt-4o", "qwen2-vl", "", MODEL):
        b = ok(chat(vision, {"model": name, "max_tokens": 3,
                             "messages": [{"role": "user", "content": "hi"}]}))
        # The answer names the model that really served it.
        assert b["model"] == MODEL
    # The list still shows the one real model, and only it has a page.
    m = requests.get(vision.url + "/v1/models", timeout=5).json()
    assert [d["id"] for d in m["data"]] == [MODEL]
    assert requests.get(vision.url + "/v1/models/gpt-4o", timeout=5).status_code == 404
    b = ok(requests.post(vision.url + "/v1/vision/analyze", timeout=60, json={
        "model": "nope", "images": [data_uri(png_bytes(4, 4, (1, 2, 3)))], "max_tokens": 3}))
    assert len(b["results"]) == 1
    # model must still be a string when given.
    assert_openai_error(chat(vision, {"model": 5, "messages": img_msg("x")}), 400,
                        param="model")


def test_image_part_forms(vision, stack):
    png = png_bytes(24, 16, (30, 60, 90))
    b64 = base64.b64encode(png).decode()
    green = os.path.join(stack["images"], "green.png")
    tokens = set()
    for part in ({"type": "image", "source": b64},
                 {"type": "image", "source": "data:image/png;base64," + b64},
                 {"type": "image", "data": b64},
                 {"type": "image", "image": b64},
                 # The original took the first non-empty of image, data and source.
                 {"type": "image", "image": "", "data": None, "source": b64},
                 {"type": "image", "image": green},
                 {"type": "image_url", "image_url": {"url": green}},
                 {"type": "image_url", "image_url": green}):
        b = ok(chat(vision, {"max_tokens": 2, "seed": 1, "messages": img_msg(part)}))
        tokens.add(b["usage"]["prompt_tokens"])
    # Every form reached the model as one image in the same prompt.
    assert len(tokens) == 1
    # Without any image the part is refused, naming the field.
    assert_openai_error(chat(vision, {"messages": img_msg({"type": "image", "source": {
        "type": "base64", "data": b64}})}), 400, contains="content[0].source must be a string")
    assert_openai_error(chat(vision, {"messages": img_msg({"type": "image"})}), 400,
                        contains="image, data, source or image_url")


def test_bare_paths_are_confined(vision, stack):
    images = stack["images"]
    missing = os.path.join(images, "none.png")
    outside = os.path.join(stack["root"], "hailo-outside.png")
    with open(outside, "wb") as f:
        f.write(png_bytes(8, 8, (1, 1, 1)))
    escape = images + "/../hailo-outside.png"
    answers = []
    for path in (missing, outside, escape, "/etc/hostname"):
        err = assert_openai_error(chat(vision, {"messages": img_msg(path)}), 400,
                                  contains="no readable image file")
        answers.append(err["message"].replace(path, "PATH"))
    # One answer whether the file is missing or outside: no existence oracle.
    assert len(set(answers)) == 1, answers
    link = os.path.join(images, "hostname.png")
    if not os.path.islink(link):
        os.symlink("/etc/hostname", link)
    assert_openai_error(chat(vision, {"messages": img_msg(link)}), 400,
                        contains="no readable image file")
    # A relative path is neither a URL nor allowed.
    assert_openai_error(chat(vision, {"messages": img_msg("green.png")}), 400,
                        contains="absolute path")
    ok(chat(vision, {"max_tokens": 2, "messages": img_msg(os.path.join(images, "green.png"))}))


def test_base64_starting_with_a_slash_is_still_base64(vision):
    """JPEG data in base64 starts with "/9j/": in the places that take plain
    base64 it is not mistaken for a path."""
    jpeg_like = base64.b64encode(b"\xff\xd8\xff" + b"\0" * 30).decode()
    assert jpeg_like.startswith("/9j/")
    err = assert_openai_error(chat(vision, {"messages": img_msg(
        {"type": "image", "image": jpeg_like})}), 400)
    assert "no readable image file" not in err["message"], err


def test_file_images_off_without_allowed_dirs(stack):
    cfg = vision_yaml(stack, extra="  allowed_dirs: []\n")
    v = Vision(stack["root"], cfg, stack["env"], name="vision-nofiles")
    v.start()
    try:
        green = os.path.join(stack["images"], "green.png")
        for ref in (green, "file://" + green):
            assert_openai_error(chat(v, {"messages": img_msg(ref)}), 400,
                                contains="images.allowed_dirs")
        # Remote fetching is off by default, and the error says how to turn it on.
        assert_openai_error(chat(v, {"messages": img_msg("https://example.com/a.png")}), 400,
                            contains="images.allow_remote: true")
    finally:
        v.stop()


def test_analyze_one_result_per_image_by_default(vision, stack):
    red = data_uri(png_bytes(32, 32, (220, 10, 10)))
    green = os.path.join(stack["images"], "green.png")
    url = vision.url + "/v1/vision/analyze"
    b = ok(requests.post(url, timeout=60, json={
        "images": [red, green, "file://" + green], "prompt": "What is it?", "max_tokens": 4}))
    assert [r["index"] for r in b["results"]] == [0, 1, 2]
    # Echoed as the original did: image_url[:100] + "..." when longer.
    assert b["results"][0]["image_url"] == red[:100] + "..."
    assert b["results"][1]["image_url"] == green
    assert b["results"][2]["image_url"] == "file://" + green
    assert all(isinstance(r["analysis"], str) and r["analysis"] for r in b["results"])
    assert b["total_inference_time_ms"] >= 0
    # Non-ASCII is counted in characters, as Python slices.
    long_path = os.path.join(stack["images"], "\u00e9" * 120 + ".png")
    with open(long_path, "wb") as f:
        f.write(png_bytes(8, 8, (9, 9, 9)))
    b = ok(requests.post(url, timeout=60, json={"images": [long_path], "max_tokens": 2}))
    assert b["results"][0]["image_url"] == long_path[:100] + "..."
    # return_individual_results: false keeps the combined form.
    b = ok(requests.post(url, timeout=60, json={
        "images": [red, green], "return_individual_results": False, "max_tokens": 4}))
    assert len(b["results"]) == 1 and b["results"][0]["image_url"] == "combined"
