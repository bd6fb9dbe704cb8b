"""Concurrent requests to hailo-ocr: eight clients at once all get the same
answer; images.max_concurrent bounds the requests being read at once and a
request that waits longer than images.max_wait_ms is told to come back
(503 + Retry-After), never left hanging."""

import json
import os
import threading

import requests

import hdmtest
from conftest import Ocr, data_uri, page_bytes


def strip_perf(body):
    body = dict(body)
    body.pop("performance", None)
    return body


def run_clients(svc, body, clients, per_client):
    results, lock = [], threading.Lock()

    def client():
        with requests.Session() as s:
            for _ in range(per_client):
                r = s.post(svc.url + "/v1/ocr/extract", json=body, timeout=120)
                with lock:
                    results.append(r)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_eight_clients(ocr):
    body = {"image": data_uri(page_bytes())}
    want = strip_perf(ocr.extract(body).json())
    results = run_clients(ocr, body, 8, 3)
    assert len(results) == 24
    for r in results:
        assert r.status_code == 200, r.text
        assert strip_perf(r.json()) == want
    assert ocr.alive()


def test_busy_is_503_not_a_hang():
    """A slow detection model (300 ms) and a 50 ms wait: of four requests
    at once, the first is served and the others are told to retry."""
    st = hdmtest.SimStack(prefix="hdm-ocr-busy-", sim_config='{"latency_scale": 1}\n')
    with open(os.path.join(st.models, "ocr", "ocr_det.hef.sim.json"), "w") as f:
        json.dump({"footprint_mb": 90, "load_ms": 0, "infer_ms": 300, "token_ms": 0}, f)
    with open(os.path.join(st.root, "hailo-ocr.yaml")) as f:
        text = f.read()
    cfg = os.path.join(st.root, "ocr-busy.yaml")
    with open(cfg, "w") as f:
        f.write(text.replace("images:\n", "images:\n  max_concurrent: 1\n  max_wait_ms: 50\n", 1))
    svc = Ocr(st, config=cfg)
    try:
        st.start_manager()
        svc.start()
        results = run_clients(svc, {"image": data_uri(page_bytes())}, 4, 1)
        codes = sorted(r.status_code for r in results)
        assert codes[0] == 200 and 503 in codes, [(r.status_code, r.text) for r in results]
        for r in results:
            if r.status_code == 503:
                body = r.json()
                assert body["success"] is False and "busy" in body["error"], body
                assert r.headers.get("Retry-After") == "1"
        # and then it serves again
        assert svc.extract({"image": data_uri(page_bytes())}).status_code == 200
    finally:
        st.cleanup([svc])
