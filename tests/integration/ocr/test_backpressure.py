"""Back-pressure on big request bodies in hailo-ocr (the HTTP layer's
max_big_bodies = images.max_concurrent; a request frees its body once its
image is decoded and lets the next one in after detection): many clients
posting big bodies at once are all answered right, a held client that hangs up wedges
nothing, and a body held longer than images.max_wait_ms gets the service's
503 "busy ... try again" with Retry-After.  The bound itself (never more
than N bodies read) is asserted on the layer's counters in
tests/unit/http/test_http_admit.c."""

import json
import os
import socket
import threading

import requests

import hdmtest
from conftest import Ocr, data_uri, page_bytes

PAD = 300 * 1024  # well above the 64 KiB from which a body counts as big


def big_body():
    return {"image": data_uri(page_bytes()), "pad": "x" * PAD}


def strip_perf(body):
    body = dict(body)
    body.pop("performance", None)
    return body


def slow_stack(prefix, infer_ms, images_yaml):
    """A SimStack whose detection takes infer_ms, and hailo-ocr with
    images_yaml under images:."""
    st = hdmtest.SimStack(prefix=prefix, sim_config='{"latency_scale": 1}\n')
    with open(os.path.join(st.models, "ocr", "ocr_det.hef.sim.json"), "w") as f:
        json.dump({"footprint_mb": 90, "load_ms": 0, "infer_ms": infer_ms, "token_ms": 0}, f)
    with open(os.path.join(st.root, "hailo-ocr.yaml")) as f:
        text = f.read()
    cfg = os.path.join(st.root, "ocr-bp.yaml")
    with open(cfg, "w") as f:
        f.write(text.replace("images:\n", "images:\n" + images_yaml, 1)
                .replace("server:\n", "server:\n  threads: 8\n", 1))
    return st, Ocr(st, config=cfg)


def raw_post(port, body_bytes, send_body=True):
    """A POST on a raw socket (headers, then the body unless told not to)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = ("POST /v1/ocr/extract HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body_bytes))
    s.sendall(head.encode())
    if send_body:
        threading.Thread(target=lambda: _send_quietly(s, body_bytes), daemon=True).start()
    return s


def _send_quietly(s, data):
    try:
        s.sendall(data)
    except OSError:
        pass  # the test closed it, or the server answered early


def read_status(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_many_big_bodies_all_answered():
    """Twelve clients post 300 KB bodies while detection takes 50 ms: each
    waits its turn (most of them unread) and gets the same answer."""
    st, svc = slow_stack("hdm-ocr-bp-", 50, "  max_concurrent: 1\n  max_wait_ms: 60000\n")
    try:
        st.start_manager()
        svc.start()
        body = big_body()
        want = strip_perf(svc.extract(body).json())
        assert want["success"] is True and want["regions"], want
        results, lock = [], threading.Lock()

        def client():
            r = requests.post(svc.url + "/v1/ocr/extract", json=body, timeout=120)
            with lock:
                results.append(r)

        threads = [threading.Thread(target=client) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 12
        for r in results:
            assert r.status_code == 200, r.text
            assert strip_perf(r.json()) == want
        assert svc.alive()
    finally:
        st.cleanup([svc])


def test_held_client_hangs_up():
    """Detection takes 400 ms.  A runs; B, C and D are held before their
    bodies (B is read once A's detection is done); C and D hang up (one
    after sending its body, one before).  A and B are answered and the
    service serves on."""
    st, svc = slow_stack("hdm-ocr-bp-gone-", 400,
                         "  max_concurrent: 1\n  max_wait_ms: 60000\n")
    try:
        st.start_manager()
        svc.start()
        payload = json.dumps(big_body()).encode()
        a = raw_post(svc.port, payload)
        b = raw_post(svc.port, payload)
        c = raw_post(svc.port, payload)
        d = raw_post(svc.port, payload, send_body=False)
        c.close()
        d.close()
        assert read_status(a)[0] == 200
        assert read_status(b)[0] == 200
        a.close()
        b.close()
        r = svc.extract(big_body())
        assert r.status_code == 200, r.text
        assert svc.extract({"image": data_uri(page_bytes())}).status_code == 200
        assert svc.alive()
    finally:
        st.cleanup([svc])


def test_held_too_long_is_503():
    """Detection takes 600 ms and images.max_wait_ms is 100: of four big
    bodies at once one is read (N = 1) and the three held ones are told to
    retry (503, Retry-After, the service's JSON) once they have waited
    100 ms, their bodies dropped unkept; the first is served."""
    st, svc = slow_stack("hdm-ocr-bp-busy-", 600, "  max_concurrent: 1\n  max_wait_ms: 100\n")
    try:
        st.start_manager()
        svc.start()
        body = big_body()
        results, lock = [], threading.Lock()

        def client():
            r = requests.post(svc.url + "/v1/ocr/extract", json=body, timeout=120)
            with lock:
                results.append(r)

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes[0] == 200 and codes[-1] == 503, [(r.status_code, r.text) for r in results]
        for r in results:
            if r.status_code == 503:
                got = r.json()
                assert got["success"] is False, got
                assert got["error"].startswith("busy:") and got["error"].endswith("try again"), got
                assert r.headers.get("Retry-After") == "1"
        assert svc.extract(body).status_code == 200
        assert svc.alive()
    finally:
        st.cleanup([svc])
