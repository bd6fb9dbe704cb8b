#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses into corpus/<harness>/.

Seeds are small, valid-ish examples of each input the harness parses (so the
fuzzer starts from the interesting structure) plus a few known-bad ones.
Files are named seed-*; crashers found later are kept as crash-* and
interesting inputs merged by `make fuzz` keep libFuzzer's hash names.
Run again only to refresh the seeds: it never deletes other files.
"""
import base64
import io
import json
import os
import struct
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")
MODELS = "/tmp/hdm-fuzz-models"   # tests/fuzz/fuzz_util.h FUZZ_DIR


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    elif not isinstance(data, (bytes, bytearray)):
        data = json.dumps(data).encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def img(fmt, size=(8, 6), mode="RGB", **kw):
    im = Image.new(mode, size)
    for x in range(size[0]):
        for y in range(size[1]):
            v = (x * 31 + y * 17) % 256
            im.putpixel((x, y), (v, 255 - v, x * 8 % 256)[: len(mode)] if len(mode) > 1 else v)
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def t(dtype, shape, n=None):
    size = {"uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "int32": 4, "float16": 2,
            "float32": 4}[dtype]
    count = 1
    for d in shape:
        count *= d
    return {"dtype": dtype, "shape": shape,
            "data_b64": base64.b64encode(bytes(size * count if n is None else n)).decode()}


def v1(obj):
    body = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
    return struct.pack(">I", len(body)) + body


def binframe(obj, atts):
    body = json.dumps(obj).encode()
    out = struct.pack(">I", 0x80000000 | len(body)) + body + struct.pack(">I", len(atts))
    for a in atts:
        out += struct.pack(">Q", len(a)) + a
    return out


JPEG = img("JPEG")
JPEG_GREY = img("JPEG", mode="L")
JPEG_PROG = img("JPEG", size=(20, 12), progressive=True)
PNG = img("PNG")
PNG_RGBA = img("PNG", mode="RGBA")
WEBP = img("WEBP", size=(6, 4))
WEBP_LOSSLESS = img("WEBP", size=(6, 4), lossless=True)
PNG_B64 = base64.b64encode(PNG).decode()

# ---- inputs of each model type ---------------------------------------------
INPUTS = {
    0: [{"mode": "image", "tensor": t("uint8", [1, 4, 4, 3])},
        {"mode": "text", "tensor": t("float32", [1, 77, 8]), "timeout_ms": 500},
        {"mode": "image", "tensor": {"dtype": "uint8", "shape": [1, 4], "attachment": 0}}],
    1: [{"prompt": "Describe", "frames": [t("uint8", [2, 2, 3])], "temperature": 0.5,
         "seed": 3, "max_generated_tokens": 20},
        {"prompt": [{"role": "system", "content": [{"type": "text", "text": "be brief"}]},
                    {"role": "user", "content": [{"type": "image"}, {"type": "text",
                                                                     "text": "what?"}]}],
         "frames": [{"dtype": "uint8", "shape": [336, 336, 3], "attachment": 2}],
         "stop": ["\n\n"]}],
    2: [{"audio": [0.0, 0.5, -0.5], "language": "en", "task": "transcribe"},
        {"audio": t("float32", [4]), "task": "translate"}],
    3: [{"mode": "detection", "image": t("uint8", [4, 4, 3])},
        {"mode": "recognition", "language": "en", "crops": [t("uint8", [2, 8, 3])],
         "batch_size": 1}],
    4: [{"input": t("uint8", [4, 4, 3])}, {"input": t("uint8", [1, 3, 4, 4])}],
    5: [{"input": t("uint8", [4, 4, 3])}],
    6: [{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [
            {"type": "text", "text": "a"}]}, {"role": "assistant", "tool_calls": [
            {"function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
            {"role": "tool", "tool_name": "f", "content": "r"}],
         "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
         "temperature": 0, "top_p": 0.5, "top_k": 3, "frequency_penalty": 1, "seed": 4294967294,
         "max_generated_tokens": 5, "stop": ["x"], "format": "json"},
        {"prompt": "raw", "seed": 4294967295, "format": "xml"},
        {"messages": [], "tools": {}}],
}
PARAMS = [
    {"image_hef_path": MODELS + "/image.hef", "text_hef_path": MODELS + "/text.hef",
     "text_input_layer": "in", "text_output_layer": "out"},
    {"detection_hef_path": MODELS + "/det.hef", "recognition_hefs": {"en": MODELS + "/en.hef"},
     "batch_sizes": {"en": 4}},
    {"image_hef_path": MODELS + "/../../etc/passwd"},
]


def main():
    # tensors
    for i, obj in enumerate([t("uint8", [1, 2, 2, 3]), t("float32", [2, 3]), t("float16", [4]),
                             t("int32", [0]), {"dtype": "uint8", "shape": [16], "attachment": 0},
                             {"dtype": "float32", "shape": [256], "attachment": 1},
                             {"dtype": "uint8", "shape": [1, 224, 224, 3], "data_b64": "AAAA"},
                             {"dtype": "uint8", "shape": [-1, 3], "data_b64": ""},
                             {"dtype": "uint8", "shape": [4294967296, 4294967296, 16],
                              "data_b64": ""},
                             {"dtype": "complex", "shape": [1], "data_b64": "AA=="},
                             {"dtype": "uint8", "shape": [3], "data_b64": "!!!"}]):
        put("fuzz_tensor", "%02d.json" % i, obj)

    # input_data per model type (first byte = type)
    n = 0
    for kind, objs in INPUTS.items():
        for obj in objs:
            put("fuzz_input_data", "%02d" % n, bytes([kind]) + json.dumps(obj).encode())
            n += 1
    for k, p in enumerate(PARAMS):
        put("fuzz_input_data", "params-%d" % k, bytes([0x80 | (0 if k != 1 else 3)]) +
            json.dumps(p).encode())

    # protocol frames
    reqs = [
        {"action": "ping", "request_id": "1"},
        {"action": "status"},
        {"action": "load_model", "model_path": MODELS + "/model.hef", "model_type": "clip",
         "model_params": PARAMS[0]},
        {"action": "infer", "model_path": MODELS + "/model.hef", "model_type": "depth",
         "input_data": INPUTS[4][0], "priority": "batch", "timeout_ms": 100},
        {"action": "infer", "model_path": MODELS + "/model.hef", "model_type": "vlm_chat",
         "input_data": INPUTS[1][0], "stream": True},
        {"action": "unload_model", "model_path": MODELS + "/sub/../model.hef"},
        {"action": "infer", "model_path": "/etc/passwd", "model_type": "pose",
         "input_data": INPUTS[5][0]},
    ]
    for i, r in enumerate(reqs):
        put("fuzz_frame", "v1-%02d" % i, v1(r))
    put("fuzz_frame", "pipelined", b"".join(v1(r) for r in reqs[:3]))
    put("fuzz_frame", "binary-00", binframe(
        {"action": "infer", "model_path": MODELS + "/model.hef", "model_type": "pose",
         "input_data": {"input": {"dtype": "uint8", "shape": [2, 2, 3], "attachment": 0}}},
        [bytes(12)]))
    put("fuzz_frame", "binary-01", binframe(
        {"action": "infer", "model_path": MODELS + "/model.hef", "model_type": "ocr",
         "input_data": {"mode": "recognition", "language": "en",
                        "crops": [{"dtype": "uint8", "shape": [1, 2, 3], "attachment": 0},
                                  {"dtype": "uint8", "shape": [1, 2, 3], "attachment": 1}]}},
        [bytes(6), bytes(6)]))
    put("fuzz_frame", "too-large", struct.pack(">I", 0x7fffffff) + b"{}")
    put("fuzz_frame", "bad-utf8", v1(b'{"action": "\xff\xfe"}'))
    put("fuzz_frame", "binary-many", struct.pack(">I", 0x80000002) + b"{}" +
        struct.pack(">I", 0xffffffff))
    put("fuzz_frame", "binary-huge-att", struct.pack(">I", 0x80000002) + b"{}" +
        struct.pack(">IQ", 1, 0xfffffffffffffff0))

    # YAML configs (first byte: 0 clip, 1 vision, 2 sim, 3 manager)
    clip_yaml = open(os.path.join(SRC, "config", "hailo-clip.yaml")).read() \
        if os.path.exists(os.path.join(SRC, "config", "hailo-clip.yaml")) else \
        "server:\n  host: 127.0.0.1\n  port: 5000\nclip:\n  model: x\n  image_size: 224\n"
    vision_yaml = open(os.path.join(SRC, "config", "hailo-vision.yaml")).read() \
        if os.path.exists(os.path.join(SRC, "config", "hailo-vision.yaml")) else \
        "server:\n  port: 11435\nmodel:\n  hef_path: /x.hef\n  keep_alive: -1\n"
    put("fuzz_yaml", "clip", b"\x00" + clip_yaml.encode())
    put("fuzz_yaml", "vision", b"\x01" + vision_yaml.encode())
    put("fuzz_yaml", "vision-dirs", b"\x01images:\n  allowed_dirs: [/a, /b]\n"
        b"  allow_remote: off\n  max_bytes: 1000\n")
    put("fuzz_yaml", "sim", b"\x02memory_mb: 4096\nlatency_scale: 0\nmodels:\n  clip:\n"
        b"    load_ms: 1\nfaults:\n  fail_load_nth: 2\n")
    put("fuzz_yaml", "sim-json", b'\x02{"memory_mb": 100, "models": {"vlm": {"infer_ms": 1}}}')
    put("fuzz_yaml", "manager", b"\x03socket: /tmp/x.sock\nmax_message_bytes: 65536\n"
        b"model_dirs: [/tmp]\nscheduler:\n  max_queue: 10\n  deadline_ms:\n    batch: 5\n"
        b"  client_priority: [\"a=realtime\"]\nregistry:\n  default_keep_alive: -1\n")
    put("fuzz_yaml", "anchors", b"\x00a: &x [1, 2]\nb: *x\nserver: {port: *x}\n")
    put("fuzz_yaml", "bad", b"\x01server:\n  port: 99999999999\n  - x\n")

    # image decoders (first byte: min_side selector)
    for name, data in [("jpeg", JPEG), ("jpeg-grey", JPEG_GREY), ("jpeg-prog", JPEG_PROG),
                       ("png", PNG), ("png-rgba", PNG_RGBA), ("webp", WEBP),
                       ("webp-lossless", WEBP_LOSSLESS), ("jpeg-trunc", JPEG[:len(JPEG) // 2])]:
        put("fuzz_image", name, bytes([2]) + data)
    for f in sorted(os.listdir(os.path.join(SRC, "tests", "data", "images"))):
        if f.endswith(".png"):
            put("fuzz_image", "data-" + f,
                b"\x01" + open(os.path.join(SRC, "tests", "data", "images", f), "rb").read())
    # A PNG header claiming 60000x60000 (decompression bomb).
    bomb = bytearray(PNG)
    bomb[16:24] = struct.pack(">II", 60000, 60000)
    put("fuzz_image", "bomb", b"\x00" + bytes(bomb))
    # EXIF orientations (bit 2 on: applied), hostile images (issue 20), and
    # each filter and output size (bits 3-7).
    sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
    import hostile_images
    exif_dir = os.path.join(SRC, "tests", "data", "images", "exif")
    for n in (3, 6, 8):
        for ext in ("jpg", "png"):
            name = "orient-%d.%s" % (n, ext)
            put("fuzz_image", "exif-" + name,
                bytes([0x04 | 0x08 | (n << 4)]) + open(os.path.join(exif_dir, name), "rb").read())
    put("fuzz_image", "scan-bomb", b"\x59" + hostile_images.jpeg_scan_bomb(96, 64, 120))
    put("fuzz_image", "webp-bomb", b"\xf8" + hostile_images.webp_pixel_bomb(700, 500))
    put("fuzz_image", "png-bomb", b"\x30" + hostile_images.png_pixel_bomb(900, 700))
    put("fuzz_image", "exif-tiff", b"\x00" + open(os.path.join(exif_dir, "orient-5.png"), "rb")
        .read().split(b"eXIf", 1)[1][:60])

    # clip bodies
    for i, b in enumerate([
            {"image": PNG_B64, "prompts": ["a cat", "a dog"], "top_k": 1, "threshold": 0.1},
            {"image": "data:image/jpeg;base64," + base64.b64encode(JPEG).decode(),
             "prompts": ["x"]},
            {"text": "a photo of a cat"},
            {"image": "data:image/webp;base64," + base64.b64encode(WEBP).decode()},
            {"image": "!!notbase64", "prompts": [], "top_k": -1},
            {"prompts": ["a", 3], "threshold": 2},
            {"text": "x" * 300}]):
        put("fuzz_clip_body", "%02d.json" % i, b)

    # vision bodies
    url = "data:image/png;base64," + PNG_B64
    for i, b in enumerate([
            {"model": "qwen2-vl-2b-instruct", "messages": [{"role": "user", "content": "hi"}]},
            {"messages": [{"role": "system", "content": "sys"},
                          {"role": "user", "content": [
                              {"type": "text", "text": "what is this"},
                              {"type": "image_url", "image_url": {"url": url}}]}],
             "temperature": 0.2, "max_tokens": 10, "stop": ["\n", "END"], "stream": True,
             "stream_options": {"include_usage": True}},
            {"messages": [{"role": "user", "content": [
                {"type": "image", "image": PNG_B64},
                {"type": "image_url", "image_url": "file://" + MODELS + "/img.png"}]}]},
            {"messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": "file://" + MODELS + "/../../etc/passwd"}]}]},
            {"messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": "http://127.0.0.1:1/x.png"}]}]},
            {"images": [url], "prompt": "describe", "max_tokens": 5,
             "return_individual_results": True},
            {"messages": [], "temperature": 9},
            {"messages": [{"role": "tool", "content": 3}], "seed": -1, "n": 2}]):
        put("fuzz_vision_body", "%02d.json" % i, b)

    # hailo-llm bodies (Ollama's and OpenAI's)
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}]
    for i, b in enumerate([
            {"model": "qwen2.5-1.5b-instruct", "messages": [{"role": "user", "content": "hi"}]},
            {"model": "qwen2.5-instruct:1.5b", "stream": False, "keep_alive": "1h30m",
             "format": "json", "options": {"temperature": 0.2, "top_k": 40, "seed": 3,
                                           "num_predict": -1, "stop": ["\n", "END"]},
             "messages": [{"role": "system", "content": "sys"},
                          {"role": "user", "content": "weather?"},
                          {"role": "assistant", "content": "", "tool_calls": [
                              {"function": {"name": "get_weather", "arguments": {"city": "x"}}}]},
                          {"role": "tool", "tool_name": "get_weather", "content": "sunny"}],
             "tools": tools},
            {"model": "qwen2:1.5b", "prompt": "Why?", "system": "Be brief.", "raw": False},
            {"model": "qwen2.5-coder-1.5b-instruct", "prompt": "<|im_start|>x", "raw": True},
            {"model": "qwen2.5-1.5b-instruct", "messages": [], "keep_alive": 0},
            {"model": "qwen2.5-1.5b-instruct", "messages": [
                {"role": "developer", "content": [{"type": "text", "text": "a"}]},
                {"role": "user", "content": "<tool_call>{\"name\": \"f\"}</tool_call> t"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "c1", "type": "function",
                     "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "r"}],
             "tools": tools, "tool_choice": "auto", "response_format": {"type": "json_object"},
             "stream": True, "stream_options": {"include_usage": True}, "max_tokens": 9},
            {"model": "nope", "messages": [{"role": "wizard"}], "options": {"seed": -5}},
            {"model": "qwen2.5-1.5b-instruct", "format": {"type": "object"}, "think": True,
             "suffix": "s", "template": "t", "context": [1]}]):
        put("fuzz_llm_body", "%02d.json" % i, b)

    # tokenizer: even first byte = tokenizer.json, odd = text
    tok = open(os.path.join(SRC, "tests", "data", "cliptext", "tokenizer.json"), "rb").read()
    put("fuzz_tokenizer", "json-test", b"\x00" + tok)
    small = {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "a</w>": 3,
                                                 "b</w>": 4, "ab</w>": 5,
                                                 "<|startoftext|>": 6, "<|endoftext|>": 7},
                       "merges": ["a b", "a b</w>"]},
             "added_tokens": [{"id": 6, "content": "<|startoftext|>"},
                              {"id": 7, "content": "<|endoftext|>"}]}
    # CLIP's pipeline (anything else is refused at load), from the test file
    tok_json = json.loads(tok)
    for key in ("normalizer", "pre_tokenizer", "post_processor"):
        small[key] = tok_json[key]
    small["post_processor"] = dict(tok_json["post_processor"], sep=["<|endoftext|>", 7],
                                   cls=["<|startoftext|>", 6])
    put("fuzz_tokenizer", "json-small", b"\x00" + json.dumps(small).encode())
    small["model"]["merges"] = [["a", "b"], ["q", "z"]]
    put("fuzz_tokenizer", "json-pairs-bad", b"\x00" + json.dumps(small).encode())
    for i, s in enumerate(["a photo of a cat", "Hello, World! it's 2024 :-)",
                           "\u00e9t\u00e9 \u4e2d\u6587 \U0001F600", "  \t\n ",
                           "<|startoftext|>cat<|endoftext|>", "word " * 100]):
        put("fuzz_tokenizer", "text-%02d" % i, b"\x01\x4b" + s.encode())
    put("fuzz_tokenizer", "text-badutf8", b"\x01\x10ab\xff\xc3(cd")
    # Unicode steps: NFC, full lower-casing, Oniguruma's \s, marks, emoji ZWJ
    for i, s in enumerate(["\u0130stanbul cafe\u0301 \u1e9e", "a\u001cb\u0085c\u00a0d",
                           "a\u0316\u0301\u0323 \u1100\u1161\u11a8",
                           "\U0001F468\u200d\U0001F469\u200d\U0001F467 \U0001F1EB\U0001F1F7",
                           "!!<|endoftext|>!!<|ENDOFTEXT|>", "x" * 3000]):
        put("fuzz_tokenizer", "text-unicode-%02d" % i, b"\x01\x4b" + s.encode())
    # bit 1 of the first byte: a JSON string line, as `hailo-clip --tokenize` reads
    for i, s in enumerate(['"a photo of a cat"', '"a\\u0000b\\ud83d\\ude00"',
                           '"\\ud800"', '"tab\there"', '"cafe\\u0301\\n\\u0130"']):
        put("fuzz_tokenizer", "jsonline-%02d" % i, b"\x03\x4b" + s.encode())

    # npy: even first byte = cliptext reader, odd = devctl reader
    def npy(descr, shape, data, version=1, fortran=False):
        hdr = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
            descr, "True" if fortran else "False",
            "(" + "".join("%d, " % s for s in shape) + ")" if len(shape) != 1 else
            "(%d,)" % shape[0])
        lenfmt = "<H" if version == 1 else "<I"
        pre = 10 if version == 1 else 12
        pad = 64 - (pre + len(hdr) + 1) % 64
        hdr = hdr + " " * pad + "\n"
        return b"\x93NUMPY" + bytes([version, 0]) + struct.pack(lenfmt, len(hdr)) + \
            hdr.encode() + data
    f32 = struct.pack("<4f", 1, 2, 3, 4)
    for tag, first in (("clip", 0), ("devctl", 1)):
        put("fuzz_npy", tag + "-f32", bytes([first]) + npy("<f4", [1, 4], f32))
        put("fuzz_npy", tag + "-f16", bytes([first]) + npy("<f2", [2, 2], bytes(8)))
        put("fuzz_npy", tag + "-v2", bytes([first]) + npy("<f4", [4], f32, version=2))
        put("fuzz_npy", tag + "-u8", bytes([first]) + npy("|u1", [2, 2], bytes(4)))
        put("fuzz_npy", tag + "-fortran", bytes([first]) + npy("<f4", [2, 2], f32, fortran=True))
        put("fuzz_npy", tag + "-short", bytes([first]) + npy("<f4", [100, 100], f32))
        put("fuzz_npy", tag + "-huge", bytes([first]) +
            npy("<f4", [4611686018427387904, 4], f32))
        put("fuzz_npy", tag + "-scalar", bytes([first]) + npy("<f4", [], f32[:4]))

    # stream: stops separated by 0x01, then 0x00-separated deltas
    put("fuzz_stream", "00", b"END\x01\n\n\x00Hello wo\x00rld E\x00N\x00D more")
    put("fuzz_stream", "01", b"</s>\x00a</\x00s\x00>b")
    put("fuzz_stream", "02", b"\x00no stops\x00 at all")
    put("fuzz_stream", "03", b"aa\x01aaa\x00a\x00a\x00a\x00a")
    put("fuzz_stream", "04", "\u00e9\x00caf\u00c3\x00\u00a9 \u00e9".encode())

    # hailo-pose detect bodies: first byte even = JSON, odd = multipart
    # (boundary "fuzzb"), then the body
    def pose_form(parts):
        out = b""
        for name, value in parts:
            fn = b'; filename="p.png"' if name == "image" else b""
            out += (b"--fuzzb\r\nContent-Disposition: form-data; name=\"" + name.encode() + b"\""
                    + fn + b"\r\n\r\n" + (value if isinstance(value, bytes) else value.encode())
                    + b"\r\n")
        return out + b"--fuzzb--\r\n"
    for i, b in enumerate([
            {"image": PNG_B64},
            {"image": "data:image/jpeg;base64," + base64.b64encode(JPEG).decode(),
             "confidence_threshold": 0.3, "iou_threshold": "0.5", "max_detections": 4,
             "keypoint_threshold": None, "render": True, "render_format": "png"},
            {"image": base64.b64encode(WEBP).decode(), "max_detections": "7"},
            {"image": "not-valid-base64!!!", "confidence_threshold": 0},
            {"image": 5, "max_detections": 2.5},
            {"image": "data:abc", "iou_threshold": True},
            {"image": "", "render_format": "gif"}]):
        put("fuzz_pose_body", "json-%02d" % i, b"\x00" + json.dumps(b).encode())
    for i, parts in enumerate([
            [("image", PNG)],
            [("image", JPEG), ("confidence_threshold", "0.25"), ("iou_threshold", "0.6"),
             ("max_detections", "100"), ("keypoint_threshold", "0"), ("render", "yes"),
             ("render_format", "jpg")],
            [("image", b""), ("max_detections", "0")],
            [("image", b"GIF89a"), ("confidence_threshold", "abc")],
            [("other", PNG)]]):
        put("fuzz_pose_body", "form-%02d" % i, b"\x01" + pose_form(parts))

    # client-side answers
    ans = [{"status": "ok", "request_id": "1"},
           {"status": "ok", "result": t("float32", [1, 4])},
           {"error": "Model not loaded", "code": "not_found", "request_id": "2"},
           {"error": "HAILO_RESOURCE_EXHAUSTED: out of memory"},
           {"request_id": "3", "status": "ok", "delta": "he", "done": False},
           {"status": "ok", "result": {"a": t("uint8", [2]), "b": t("float16", [1])}}]
    put("fuzz_response", "v1", b"".join(v1(a) for a in ans))
    put("fuzz_response", "binary", binframe(
        {"status": "ok", "result": {"dtype": "float32", "shape": [3], "attachment": 0}},
        [b"\x01" + bytes(12)]))
    put("fuzz_response", "binary-odd", binframe(
        {"status": "ok", "result": {"x": {"dtype": "int32", "shape": [1], "attachment": 1}}},
        [b"\x01", bytes(4)]))
    put("fuzz_response", "not-object", v1(b"[1,2]") + v1(b"null"))

    # the dashboard's health answers (and the same bytes as service URLs)
    health = {
        "ok": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
              b"Content-Length: 15\r\n\r\n{\"status\":\"ok\"}",
        "loading": b"HTTP/1.0 503 Service Unavailable\r\ncontent-length:  26\r\n\r\n"
                   b"{\"reason\":\"model loading\"}trailing",
        "lf-only": b"HTTP/1.0 204 No Content\nServer: x\n\n{\"status\":\"fine\"}",
        "cut-headers": b"HTTP/1.1 200 OK\r\nContent-Type: appl",
        "not-http": b"SSH-2.0-OpenSSH_9.2\r\n",
        "bad-code": b"HTTP/1.1 20 OK\r\n\r\n{}",
        "huge-length": b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
        "url-v4": b"http://127.0.0.1:5000/health",
        "url-v6": b"http://[::1]:11434/api/health?deep=1#x",
        "url-localhost": b"HTTP://localhost",
        "url-https": b"https://127.0.0.1/health",
        "url-name": b"http://pi.local:80/",
        "url-userinfo": b"http://u:p@127.0.0.1:65536/",
    }
    for name, data in health.items():
        put("fuzz_dashboard_health", name, data)


if __name__ == "__main__":
    sys.exit(main())
