"""hailo-vision and hailo-llm on one (simulated) device: the VLM and the LLM
share the one GenAI slot, so the manager swaps them as requests for each
arrive.  Under load from both services every request is answered (none
lost, none failed), and the swaps are counted in the manager's /metrics."""

import base64
import json
import os
import threading

import requests

import hdmtest
from conftest import MODEL, make_stack, post, user

VISION_MODEL = "qwen2-vl-2b-instruct"
ROUNDS = 8


def metric(stack, name):
    status, body = stack.manager.http_get("/metrics")
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def vision_config(stack):
    path = os.path.join(stack.root, "hailo-vision-swap.yaml")
    with open(path, "w") as f:
        # Not pinned (keep_alive -1 would hold the GenAI slot): resident until
        # the LLM needs the memory, then swapped out.
        f.write(f"""server:
  host: 127.0.0.1
  port: 11435
  threads: 8
manager:
  socket: {json.dumps(stack.socket)}
model:
  name: {VISION_MODEL}
  hef_path: {json.dumps(stack.vlm_hef)}
  keep_alive: 600
generation:
  max_tokens: 40
images:
  allowed_dirs:
    - {json.dumps(stack.images)}
""")
    return path


def test_vision_and_llm_swap_under_load():
    stack = make_stack(http=True)
    vision = hdmtest.Service(stack, "hailo-vision", config=vision_config(stack))
    llm = hdmtest.Service(stack, "hailo-llm", config=stack.llm_config)
    try:
        vision.start()
        llm.start()
        swaps0 = metric(stack, 'hailo_model_evictions_total{reason="genai_swap"}')
        png = base64.b64encode(hdmtest.png_bytes(32, 24, (200, 40, 40))).decode()
        results, lock = [], threading.Lock()

        def vision_client(k):
            for i in range(ROUNDS):
                content = [{"type": "text", "text": f"What is in picture {k}.{i}?"}]
                if i % 2:
                    content.insert(0, {"type": "image_url",
                                       "image_url": {"url": "data:image/png;base64," + png}})
                r = requests.post(vision.url + "/v1/chat/completions", timeout=120, json={
                    "model": VISION_MODEL, "max_tokens": 20, "stream": i % 3 == 0,
                    "messages": [{"role": "user", "content": content}]})
                ok = r.status_code == 200 and ("data: [DONE]" in r.text if i % 3 == 0
                                               else r.json()["choices"][0]["message"]["content"])
                with lock:
                    results.append(("vision", r.status_code, bool(ok), r.text[:300]))

        def llm_client(k):
            for i in range(ROUNDS):
                stream = i % 2 == 0
                r = post(llm, "/api/chat", {"model": MODEL, "stream": stream,
                                            "options": {"num_predict": 20},
                                            "messages": [user(f"Tell me about topic {k}.{i}")]},
                         timeout=120)
                if stream:
                    lines = [json.loads(x) for x in r.text.splitlines() if x]
                    ok = r.status_code == 200 and lines and lines[-1].get("done") is True
                else:
                    ok = r.status_code == 200 and r.json()["done"] is True
                with lock:
                    results.append(("llm", r.status_code, bool(ok), r.text[:300]))

        threads = [threading.Thread(target=vision_client, args=(k,)) for k in range(3)]
        threads += [threading.Thread(target=llm_client, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert not any(t.is_alive() for t in threads), "clients did not finish"
        # No request lost: every one answered, and answered well.
        assert len(results) == 6 * ROUNDS
        bad = [r for r in results if not r[2]]
        assert not bad, bad
        swaps = metric(stack, 'hailo_model_evictions_total{reason="genai_swap"}') - swaps0
        assert swaps >= 1, "no GenAI swap was counted"
        status = stack.manager.request({"action": "status"})
        genai = [m for m in status["loaded_models"] if m["model_type"] in ("llm", "vlm_chat")]
        assert len(genai) <= 1, status["loaded_models"]
        assert vision.ready() and llm.ready()
    finally:
        stack.cleanup(services=(vision, llm))
