#!/usr/bin/env python3
"""verify_hardware.py - the protocol-level checks of scripts/verify-hardware.sh
(issue 22): things hailo-devctl cannot ask (request deadlines, streaming,
concurrent clients, status polling) spoken directly to a running
hailo-device-manager over its socket (docs/PROTOCOL.md, v1 JSON frames).

    verify_hardware.py --socket PATH STEP ARGS...

Every check prints one line "RESULT<TAB>CHECK<TAB>DETAIL" (RESULT: PASS,
FAIL, WARN or SKIP) that verify-hardware.sh puts in its table and report.
Only the Python 3 standard library: it runs on a stock Raspberry Pi OS.
"""
import argparse
import base64
import json
import math
import os
import re
import socket
import struct
import sys
import threading
import time

SPECIAL = re.compile(r"<\|[^|<>\s]*\|>|</s>|<end_of_turn>")


def row(result, check, detail):
    print(f"{result}\t{check}\t{detail}", flush=True)


class Client:
    """One connection: v1 frames (u32 BE length + JSON)."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.next_id = 0

    def close(self):
        self.sock.close()

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the manager closed the connection")
            data += chunk
        return data

    def recv(self):
        (n,) = struct.unpack(">I", self._read(4))
        return json.loads(self._read(n))

    def request(self, obj, on_delta=None):
        """Sends obj, returns the final answer (deltas go to on_delta)."""
        self.next_id += 1
        obj = dict(obj, request_id=str(self.next_id))
        body = json.dumps(obj).encode()
        self.sock.sendall(struct.pack(">I", len(body)) + body)
        while True:
            ans = self.recv()
            if ans.get("done") is False and "delta" in ans:
                if on_delta:
                    on_delta(ans["delta"])
                continue
            return ans


def tensor(dtype, shape, data):
    return {"dtype": dtype, "shape": list(shape), "data_b64": base64.b64encode(data).decode()}


def image(shape, seed=1):
    n = 1
    for d in shape:
        n *= d
    return tensor("uint8", shape, bytes((i * 7 + seed * 13) & 0xFF for i in range(n)))


def infer(cl, model_type, path, input_data, params=None, **extra):
    req = {"action": "infer", "model_type": model_type, "model_path": path,
           "input_data": input_data}
    if params:
        req["model_params"] = params
    req.update(extra)
    return cl.request(req)


def expected_shape(answer, default):
    """The [h,w,c] a model wants, from its answer to a deliberately tiny image."""
    m = re.search(r"expected \[(\d+),(\d+),(\d+)\]", answer.get("error", ""))
    return [int(x) for x in m.groups()] if m else default


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))]


def error_of(ans):
    return f"{ans.get('error')} ({ans.get('code')})"


# ---- steps ----------------------------------------------------------------------------

def vlm_frame_shape(cl, path):
    ans = infer(cl, "vlm_chat", path,
                {"prompt": [{"role": "user", "content": [{"type": "image"},
                                                           {"type": "text", "text": "?"}]}],
                 "frames": [image([1, 1, 3])], "max_generated_tokens": 1})
    return expected_shape(ans, [336, 336, 3])


def text_model_checks(cl, model_type, path, label, ask, count_prompt):
    """Special tokens, max_tokens=4, a stop string, a short deadline then a normal
    request, for a vlm_chat or llm model.  ask(text, max_tokens) builds input_data."""
    name = os.path.basename(path)
    deltas = []
    t0 = time.monotonic()
    ans = cl.request({"action": "infer", "model_type": model_type, "model_path": path,
                      "stream": True, "input_data": ask("Describe this image.", 48)},
                     on_delta=deltas.append)
    ms = (time.monotonic() - t0) * 1000
    check = f"{label} special tokens {name}"
    if "error" in ans:
        row("FAIL", check, error_of(ans))
    else:
        text = ans.get("result", "")
        streamed = "".join(deltas)
        found = SPECIAL.findall(text) + SPECIAL.findall(streamed)
        usage = ans.get("usage", {})
        detail = (f"{len(text)} chars, usage {usage}, finish {ans.get('finish_reason')}, "
                  f"{ms:.0f} ms")
        if found:
            row("FAIL", check, f"special tokens in the answer: {found}")
        elif streamed != text:
            row("FAIL", check, "the stream differs from the result")
        else:
            row("PASS", check, detail)

    ans = cl.request({"action": "infer", "model_type": model_type, "model_path": path,
                      "input_data": ask("Describe this image.", 4)})
    if "error" in ans:
        row("FAIL", f"{label} max_tokens=4", error_of(ans))
    else:
        usage = ans.get("usage", {})
        ok = (ans.get("finish_reason") == "length" and 1 <= usage.get("completion_tokens", 0) <= 4
              and not SPECIAL.findall(ans.get("result", "")))
        row("PASS" if ok else "FAIL", f"{label} max_tokens=4",
            f"finish {ans.get('finish_reason')}, usage {usage}, {ans.get('result')!r}")

    data = ask(count_prompt, 64)
    data["stop"] = [","]
    ans = cl.request({"action": "infer", "model_type": model_type, "model_path": path,
                      "input_data": data})
    if "error" in ans:
        row("FAIL", f"{label} stop string", error_of(ans))
    else:
        text = ans.get("result", "")
        ok = "," not in text and ans.get("finish_reason") == "stop"
        row("PASS" if ok else "FAIL", f"{label} stop string",
            f"{text!r}, finish {ans.get('finish_reason')}, usage {ans.get('usage')}")

    t0 = time.monotonic()
    ans = cl.request({"action": "infer", "model_type": model_type, "model_path": path,
                      "input_data": ask("Describe this image in detail.", 200), "timeout_ms": 400})
    ms = (time.monotonic() - t0) * 1000
    if ans.get("code") == "deadline_exceeded" and ms < 3000:
        row("PASS", f"{label} short deadline", f"deadline_exceeded after {ms:.0f} ms (asked 400)")
    elif "error" not in ans and ms < 3000:
        row("PASS", f"{label} short deadline", f"answered within the deadline ({ms:.0f} ms)")
    else:
        row("FAIL", f"{label} short deadline",
            f"{error_of(ans) if 'error' in ans else 'answered'} after {ms:.0f} ms (asked 400)")
    ans = cl.request({"action": "infer", "model_type": model_type, "model_path": path,
                      "input_data": ask("Say hello.", 16)})
    row("FAIL" if "error" in ans else "PASS", f"{label} request after a deadline",
        error_of(ans) if "error" in ans else repr(ans.get("result")))


def step_vlm(args):
    """The VLM on a frame of its own size."""
    cl = Client(args.socket, args.timeout)
    shape = vlm_frame_shape(cl, args.path)
    frame = image(shape)

    def ask(text, max_tokens):
        if text.startswith("Count"):
            return {"prompt": text, "max_generated_tokens": max_tokens}
        return {"prompt": [{"role": "user", "content": [{"type": "image"},
                                                         {"type": "text", "text": text}]}],
                "frames": [frame], "max_generated_tokens": max_tokens}

    row("PASS", "vlm frame", f"{shape}")
    text_model_checks(cl, "vlm_chat", args.path, "vlm", ask,
                      "Count from 1 to 30, numbers separated by commas.")
    cl.close()


def step_llm(args):
    """The LLM on chat messages (the model's own template)."""
    cl = Client(args.socket, args.timeout)

    def ask(text, max_tokens):
        text = text.replace("this image", "a sunny beach")
        return {"messages": [{"role": "system", "content": "You are a helpful assistant."},
                             {"role": "user", "content": text}],
                "max_generated_tokens": max_tokens}

    text_model_checks(cl, "llm", args.path, "llm", ask,
                      "Count from 1 to 30, numbers separated by commas.")
    cl.close()


def step_ocr(args):
    """Recognition with 3 and 11 crops at batch 8 (one partial batch, then two)."""
    cl = Client(args.socket, args.timeout)
    params = json.loads(args.params)
    probe = infer(cl, "ocr", args.path, {"mode": "recognition", "language": "en",
                                         "crops": [image([1, 1, 3])], "batch_size": 8}, params)
    shape = expected_shape(probe, [48, 320, 3])
    for n in (3, 11):
        crops = [image(shape, seed=i) for i in range(n)]
        t0 = time.monotonic()
        ans = infer(cl, "ocr", args.path, {"mode": "recognition", "language": "en",
                                           "crops": crops, "batch_size": 8}, params)
        ms = (time.monotonic() - t0) * 1000
        if "error" in ans:
            row("FAIL", f"ocr recognition {n} crops", error_of(ans))
            continue
        res = ans.get("result", [])
        shapes = {tuple(t.get("shape", [])) for t in res}
        ok = len(res) == n and len(shapes) == 1
        row("PASS" if ok else "FAIL", f"ocr recognition {n} crops",
            f"{len(res)} outputs {sorted(shapes)}, batch 8, {ms:.0f} ms (crop {shape})")
    cl.close()


def clip_image_shape(cl, path, params):
    ans = infer(cl, "clip", path, {"mode": "image", "tensor": image([1, 1, 3])}, params)
    return expected_shape(ans, [224, 224, 3])


def step_clip_timeouts(args):
    """timeout_ms=1 twenty times (late replies into live buffers), then CLIP and depth."""
    cl = Client(args.socket, args.timeout)
    params = json.loads(args.params)
    shape = clip_image_shape(cl, args.path, params)
    img = image(shape)
    outcomes = {}
    for _ in range(20):
        ans = infer(cl, "clip", args.path, {"mode": "image", "tensor": img, "timeout_ms": 1},
                    params)
        key = ans.get("code", "ok") if "error" in ans else "ok"
        outcomes[key] = outcomes.get(key, 0) + 1
    bad = {k: v for k, v in outcomes.items() if k not in ("ok", "deadline_exceeded")}
    row("FAIL" if bad else "PASS", "clip timeout_ms=1 x20", f"answers {outcomes}")
    ans = infer(cl, "clip", args.path, {"mode": "image", "tensor": img}, params)
    row("FAIL" if "error" in ans else "PASS", "clip after timeouts",
        error_of(ans) if "error" in ans else f"embedding {ans['result'].get('shape')}")
    if args.depth:
        dshape = expected_shape(infer(cl, "depth", args.depth, {"input": image([1, 1, 3])}),
                                [256, 320, 3])
        ans = infer(cl, "depth", args.depth, {"input": image(dshape)})
        row("FAIL" if "error" in ans else "PASS", "depth after clip timeouts",
            error_of(ans) if "error" in ans else f"map {ans['result'].get('shape')}")
    st = cl.request({"action": "status"})
    broken = st.get("runtime_broken_reason")
    row("FAIL" if broken else "PASS", "no runtime reset after timeouts",
        f"runtime_broken_reason {broken!r}")
    cl.close()


def clip_latencies(path, sock, params, img, n, timeout, stop=None):
    cl = Client(sock, timeout)
    out = []
    for _ in range(n):
        if stop is not None and stop.is_set():
            break
        t0 = time.monotonic()
        ans = infer(cl, "clip", path, {"mode": "image", "tensor": img}, params)
        if "error" in ans:
            cl.close()
            raise RuntimeError(error_of(ans))
        out.append((time.monotonic() - t0) * 1000)
    cl.close()
    return out


def step_clip_latency(args):
    """CLIP latency alone, then while another client polls device_status at 10 Hz."""
    params = json.loads(args.params)
    cl = Client(args.socket, args.timeout)
    img = image(clip_image_shape(cl, args.path, params))
    infer(cl, "clip", args.path, {"mode": "image", "tensor": img}, params)  # resident
    cl.close()
    alone = clip_latencies(args.path, args.socket, params, img, args.n, args.timeout)
    stop = threading.Event()
    polls = []

    def poll():
        pc = Client(args.socket, args.timeout)
        while not stop.is_set():
            t0 = time.monotonic()
            pc.request({"action": "device_status"})
            polls.append((time.monotonic() - t0) * 1000)
            stop.wait(0.1)
        pc.close()

    th = threading.Thread(target=poll)
    th.start()
    try:
        polled = clip_latencies(args.path, args.socket, params, img, args.n, args.timeout)
    finally:
        stop.set()
        th.join()
    detail = (f"p50 {pct(alone, 50):.1f}/{pct(polled, 50):.1f} ms, "
              f"p95 {pct(alone, 95):.1f}/{pct(polled, 95):.1f} ms (alone/while polling "
              f"status at 10 Hz), status answer p95 {pct(polls, 95):.1f} ms")
    slow = pct(polled, 50) > 2 * pct(alone, 50) + 20
    row("WARN" if slow else "PASS", "clip latency with status polling", detail)


def stream_vlm(args, frame, result, done=None):
    """One streamed 200-token VLM answer; fills result with the answer and
    the arrival time of each piece, or an error.  Sets done at the end."""
    vc = Client(args.socket, args.timeout)
    times = []
    try:
        ans = vc.request({"action": "infer", "model_type": "vlm_chat", "model_path": args.vlm,
                          "stream": True,
                          "input_data": {"prompt": [{"role": "user", "content": [
                              {"type": "image"},
                              {"type": "text",
                               "text": "Write a long, detailed story about this image."}]}],
                              "frames": [frame], "max_generated_tokens": 200}},
                         on_delta=lambda d: times.append(time.monotonic()))
        result["answer"], result["times"] = ans, times
    except Exception as e:  # reported by the caller
        result["error"] = str(e)
    finally:
        if done is not None:
            done.set()
        vc.close()


def tokens_per_s(result):
    """Generated tokens per second of a stream_vlm result, after the first."""
    times = result["times"]
    tokens = result["answer"].get("usage", {}).get("completion_tokens", len(times))
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    return tokens, ((tokens - 1) / span if span and span > 0 else float("nan"))


def poll_status(args, stop, out):
    """device_status at 10 Hz until stop is set: each answer's time in ms,
    or the error that ended the polling."""
    pc = Client(args.socket, args.timeout)
    try:
        while not stop.is_set():
            t0 = time.monotonic()
            ans = pc.request({"action": "device_status"})
            if "error" in ans:
                out.append(error_of(ans))
                return
            out.append((time.monotonic() - t0) * 1000)
            stop.wait(0.1)
    finally:
        pc.close()


def status_check(polls):
    """The row for device_status answers polled during a VLM answer."""
    name = "device status during a vlm answer"
    errors = [p for p in polls if isinstance(p, str)]
    times = [p for p in polls if not isinstance(p, str)]
    if errors:
        row("FAIL", name, errors[0])
    elif not times:
        row("WARN", name, "no status request overlapped the answer")
    else:
        # Cached: a few ms.  Asked of the chip behind the generation: >= 400 ms.
        ok = pct(times, 95) < 200
        row("PASS" if ok else "FAIL", name,
            f"{len(times)} answer(s), p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms, "
            f"max {max(times):.1f} ms (cached: never behind the generation)")


def step_clip_during_vlm(args):
    """CLIP latency alone and while a 200-token VLM answer streams, the
    VLM's tokens/s alone and meanwhile, the lanes setting, and the target
    of docs/SCHEDULING.md: CLIP p95 meanwhile <= max(3 x alone, alone + 250 ms)."""
    name = "clip during a 200-token vlm answer"
    params = json.loads(args.params)
    cl = Client(args.socket, args.timeout)
    img = image(clip_image_shape(cl, args.clip, params))
    infer(cl, "clip", args.clip, {"mode": "image", "tensor": img}, params)
    alone = clip_latencies(args.clip, args.socket, params, img, args.n, args.timeout)
    frame = image(vlm_frame_shape(cl, args.vlm))
    lanes = cl.request({"action": "status"}).get("scheduler", {}).get("parallel_genai", "?")
    cl.close()
    solo = {}
    # Meanwhile another client polls the device status: it is answered from
    # the backend's cache, never queued behind the generation on the chip
    # (where query_performance_stats takes >= 0.4 s).
    polls, answering = [], threading.Event()
    th = threading.Thread(target=poll_status, args=(args, answering, polls))
    th.start()
    try:
        stream_vlm(args, frame, solo)
    finally:
        answering.set()
        th.join()
    if "error" in solo or "error" in solo.get("answer", {}):
        row("FAIL", name, "vlm alone: " + (solo.get("error") or error_of(solo["answer"])))
        return
    status_check(polls)
    stop = threading.Event()
    result = {}
    th = threading.Thread(target=stream_vlm, args=(args, frame, result, stop))
    th.start()
    during = []
    try:
        while not stop.is_set():
            during += clip_latencies(args.clip, args.socket, params, img, 5, args.timeout, stop)
    finally:
        th.join()
    ans = result.get("answer", {})
    if "error" in result or "error" in ans:
        row("FAIL", name, result.get("error") or error_of(ans))
        return
    _, tps_alone = tokens_per_s(solo)
    tokens, tps = tokens_per_s(result)
    bound = max(3 * pct(alone, 95), pct(alone, 95) + 250)
    verdict = ("no clip request overlapped the answer" if not during else
               f"target p95 <= {bound:.0f} ms {'met' if pct(during, 95) <= bound else 'MISSED'}")
    detail = (f"clip p50 {pct(alone, 50):.1f} -> {pct(during, 50):.1f} ms, p95 "
              f"{pct(alone, 95):.1f} -> {pct(during, 95):.1f} ms ({len(during)} requests; "
              f"{verdict}); vlm {tokens} tokens at {tps_alone:.1f} tokens/s alone, {tps:.1f} "
              f"tokens/s meanwhile; parallel_genai {lanes}")
    row("PASS" if during else "WARN", name, detail)


def step_whisper_translate(args):
    """Translate with no language given: the model detects it (HailoRT takes none)."""
    cl = Client(args.socket, args.timeout)
    n = 16000 * 3
    # A 440 Hz tone, then silence: audio the model can run on.
    samples = struct.pack(f"<{n}f", *[0.2 * math.sin(2 * math.pi * 440 * i / 16000)
                                      if i < 16000 else 0.0 for i in range(n)])
    ans = infer(cl, "whisper", args.path, {"audio": tensor("float32", [n], samples),
                                           "task": "translate"})
    if "error" in ans:
        row("FAIL", "whisper translate, no language", error_of(ans))
    else:
        segs = ans.get("result", {}).get("segments", [])
        row("PASS", "whisper translate, no language", f"{len(segs)} segment(s)")
    cl.close()


def step_genai_busy(args):
    """A second process loads a GenAI model while ours holds the KV cache."""
    other = Client(args.other_socket, args.timeout)
    t0 = time.monotonic()
    ans = other.request({"action": "load_model", "model_type": "vlm_chat",
                         "model_path": args.path})
    ms = (time.monotonic() - t0) * 1000
    other.close()
    if "error" not in ans:
        row("FAIL", "second process loads a GenAI model",
            "it loaded while the first process has the VLM resident")
    elif ans.get("code") == "device_error":
        row("FAIL", "second process loads a GenAI model",
            f"answered as a lost device (a reset would loop): {error_of(ans)}")
    else:
        row("PASS", "second process loads a GenAI model", f"{error_of(ans)} after {ms:.0f} ms")
    cl = Client(args.socket, args.timeout)
    ans = infer(cl, "vlm_chat", args.path, {"prompt": "Say hi.", "max_generated_tokens": 8})
    row("FAIL" if "error" in ans else "PASS", "first process's VLM still answers",
        error_of(ans) if "error" in ans else repr(ans.get("result")))
    cl.close()


def parse_hef_outputs(text):
    """{name: shape the manager should answer} from the Output lines of `hailortcli
    parse-hef` ("Output NAME TYPE, ORDER(HxWxF)"; NC shows (F), NHW (HxW), the NMS
    orders their class and box counts); None for the NMS lists (answered flat)."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"\s*Output\s+(\S+)\s+[A-Z0-9_]+,\s*([A-Z0-9 ]+?)\((.*)\)\s*$", line)
        if not m:
            continue
        name, order, dims = m.groups()
        nums = [int(x) for x in re.findall(r"\d+", dims)]
        if "NMS" in order:
            out[name] = None
        elif order == "NC":
            out[name] = nums[-1:]
        elif order == "NHW":
            out[name] = nums[:2]
        elif order == "NCHW":
            out[name] = [nums[2], nums[0], nums[1]]
        else:
            out[name] = nums[:3]
    return out


def step_shapes(args):
    """Output shapes answered by the manager against hailortcli parse-hef."""
    with open(args.parse_hef) as f:
        want = parse_hef_outputs(f.read())
    if not want:
        row("SKIP", f"shapes {os.path.basename(args.path)}", "no Output lines in parse-hef")
        return
    cl = Client(args.socket, args.timeout)
    params = json.loads(args.params) if args.params else None
    field = {"clip": "tensor", "ocr": "image"}.get(args.type, "input")
    extra = {"mode": "image"} if args.type == "clip" else (
        {"mode": "detection"} if args.type == "ocr" else {})
    probe = infer(cl, args.type, args.path, dict(extra, **{field: image([1, 1, 3])}), params)
    shape = expected_shape(probe, None)
    if shape is None:
        row("FAIL", f"shapes {os.path.basename(args.path)}",
            f"cannot tell the input shape: {error_of(probe)}")
        return
    ans = infer(cl, args.type, args.path, dict(extra, **{field: image(shape)}), params)
    cl.close()
    if "error" in ans:
        row("FAIL", f"shapes {os.path.basename(args.path)}", error_of(ans))
        return
    res = ans["result"]
    got = {k: v.get("shape") for k, v in res.items()} if "shape" not in res else {"": res["shape"]}
    problems = []
    for name, dims in want.items():
        g = got.get(name, got.get("") if len(got) == 1 else None)
        if g is None:
            problems.append(f"{name}: not in the answer")
        elif dims is not None and g != dims:
            problems.append(f"{name}: {g} but parse-hef says {dims}")
        elif dims is None and len(g) != 1:
            problems.append(f"{name}: NMS list as {g}, expected flat")
    detail = "; ".join(problems) if problems else ", ".join(
        f"{n.split('/')[-1]} {got.get(n, got.get(''))}" for n in want)
    row("FAIL" if problems else "PASS", f"shapes {os.path.basename(args.path)}", detail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--timeout", type=float, default=300.0)
    sub = ap.add_subparsers(dest="step", required=True)
    p = sub.add_parser("vlm")
    p.add_argument("path")
    p = sub.add_parser("llm")
    p.add_argument("path")
    p = sub.add_parser("ocr")
    p.add_argument("path")
    p.add_argument("params")
    p = sub.add_parser("clip-timeouts")
    p.add_argument("path")
    p.add_argument("params")
    p.add_argument("--depth")
    p = sub.add_parser("clip-latency")
    p.add_argument("path")
    p.add_argument("params")
    p.add_argument("-n", type=int, default=50)
    p = sub.add_parser("clip-during-vlm")
    p.add_argument("clip")
    p.add_argument("params")
    p.add_argument("vlm")
    p.add_argument("-n", type=int, default=30)
    p = sub.add_parser("whisper-translate")
    p.add_argument("path")
    p = sub.add_parser("genai-busy")
    p.add_argument("other_socket")
    p.add_argument("path")
    p = sub.add_parser("shapes")
    p.add_argument("type")
    p.add_argument("path")
    p.add_argument("parse_hef")
    p.add_argument("--params")
    args = ap.parse_args()
    steps = {"vlm": step_vlm, "llm": step_llm, "ocr": step_ocr, "clip-timeouts": step_clip_timeouts,
             "clip-latency": step_clip_latency, "clip-during-vlm": step_clip_during_vlm,
             "whisper-translate": step_whisper_translate, "genai-busy": step_genai_busy,
             "shapes": step_shapes}
    try:
        steps[args.step](args)
    except (OSError, ConnectionError, RuntimeError, ValueError, KeyError) as e:
        row("FAIL", args.step, f"{type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
