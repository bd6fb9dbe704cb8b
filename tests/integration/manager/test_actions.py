"""Every action of the v1 protocol, every model type, and the v1 error sentences."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402


@pytest.fixture(scope="module")
def mgr():
    m = hdmtest.Manager()
    m.start()
    yield m
    assert m.stop() == 0, m.log()
    m.cleanup()


STATUS_FIELDS = ["device_id", "loaded_models", "uptime_seconds", "socket_path", "queue_depth",
                 "total_lru_evictions", "runtime_broken_reason", "last_capacity_event_reason",
                 "last_capacity_event_model", "last_capacity_event_at"]


def test_ping_answers_status_fields_and_echoes_request_id(mgr):
    r = mgr.request({"action": "ping", "request_id": "p-1"})
    assert r["status"] == "ok"
    assert r["request_id"] == "p-1"
    for f in STATUS_FIELDS:
        assert f in r, f
    assert r["socket_path"] == mgr.socket


def test_status_fields(mgr):
    r = mgr.request({"action": "status"})
    assert r["status"] == "ok"
    assert "request_id" not in r
    for f in STATUS_FIELDS:
        assert f in r, f
    assert isinstance(r["loaded_models"], list)
    assert isinstance(r["uptime_seconds"], float)
    assert r["runtime_broken_reason"] is None
    assert r["simulated"] is True


def test_device_status_shape(mgr):
    r = mgr.request({"action": "device_status", "request_id": "d"})
    assert r["status"] == "ok" and r["request_id"] == "d"
    dev = r["device"]
    for f in ("device_id", "architecture", "fw_version", "temperature_celsius"):
        assert f in dev
    nets = r["networks"]
    assert nets["source"] == "device_manager"
    assert nets["network_count"] == len(nets["networks"])
    assert "uptime_seconds" in r and "queue_depth" in r


def test_load_infer_unload_vlm_default_type(mgr):
    path = mgr.make_model("vlm-default.hef")
    r = mgr.request({"action": "load_model", "model_path": path, "request_id": "l"})
    assert r == {"status": "ok", "model_path": path, "model_type": "vlm",
                 "message": "Model loaded", "request_id": "l"}
    r = mgr.request({"action": "load_model", "model_path": path})
    assert r["message"] == "Model already loaded"
    st = mgr.request({"action": "status"})
    entry = [m for m in st["loaded_models"] if m["model_path"] == path]
    assert len(entry) == 1
    assert isinstance(entry[0]["loaded_at"], float) and isinstance(entry[0]["last_used"], float)
    r = mgr.request({"action": "infer", "model_path": path,
                     "input_data": {"prompt": "Describe the room", "max_generated_tokens": 20,
                                    "seed": 7}})
    assert r["status"] == "ok", r
    assert isinstance(r["result"], str) and r["result"]
    assert isinstance(r["inference_time_ms"], int)
    assert r["usage"]["completion_tokens"] <= 20
    assert r["finish_reason"] in ("stop", "length")
    r = mgr.request({"action": "unload_model", "model_path": path})
    assert r == {"status": "ok", "message": "Model unloaded"}
    r = mgr.request({"action": "unload_model", "model_path": path})
    assert r == {"status": "ok", "message": "Model was not loaded"}


def test_vlm_chat_messages_and_frames(mgr):
    path = mgr.make_model("vlm-chat.hef")
    frame = hdmtest.tensor("uint8", [336, 336, 3])
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "What is here?"},
                                         {"type": "image"}]}]
    req = {"action": "infer", "model_type": "vlm_chat", "model_path": path,
           "input_data": {"prompt": msgs, "frames": [frame], "temperature": 0.2,
                          "top_p": 0.5, "seed": 1, "max_generated_tokens": 30,
                          "stop": ["\n\n"]}}
    r1 = mgr.request(req)
    assert r1["status"] == "ok", r1
    r2 = mgr.request(req)
    assert r2["result"] == r1["result"], "same seed and input must give the same text"


def test_vlm_image_parts_must_match_frames(mgr):
    path = mgr.make_model("vlm-chat2.hef")
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "image"}]}]
    r = mgr.request({"action": "infer", "model_type": "vlm_chat", "model_path": path,
                     "input_data": {"prompt": msgs,
                                    "frames": [hdmtest.tensor("uint8", [336, 336, 3])]}})
    assert r["code"] == "bad_request"
    assert "2 image parts" in r["error"] and "1 frames" in r["error"]


@pytest.mark.parametrize("bad,needle", [
    ({"prompt": ""}, "prompt"),
    ({"prompt": 5}, "prompt"),
    ({"prompt": [{"role": "robot", "content": "x"}]}, "role"),
    ({"prompt": [{"role": "user", "content": [{"type": "video"}]}]}, "type"),
    ({"prompt": "x", "temperature": "hot"}, "temperature"),
    ({"prompt": "x", "temperature": 9}, "temperature"),
    ({"prompt": "x", "max_generated_tokens": 0}, "max_generated_tokens"),
    ({"prompt": "x", "seed": -1}, "seed"),
    ({"prompt": "x", "stop": [1]}, "stop"),
    ({"prompt": "x", "frames": [{"dtype": "uint8", "shape": [2]}]},
     "tensor must include dtype, shape, and data_b64"),
    ({"prompt": "x", "frames": [hdmtest.tensor("float32", [2, 2, 3])]}, "uint8"),
    ({"prompt": [{"role": "user", "content": "x"}] * 300}, "messages"),
    ({"prompt": "x", "frames": [hdmtest.tensor("uint8", [1, 1, 3])] * 17}, "frames"),
])
def test_vlm_input_errors_name_the_field(mgr, bad, needle):
    path = mgr.make_model("vlm-bad.hef")
    r = mgr.request({"action": "infer", "model_type": "vlm", "model_path": path,
                     "input_data": bad})
    assert "error" in r and r["code"] in ("bad_request", "too_large"), r
    assert needle in r["error"], r


def test_clip_image_and_text(mgr):
    path, params = mgr.make_clip("clip-a")
    r = mgr.request({"action": "load_model", "model_type": "clip", "model_path": path,
                     "model_params": params})
    assert r["message"] == "Model loaded", r
    img = hdmtest.tensor("uint8", [1, 224, 224, 3])
    r = mgr.request({"action": "infer", "model_type": "clip", "model_path": path,
                     "input_data": {"mode": "image", "tensor": img, "timeout_ms": 500}})
    assert r["status"] == "ok", r
    dtype, shape, raw = hdmtest.decode_tensor(r["result"])
    # v1 answers the per-frame shape, as the original manager did (issue 15 item 3).
    assert dtype == "float32" and shape == [512] and len(raw) == 512 * 4
    txt = hdmtest.tensor("float32", [1, 77, 512])
    r = mgr.request({"action": "infer", "model_type": "clip", "model_path": path,
                     "input_data": {"mode": "text", "tensor": txt}})
    dtype, shape, raw = hdmtest.decode_tensor(r["result"])
    assert dtype == "float32" and shape == [1, 77, 512]


def test_clip_params_name_the_missing_one(mgr):
    path, params = mgr.make_clip("clip-b")
    for missing in ("image_hef_path", "text_hef_path", "text_input_layer", "text_output_layer"):
        p = dict(params)
        del p[missing]
        r = mgr.request({"action": "load_model", "model_type": "clip", "model_path": path,
                         "model_params": p})
        assert r["code"] == "bad_request"
        assert r["error"] == "Failed to load model: model_params.%s required" % missing


def test_clip_infer_unloaded_without_params(mgr):
    path, _ = mgr.make_clip("clip-c")
    r = mgr.request({"action": "infer", "model_type": "clip", "model_path": path,
                     "input_data": {"mode": "image",
                                    "tensor": hdmtest.tensor("uint8", [1, 224, 224, 3])}})
    assert r["code"] == "bad_request" and "image_hef_path" in r["error"]


def test_clip_infer_loads_on_demand(mgr):
    path, params = mgr.make_clip("clip-d")
    r = mgr.request({"action": "infer", "model_type": "clip", "model_path": path,
                     "model_params": params,
                     "input_data": {"mode": "image",
                                    "tensor": hdmtest.tensor("uint8", [1, 224, 224, 3])}})
    assert r["status"] == "ok", r
    st = mgr.request({"action": "status"})
    assert any(m["model_path"] == path for m in st["loaded_models"])


def test_clip_mode_and_tensor_checks(mgr):
    path, params = mgr.make_clip("clip-e")
    base = {"action": "infer", "model_type": "clip", "model_path": path, "model_params": params}
    r = mgr.request(dict(base, input_data={"mode": "audio", "tensor": {}}))
    assert r["error"] == "Inference failed: clip mode must be 'image' or 'text'"
    r = mgr.request(dict(base, input_data={"mode": "image"}))
    assert r["error"] == "Inference failed: tensor is required for clip inference"
    r = mgr.request(dict(base, input_data={"mode": "image",
                                           "tensor": {"dtype": "uint8", "shape": [1, 2]}}))
    assert r["error"] == "Inference failed: tensor must include dtype, shape, and data_b64"
    t = hdmtest.tensor("uint8", [1, 224, 224, 3])
    t["shape"] = [1, 224, 224, 4]
    r = mgr.request(dict(base, input_data={"mode": "image", "tensor": t}))
    assert r["code"] == "bad_request" and "shape" in r["error"]
    r = mgr.request(dict(base, input_data={"mode": "image",
                                           "tensor": hdmtest.tensor("uint8", [1, 100, 100, 3])}))
    assert r["code"] == "bad_request" and "224" in r["error"], r


def test_whisper_list_and_tensor(mgr):
    path = mgr.make_model("whisper.hef")
    samples = [0.0, 0.1, -0.1, 0.2] * 4000
    r = mgr.request({"action": "infer", "model_type": "whisper", "model_path": path,
                     "input_data": {"audio": samples, "language": "en", "task": "transcribe"}})
    assert r["status"] == "ok", r
    assert isinstance(r["result"]["segments"], list)
    for seg in r["result"]["segments"]:
        assert set(seg) >= {"id", "start", "end", "text"}
    t = hdmtest.tensor("float32", [16000])
    r = mgr.request({"action": "infer", "model_type": "whisper", "model_path": path,
                     "input_data": {"audio": t, "task": "translate"}})
    assert r["status"] == "ok", r
    r = mgr.request({"action": "infer", "model_type": "whisper", "model_path": path,
                     "input_data": {"audio": t, "task": "sing"}})
    assert r["code"] == "bad_request" and "task" in r["error"]
    r = mgr.request({"action": "infer", "model_type": "whisper", "model_path": path,
                     "input_data": {"audio": []}})
    assert r["error"] == "Inference failed: audio data is required for whisper"


def test_ocr_detection_and_recognition(mgr):
    path = mgr.make_model("ocr.hef", input_height=64, input_width=96)
    det = mgr.make_model("ocr-det.hef", input_height=64, input_width=96)
    rec = mgr.make_model("ocr-rec-en.hef")
    params = {"detection_hef_path": det, "recognition_hefs": {"en": rec},
              "batch_sizes": {"en": 4}}
    r = mgr.request({"action": "load_model", "model_type": "ocr", "model_path": path,
                     "model_params": params})
    assert r["status"] == "ok", r
    r = mgr.request({"action": "infer", "model_type": "ocr", "model_path": path,
                     "input_data": {"mode": "detection",
                                    "image": hdmtest.tensor("uint8", [64, 96, 3])}})
    assert r["status"] == "ok", r
    assert hdmtest.decode_tensor(r["result"])[0] == "float32"
    crops = [hdmtest.tensor("uint8", [48, 320, 3]) for _ in range(3)]
    r = mgr.request({"action": "infer", "model_type": "ocr", "model_path": path,
                     "input_data": {"mode": "recognition", "language": "en", "crops": crops,
                                    "batch_size": 2}})
    assert r["status"] == "ok", r
    assert isinstance(r["result"], list) and len(r["result"]) == 3
    r = mgr.request({"action": "infer", "model_type": "ocr", "model_path": path,
                     "input_data": {"mode": "scan"}})
    assert r["code"] == "bad_request" and "mode" in r["error"].lower()


def test_ocr_load_answers_model_info(mgr):
    path = mgr.make_model("ocr-info.hef")
    det = mgr.make_model("ocr-info-det.hef", input_height=64, input_width=96)
    rec = mgr.make_model("ocr-info-rec.hef")
    params = {"detection_hef_path": det, "recognition_hefs": {"en": rec}}
    r = mgr.request({"action": "load_model", "model_type": "ocr", "model_path": path,
                     "model_params": params})
    assert r["status"] == "ok", r
    assert "model_info" in r and len(r["model_info"]["detection_input_shape"]) == 3, r
    r = mgr.request({"action": "load_model", "model_type": "ocr", "model_path": path,
                     "model_params": params})
    assert r["message"] == "Model already loaded"
    assert "model_info" in r, r


def test_ocr_params_required(mgr):
    path = mgr.make_model("ocr2.hef")
    r = mgr.request({"action": "load_model", "model_type": "ocr", "model_path": path,
                     "model_params": {}})
    assert r["error"] == "Failed to load model: model_params.detection_hef_path required"
    r = mgr.request({"action": "load_model", "model_type": "ocr", "model_path": path,
                     "model_params": {"detection_hef_path": path}})
    assert "recognition_hefs" in r["error"]


def test_depth_and_pose(mgr):
    depth = mgr.make_model("depth.hef")
    r = mgr.request({"action": "infer", "model_type": "depth", "model_path": depth,
                     "input_data": {"input": hdmtest.tensor("uint8", [1, 256, 320, 3])}})
    assert r["status"] == "ok", r
    assert hdmtest.decode_tensor(r["result"])[0] == "float32"
    pose = mgr.make_model("pose.hef", input_height=64, input_width=64)
    r = mgr.request({"action": "infer", "model_type": "pose", "model_path": pose,
                     "input_data": {"input": hdmtest.tensor("uint8", [64, 64, 3])}})
    assert r["status"] == "ok", r
    r = mgr.request({"action": "infer", "model_type": "depth", "model_path": depth,
                     "input_data": {}})
    assert r["code"] == "bad_request" and "input_data.input" in r["error"]


def test_v1_error_sentences(mgr):
    path = mgr.make_model("errs.hef")
    assert mgr.request({"action": "load_model"})["error"] == "model_path required"
    assert mgr.request({"action": "unload_model"})["error"] == "model_path required"
    assert mgr.request({"action": "infer", "model_path": path})["error"] == \
        "model_path and input_data required"
    assert mgr.request({"action": "infer", "input_data": {}})["error"] == \
        "model_path and input_data required"
    r = mgr.request({"action": "load_model", "model_path": path, "model_type": "llama"})
    assert r["error"] == "Unsupported model_type: llama" and r["code"] == "unsupported"
    r = mgr.request({"action": "frobnicate", "request_id": "u"})
    assert r["error"] == "Unknown action: frobnicate" and r["request_id"] == "u"
    assert r["code"] == "bad_request"
    r = mgr.request({"request_id": "x"})
    assert r["error"].startswith("Unknown action")


def test_error_codes_and_request_id_on_errors(mgr):
    r = mgr.request({"action": "load_model", "model_path": "relative.hef", "request_id": "e1"})
    assert r["code"] == "bad_request" and r["request_id"] == "e1"
    r = mgr.request({"action": "load_model",
                     "model_path": os.path.join(mgr.models_dir, "missing.hef")})
    assert r["code"] == "not_found" and "missing.hef" in r["error"]
    # Any JSON value is echoed as given (the original did; issue 15).
    r = mgr.request({"action": "ping", "request_id": 5})
    assert r["status"] == "ok" and r["request_id"] == 5


def test_scheduling_fields_validated(mgr):
    path = mgr.make_model("sched.hef")
    base = {"action": "load_model", "model_path": path}
    assert "priority" in mgr.request(dict(base, priority="urgent"))["error"]
    assert "timeout_ms" in mgr.request(dict(base, timeout_ms=-5))["error"]
    assert "client_name" in mgr.request(dict(base, client_name="x" * 100))["error"]
    assert "keep_alive" in mgr.request(dict(base, keep_alive=-3))["error"]
    r = mgr.request(dict(base, priority="realtime", timeout_ms=5000, client_name="tester",
                         keep_alive=-1))
    assert r["status"] == "ok", r
    st = mgr.request({"action": "status"})
    assert any(c["name"] == "tester" for c in st.get("clients", []))
    mgr.request({"action": "unload_model", "model_path": path})


def test_cancel_unknown_target(mgr):
    r = mgr.request({"action": "cancel", "target_request_id": "nope", "request_id": "c"})
    assert r["code"] == "not_found" and r["request_id"] == "c"
    r = mgr.request({"action": "cancel"})
    assert r["error"] == "target_request_id required"


def test_stream_only_for_vlm(mgr):
    path = mgr.make_model("depth-stream.hef")
    r = mgr.request({"action": "infer", "model_type": "depth", "model_path": path,
                     "stream": True,
                     "input_data": {"input": hdmtest.tensor("uint8", [1, 256, 320, 3])}})
    assert r["code"] == "bad_request" and "stream" in r["error"]


def test_null_optional_fields_are_ignored(mgr):
    path = mgr.make_model("vlm-null.hef")
    r = mgr.request({"action": "infer", "model_path": path, "model_type": "vlm_chat",
                     "model_params": None,
                     "input_data": {"prompt": "hi", "frames": [], "temperature": None,
                                    "seed": None, "max_generated_tokens": None}})
    assert r["status"] == "ok", r


def test_float_fields_print_as_python():
    """Issue 15 item 4: a float field keeps its ".0" (42.0, not 42) so a
    Python client reads a float, as from the original manager."""
    import re
    with hdmtest.Manager() as m:  # fresh: no model loaded, the chip at its idle 42.0 C
        with m.client() as c:
            c.send({"action": "device_status", "request_id": "f"})
            body, _, _ = c.recv_frame()
            assert re.search(rb'"temperature_celsius":42\.0[,}]', body), body
            c.send({"action": "status"})
            body, _, _ = c.recv_frame()
            assert re.search(rb'"uptime_seconds":[0-9]+\.[0-9]+(e[-+][0-9]+)?[,}]', body), body
            st = json.loads(body)
            assert isinstance(st["uptime_seconds"], float)
