"""16 concurrent clients mixing every endpoint: every answer right and
consistent with the same request made alone."""

import threading

from conftest import b64

PROMPTS = ["a photo of a cat", "a photo of a dog", "a red square", "a blue car", "a tree"]
CLIENTS = 16
ROUNDS = 12


def test_sixteen_clients(clip, stack):
    images = [b64(stack["red"]), b64(stack["blue"]), b64(stack["gradient"])]
    texts = [f"a photo of a {w}" for w in ("cat", "dog", "bird", "horse", "car", "tree")]
    # references, one request at a time
    ref_img = [clip.post("/v1/embed/image", {"image": i}).json()["embedding"] for i in images]
    ref_txt = [clip.post("/v1/embed/text", {"text": t}).json()["embedding"] for t in texts]
    ref_cls = [clip.post("/v1/classify", {"image": i, "prompts": PROMPTS}).json()
               ["classifications"] for i in images]

    failures = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(n):
        import requests
        s = requests.Session()
        try:
            barrier.wait(timeout=30)
            for k in range(ROUNDS):
                kind = (n + k) % 3
                if kind == 0:
                    i = (n + k) % len(images)
                    r = s.post(clip.url + "/v1/embed/image", json={"image": images[i]}, timeout=60)
                    ok = r.status_code == 200 and r.json()["embedding"] == ref_img[i]
                elif kind == 1:
                    t = (n * 5 + k) % len(texts)
                    r = s.post(clip.url + "/v1/embed/text", json={"text": texts[t]}, timeout=60)
                    ok = r.status_code == 200 and r.json()["embedding"] == ref_txt[t]
                else:
                    i = (n + 2 * k) % len(images)
                    r = s.post(clip.url + "/v1/classify",
                               json={"image": images[i], "prompts": PROMPTS}, timeout=60)
                    ok = r.status_code == 200 and r.json()["classifications"] == ref_cls[i]
                if not ok:
                    with lock:
                        failures.append((n, k, r.status_code, r.text[:300]))
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                failures.append((n, "exception", repr(e)))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert not failures, failures[:5]
    h = clip.health().json()
    assert h["ready"] is True
    assert h["text_cache"]["hits"] > 0


def test_concurrent_bad_and_good(clip, stack):
    """Bad requests in the crowd do not disturb good ones."""
    img = b64(stack["red"])
    results = []
    lock = threading.Lock()

    def client(n):
        import requests
        for k in range(6):
            if (n + k) % 2:
                r = requests.post(clip.url + "/v1/classify", json={"image": "@@@", "prompts": ["a"]},
                                  timeout=60)
                want = 400
            else:
                r = requests.post(clip.url + "/v1/classify", json={"image": img, "prompts": PROMPTS},
                                  timeout=60)
                want = 200
            with lock:
                results.append((want, r.status_code))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == CLIENTS * 6
    assert all(w == got for w, got in results), [x for x in results if x[0] != x[1]][:5]
