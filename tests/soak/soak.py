#!/usr/bin/python3
"""soak.py - hours (or a minute) of mixed traffic against the whole stack.

    soak.py --duration SECONDS [--clients N] [--restart-every SECONDS]

Starts a device manager (sim backend), hailo-clip and hailo-vision on
temporary sockets and ports (tools/make-sim-assets --fast), then runs N
client threads with a random mix of: raw protocol clients of the manager
(v1 and binary frames, pipelined requests, hang-ups right after sending),
CLIP text and image embeddings and classifications, vision chat completions
(plain and streamed, some abandoned mid-stream) and HTTP clients that hang
up half-way through a request.  Every restart_every seconds the manager is
killed (alternately SIGKILL and SIGTERM) and started again; the services
must recover by themselves.

Every second it samples VmRSS (/proc/PID/status) and the number of open
fds (/proc/PID/fd) of every process.  It fails (exit 1) on
  - a lost answer (an exception or hang instead of a response) or a
    mismatched one (wrong request_id, a CLIP embedding that differs for the
    same text, a malformed result);
  - any 5xx whose request did not overlap a restart window (from the kill
    until both services are ready again, plus a grace second);
  - RSS growth beyond max(--rss-slack-mb, --rss-slack-pct) or fd growth
    beyond --fd-slack between the warm-up and the end (services), or within
    each manager run long enough to judge;
  - a process that died, or a manager that did not exit 0 on SIGTERM.
and prints a summary: requests, outcomes and errors by kind, restarts,
RSS/fd drift per process.
"""

import argparse
import base64
import collections
import json
import os
import random
import signal
import socket
import statistics
import sys
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import hdmtest  # noqa: E402

MODEL = "qwen2-vl-2b-instruct"
WORDS = ("a photo of a cat dog car bird horse tree flower house beach sea mountain sky "
         "red blue green small big happy").split()
HTTP_TIMEOUT = 60


def sanitized(path):
    """True when the program was built with AddressSanitizer: its allocator
    keeps freed memory in a quarantine (up to 256 MiB), so RSS says nothing
    about leaks there (LeakSanitizer reports them at exit instead)."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def proc_sample(pid):
    """(rss_kib, n_fds) of a live process, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        return rss, len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, StopIteration, ValueError):
        return None


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng_seed = args.seed
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = collections.Counter()      # (kind, outcome) -> n
        self.failures = []                       # contract violations
        self.fivexx = []                         # (t0, t1, kind, status, text)
        self.windows = []                        # [start, end] of restart windows
        self.samples = collections.defaultdict(list)   # name -> [(t, rss, fds)]
        self.clip_seen = {}                      # text -> embedding head
        self.restarts = collections.Counter()
        self.t_start = time.monotonic()
        self.asan = sanitized(hdmtest.MANAGER_BIN)

    # ---- bookkeeping -------------------------------------------------------
    def note(self, kind, outcome, t0=None, problem=None, status=None, text=""):
        t1 = time.monotonic()
        with self.lock:
            self.counts[(kind, outcome)] += 1
            if problem:
                self.failures.append("%7.2fs %s: %s" % (t1 - self.t_start, kind, problem))
            if status is not None and status >= 500:
                self.fivexx.append((t0 or t1, t1, kind, status, text[:200]))

    def fail(self, msg):
        with self.lock:
            self.failures.append("%7.2fs %s" % (time.monotonic() - self.t_start, msg))

    # ---- the stack ---------------------------------------------------------
    def start_stack(self):
        self.st = hdmtest.SimStack(prefix="hdm-soak-")
        with open(self.st.clip_config) as f:
            text = f.read()
        # The cache must saturate during warm-up: fewer entries than texts.
        text = text.replace("cache_max_entries: 1000", "cache_max_entries: 64")
        with open(self.st.clip_config, "w") as f:
            f.write(text)
        self.st.start_manager()
        self.clip = hdmtest.Service(self.st, "hailo-clip")
        self.vision = hdmtest.Service(self.st, "hailo-vision")
        self.clip.start()
        self.vision.start()
        self.png = base64.b64encode(hdmtest.png_bytes(48, 32, (200, 40, 90))).decode()
        m = self.st.manager
        self.depth_model = m.make_model("soak-depth.hef", input_height=8, input_width=8,
                                        footprint_mb=100)

    # ---- traffic ----------------------------------------------------------
    def manager_client(self, rng):
        """Pipelined requests on one connection, v1 or binary; sometimes a
        hang-up right after sending."""
        binary = rng.random() < 0.5
        n = rng.randint(1, 4)
        kind = "manager-binary" if binary else "manager-v1"
        t0 = time.monotonic()
        try:
            c = hdmtest.Client(self.st.socket, timeout=HTTP_TIMEOUT)
        except OSError as e:
            self.note(kind, "connect-refused" if self.in_window(t0, t0) else "connect-error",
                      t0, None if self.in_window(t0, time.monotonic()) else
                      "cannot connect outside a restart window: %r" % e)
            return
        with c:
            ids = []
            for i in range(n):
                rid = "%s-%d-%d" % (kind, threading.get_ident() % 10000, rng.randrange(10 ** 9))
                ids.append(rid)
                req = {"action": "infer", "model_path": self.depth_model, "model_type": "depth",
                       "request_id": rid, "client_name": "soak"}
                if binary:
                    req["input_data"] = {"input": hdmtest.tensor_ref("uint8", [8, 8, 3], 0)}
                    c.send(req, binary=True, attachments=[hdmtest.tensor_bytes("uint8",
                                                                                [8, 8, 3])])
                else:
                    req["input_data"] = {"input": hdmtest.tensor("uint8", [8, 8, 3])}
                    c.send(req)
            if rng.random() < 0.1:
                self.note(kind, "hung-up")
                return
            got = set()
            for _ in range(n):
                try:
                    r = c.recv(HTTP_TIMEOUT)
                except (hdmtest.ConnectionClosed, OSError) as e:
                    t1 = time.monotonic()
                    if self.in_window(t0, t1):
                        self.note(kind, "closed-by-restart")
                    else:
                        self.note(kind, "lost", t0, "answer lost: %r" % e)
                    return
                rid = r.get("request_id")
                if rid not in ids or rid in got:
                    self.note(kind, "mismatch", t0, "unexpected request_id %r" % rid)
                    continue
                got.add(rid)
                if r.get("status") == "ok":
                    res = r.get("result")
                    t = res if isinstance(res, dict) else (res or [None])[0]
                    if not isinstance(t, dict) or t.get("dtype") != "float32":
                        self.note(kind, "bad-result", t0, "malformed result %r" % (r,))
                    else:
                        self.note(kind, "ok")
                else:
                    code = r.get("code")
                    excused = code in ("unavailable", "device_error", "busy", "cancelled") and \
                        self.in_window(t0, time.monotonic())
                    self.note(kind, "error:%s" % code, t0,
                              None if excused or code == "busy" else "error answer %r" % (r,))

    def clip_client(self, rng):
        t0 = time.monotonic()
        roll = rng.random()
        try:
            if roll < 0.05:
                # an HTTP client that hangs up before reading its answer.  (One
                # that hangs up half-way through the body is only noticed at
                # the HTTP layer's idle timeout, 60 s: see docs/SECURITY.md.)
                body = json.dumps({"text": rng.choice(WORDS)}).encode()
                s = socket.create_connection(("127.0.0.1", self.clip.port), timeout=5)
                s.sendall(b"POST /v1/embed/text HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          b"application/json\r\nContent-Length: %d\r\n\r\n%s" %
                          (len(body), body))
                s.close()
                self.note("clip-hangup", "hung-up")
                return
            if roll < 0.55:
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
                r = self.clip.post("/v1/embed/text", {"text": text}, timeout=HTTP_TIMEOUT)
                kind = "clip-text"
                if r.status_code == 200:
                    emb = r.json()["embedding"]
                    head = tuple(round(x, 4) for x in emb[:8])
                    with self.lock:
                        prev = self.clip_seen.setdefault(text, head)
                    if prev != head or len(emb) != 512:
                        self.note(kind, "mismatch", t0, "embedding of %r changed" % text)
                        return
            elif roll < 0.8:
                r = self.clip.post("/v1/embed/image", {"image": self.png}, timeout=HTTP_TIMEOUT)
                kind = "clip-image"
            else:
                prompts = rng.sample(WORDS, 3)
                r = self.clip.post("/v1/classify", {"image": self.png, "prompts": prompts,
                                                    "top_k": 2}, timeout=HTTP_TIMEOUT)
                kind = "clip-classify"
                if r.status_code == 200 and len(r.json()["classifications"]) != 2:
                    self.note(kind, "mismatch", t0, "classify answered %s" % r.text[:200])
                    return
            self.http_outcome(kind, r, t0)
        except (requests.RequestException, OSError, ValueError) as e:
            self.note("clip", "lost", t0, "no answer: %r" % e)

    def vision_client(self, rng):
        t0 = time.monotonic()
        stream = rng.random() < 0.5
        kind = "vision-stream" if stream else "vision"
        body = {"model": MODEL, "max_tokens": rng.randint(2, 12), "stream": stream,
                "messages": [{"role": "user", "content": [
                    {"type": "text", "text": "describe it"},
                    {"type": "image_url",
                     "image_url": {"url": "data:image/png;base64," + self.png}}]}]}
        try:
            r = self.vision.post("/v1/chat/completions", body, timeout=HTTP_TIMEOUT)
            if not stream or r.status_code != 200:
                if r.status_code == 200 and not r.json()["choices"][0]["message"]["content"]:
                    self.note(kind, "mismatch", t0, "empty completion")
                    return
                self.http_outcome(kind, r, t0)
                return
            abandon = rng.random() < 0.2
            last = None
            for line in r.iter_lines(decode_unicode=True):
                if line:
                    last = line
                    if abandon:
                        r.close()
                        self.note(kind, "abandoned")
                        return
            if last == "data: [DONE]":
                self.note(kind, "ok")
            elif last and last.startswith("data: ") and "error" in json.loads(last[6:]):
                excused = self.in_window(t0, time.monotonic())
                self.note(kind, "stream-error", t0, None if excused else
                          "stream error outside a restart window: %s" % last[:200])
            else:
                self.note(kind, "cut", t0, "stream ended without [DONE]: %r" % last)
        except (requests.RequestException, OSError, ValueError) as e:
            self.note(kind, "lost", t0, "no answer: %r" % e)

    def http_outcome(self, kind, r, t0):
        if r.status_code == 200:
            self.note(kind, "ok")
            return
        try:
            r.json()
        except ValueError:
            self.note(kind, "bad-body", t0, "%d without a JSON body" % r.status_code)
            return
        if r.status_code >= 500:
            self.note(kind, "http-%d" % r.status_code, t0, status=r.status_code, text=r.text)
        else:
            self.note(kind, "http-%d" % r.status_code, t0, "unexpected %d: %s" %
                      (r.status_code, r.text[:200]))

    def client(self, i):
        rng = random.Random(self.rng_seed * 1000 + i)
        while not self.stop.is_set():
            roll = rng.random()
            if roll < 0.35:
                self.manager_client(rng)
            elif roll < 0.75:
                self.clip_client(rng)
            else:
                self.vision_client(rng)

    # ---- restarts and sampling ----------------------------------------------
    def in_window(self, t0, t1):
        with self.lock:
            return any(t0 <= w[1] and t1 >= w[0] for w in self.windows)

    def restart_manager(self, n):
        sig = signal.SIGKILL if n % 2 == 0 else signal.SIGTERM
        with self.lock:
            w = [time.monotonic() - 0.5, float("inf")]
            self.windows.append(w)
        m = self.st.manager
        pid = m.proc.pid
        m.proc.send_signal(sig)
        rc = m.proc.wait(30)
        if sig == signal.SIGTERM and rc != 0:
            self.fail("manager pid %d exited %s on SIGTERM" % (pid, rc))
        self.restarts[signal.Signals(sig).name] += 1
        time.sleep(0.5)
        self.st.start_manager()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (self.clip.ready() and self.vision.ready()):
            time.sleep(0.05)
        if not (self.clip.ready() and self.vision.ready()):
            self.fail("services did not recover within 30 s of the manager restart")
        with self.lock:
            w[1] = time.monotonic() + 1.0

    def sample(self):
        now = time.monotonic()
        procs = {"hailo-clip": self.clip.proc.pid, "hailo-vision": self.vision.proc.pid}
        mp = self.st.manager.proc
        if mp is not None and mp.poll() is None:
            procs["manager[%d]" % mp.pid] = mp.pid
        for name, pid in procs.items():
            s = proc_sample(pid)
            if s:
                self.samples[name].append((now, s[0], s[1]))

    def drift(self, name, series, warm_until):
        """(rss growth KiB, fd growth, rss0, fds0, n) over the warmed part, or None."""
        warm = [x for x in series if x[0] >= warm_until]
        if len(warm) < 8:
            return None
        k = max(3, len(warm) // 5)
        rss0 = statistics.median(x[1] for x in warm[:k])
        rss1 = statistics.median(x[1] for x in warm[-k:])
        fd0 = statistics.median(x[2] for x in warm[:k])
        fd1 = statistics.median(x[2] for x in warm[-k:])
        return rss1 - rss0, fd1 - fd0, rss0, fd0, len(warm)

    # ---- main --------------------------------------------------------------
    def run(self):
        a = self.args
        self.start_stack()
        self.t_start = time.monotonic()
        end = self.t_start + a.duration
        warm_until = self.t_start + a.warmup
        threads = [threading.Thread(target=self.client, args=(i,), daemon=True)
                   for i in range(a.clients)]
        for t in threads:
            t.start()
        next_restart = self.t_start + a.restart_every
        n_restart = 0
        while time.monotonic() < end:
            self.sample()
            if a.restart_every > 0 and time.monotonic() >= next_restart and \
                    end - time.monotonic() > a.restart_every / 2:
                self.restart_manager(n_restart)
                n_restart += 1
                next_restart = time.monotonic() + a.restart_every
            for svc in (self.clip, self.vision):
                if not svc.alive():
                    self.fail("%s died:\n%s" % (svc.name, svc.log()[-2000:]))
                    self.stop.set()
                    end = 0
            time.sleep(1.0)
        self.stop.set()
        for t in threads:
            t.join(HTTP_TIMEOUT + 10)
            if t.is_alive():
                self.fail("a client thread hung")
        self.sample()
        return self.report(warm_until)

    def report(self, warm_until):
        a = self.args
        for t0, t1, kind, status, text in self.fivexx:
            if not self.in_window(t0, t1):
                self.failures.append("%7.2fs %s: %d outside a restart window: %s" %
                                     (t1 - self.t_start, kind, status, text))
        total = sum(self.counts.values())
        print("soak: %.0f s, %d clients, %d requests, %d manager restarts (%s)" %
              (time.monotonic() - self.t_start, a.clients, total, sum(self.restarts.values()),
               ", ".join("%s %d" % kv for kv in sorted(self.restarts.items()))))
        by_kind = collections.defaultdict(dict)
        for (kind, outcome), n in sorted(self.counts.items()):
            by_kind[kind][outcome] = n
        for kind, outs in sorted(by_kind.items()):
            print("  %-16s %s" % (kind, ", ".join("%s %d" % kv for kv in sorted(outs.items()))))
        errors = collections.Counter()
        for (kind, outcome), n in self.counts.items():
            if outcome not in ("ok", "hung-up", "abandoned"):
                errors[outcome] += n
        print("  errors by kind: %s" % (", ".join("%s %d" % kv for kv in sorted(errors.items()))
                                         or "none"))
        seen = collections.Counter((k, st, txt[:120]) for _, _, k, st, txt in self.fivexx)
        for (k, st, txt), n in sorted(seen.items())[:8]:
            print("  5xx %s %d x%d: %s" % (k, st, n, txt))
        print("  resources after %.0f s warm-up (RSS KiB, fds; median of first vs last fifth):" %
              a.warmup)
        judged_manager = False
        for name, series in sorted(self.samples.items()):
            if name.startswith("manager["):
                start = series[0][0] + a.manager_warmup
                d = self.drift(name, series, start)
            else:
                d = self.drift(name, series, warm_until)
            if d is None:
                continue
            drss, dfd, rss0, fd0, n = d
            limit = max(a.rss_slack_mb * 1024, rss0 * a.rss_slack_pct / 100.0)
            verdict = "ok"
            if self.asan:
                verdict = "ok (ASan build: RSS not judged)"
            elif drss > limit:
                verdict = "RSS GROWTH"
                self.failures.append("%s: RSS grew %+d KiB (limit %d)" % (name, drss, limit))
            if dfd > a.fd_slack:
                verdict = "FD GROWTH"
                self.failures.append("%s: fds grew %+d (limit %d)" % (name, dfd, a.fd_slack))
            judged_manager |= name.startswith("manager[")
            print("    %-22s rss %7d KiB %+6d KiB   fds %3d %+3d   (%d samples) %s" %
                  (name, rss0, drss, fd0, dfd, n, verdict))
        if not judged_manager:
            print("    (no manager run was long enough to judge its drift)")
        if self.failures:
            print("FAILED: %d problems" % len(self.failures))
            for f in self.failures[:40]:
                print("  " + f)
        else:
            print("PASSED")
        return 1 if self.failures else 0

    def cleanup(self):
        svcs = [s for s in (getattr(self, "clip", None), getattr(self, "vision", None)) if s]
        try:
            for s in svcs:
                rc = s.stop(check=False)
                if rc != 0:
                    self.failures.append("%s exited %s on SIGTERM:\n%s" %
                                         (s.name, rc, s.log()[-2000:]))
            self.st.cleanup()
        except AssertionError as e:
            self.failures.append(str(e)[:4000])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--restart-every", type=float, default=20)
    p.add_argument("--warmup", type=float, default=None,
                   help="seconds before resource drift counts (default: a quarter, 10..120)")
    p.add_argument("--manager-warmup", type=float, default=4)
    p.add_argument("--rss-slack-mb", type=float, default=8)
    p.add_argument("--rss-slack-pct", type=float, default=10)
    p.add_argument("--fd-slack", type=int, default=6)
    p.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    a = p.parse_args()
    if a.warmup is None:
        a.warmup = min(120.0, max(10.0, a.duration / 4))
    print("soak: seed %d" % a.seed)
    s = Soak(a)
    rc = 1
    try:
        rc = s.run()
    finally:
        n = len(s.failures)
        s.cleanup()
        if len(s.failures) > n:
            print("FAILED at shutdown:")
            for f in s.failures[n:]:
                print("  " + f)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
