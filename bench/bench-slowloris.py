#!/usr/bin/python3
"""bench-slowloris.py - issue 20 item 2: how long a normal request takes
while 520 stalled connections from 9 loopback addresses (each under the
per-address cap) hold the HTTP layer, compared with an idle service.

hailo-clip on the sim backend answers POST /v1/embed/text; we time N
requests (each on a new connection, as a fresh client would) with no
attack, then again while the attackers hold their connections and keep
re-opening any that the layer closes.  Target: median under attack within
2x of normal (before the fix the requests were not answered at all).

Usage: bench/bench-slowloris.py [--build BUILD_DIR] [--requests N]
"""
import argparse
import os
import socket
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

ATTACKERS = 520
ADDRESSES = 9


def one_request(port):
    body = b'{"text": "a photo of a cat"}'
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"POST /v1/embed/text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    if not data.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("unexpected answer: %r" % data[:120])
    return (time.monotonic() - t0) * 1000.0


def attacker(port, stop, counter):
    """Keeps ATTACKERS stalled connections open, re-opening closed ones."""
    held = []
    i = 0
    while not stop.is_set():
        while len(held) < ATTACKERS and not stop.is_set():
            try:
                s = socket.socket()
                s.bind(("127.0.0.%d" % (2 + i % ADDRESSES), 0))
                s.settimeout(5)
                s.connect(("127.0.0.1", port))
                s.sendall(b"POST /v1/embed/text HTTP/1.1\r\nHost: x\r\nX-Slow: a")
                held.append(s)
                counter[0] += 1
            except OSError:
                pass
            i += 1
        alive = []
        for s in held:  # a byte now and then; drop the ones the server closed
            try:
                s.send(b"a")
                alive.append(s)
            except OSError:
                s.close()
        held = alive
        stop.wait(0.2)
    for s in held:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--requests", type=int, default=50)
    args = ap.parse_args()
    os.environ["HDM_BUILD_DIR"] = os.path.abspath(args.build)
    import hdmtest
    hdmtest.BUILD_DIR = os.environ["HDM_BUILD_DIR"]
    hdmtest.BIN_DIR = os.path.join(hdmtest.BUILD_DIR, "bin")
    hdmtest.MANAGER_BIN = os.path.join(hdmtest.BIN_DIR, "hailo-device-manager")
    st = hdmtest.SimStack(prefix="hdm-bench-slowloris-")
    svc = hdmtest.Service(st, "hailo-clip")
    try:
        st.start_manager()
        svc.start()
        for _ in range(5):
            one_request(svc.port)  # warm the text cache and the connection paths
        normal = [one_request(svc.port) for _ in range(args.requests)]
        stop = threading.Event()
        opened = [0]
        t = threading.Thread(target=attacker, args=(svc.port, stop, opened))
        t.start()
        while opened[0] < ATTACKERS:
            time.sleep(0.05)
        attacked = [one_request(svc.port) for _ in range(args.requests)]
        stop.set()
        t.join()
    finally:
        st.cleanup([svc])
    n50, a50 = statistics.median(normal), statistics.median(attacked)
    print("hailo-clip POST /v1/embed/text (cached text), %d requests each, new connection per "
          "request; attack: %d stalled connections from %d addresses, re-opened when closed "
          "(%d opened in all)." % (args.requests, ATTACKERS, ADDRESSES, opened[0]))
    print("| condition | median | p90 | max |")
    print("|---|---|---|---|")
    for label, xs in (("idle", normal), ("under slowloris", attacked)):
        xs = sorted(xs)
        print("| %s | %.1f ms | %.1f ms | %.1f ms |" % (label, statistics.median(xs),
                                                        xs[int(len(xs) * 0.9) - 1], xs[-1]))
    print("\nunder attack / idle (median): %.2fx (target <= 2x)" % (a50 / n50))


if __name__ == "__main__":
    main()
