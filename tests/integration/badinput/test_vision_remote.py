"""Issue 20 item 10: remote images (images.allow_remote on) cannot reach
loopback, private or other non-public addresses, redirects included, and
every failed fetch has the same answer (no port-scan oracle).

Local listeners stand in for the network: 127.0.0.2 is allowed through
images.remote_allowed_networks (a "LAN camera"), 127.0.0.3 is not.  Each
listener counts the connections it accepted, so a refusal is shown to
happen before any connection is made."""

import base64
import http.server
import os
import socket
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

MODEL = "qwen2-vl-2b-instruct"
FAILED = "cannot fetch the image URL"


class Listener:
    """An HTTP server on host:free port serving /ok.png and /redirect?to=URL."""

    def __init__(self, host, png):
        outer = self
        self.accepted = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("Location", self.path[len("/redirect?to="):])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def get_request(self):
                conn = super().get_request()
                outer.accepted += 1
                return conn

        self.server = Server((host, 0), Handler)
        self.url = "http://%s:%d" % (host, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def env():
    st = hdmtest.SimStack(prefix="hdm-bad-remote-")
    with open(st.vision_config) as f:
        text = f.read()
    assert "allow_remote: false" in text
    text = text.replace("allow_remote: false", "allow_remote: true\n  fetch_timeout_ms: 5000\n"
                        "  remote_allowed_networks: [127.0.0.2/32]", 1)
    cfg = os.path.join(st.root, "vision-remote.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    svc = hdmtest.Service(st, "hailo-vision", config=cfg)
    png = hdmtest.png_bytes(40, 30)
    lan = Listener("127.0.0.2", png)
    private = Listener("127.0.0.3", png)
    try:
        st.start_manager()
        svc.start()
        yield svc, lan, private
        assert svc.alive(), "hailo-vision died:\n" + svc.log()[-3000:]
        svc.stop()
    finally:
        lan.close()
        private.close()
        st.cleanup([svc])


def ask(svc, url):
    return svc.post("/v1/chat/completions", {"model": MODEL, "max_tokens": 4, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "what is it?"},
                                     {"type": "image_url", "image_url": {"url": url}}]}]})


def refused(svc, url):
    r = ask(svc, url)
    assert r.status_code == 400, r.text
    msg = r.json()["error"]["message"]
    assert msg == "messages[0].content[1]: " + FAILED, msg
    return msg


def test_allowed_network_is_fetched(env):
    svc, lan, _ = env
    r = ask(svc, lan.url + "/ok.png")
    assert r.status_code == 200, r.text
    assert lan.accepted >= 1


def test_loopback_refused_before_connecting(env):
    svc, _, private = env
    before = private.accepted
    port = private.url.rsplit(":", 1)[1]
    refused(svc, "http://127.0.0.1:%s/ok.png" % port)
    refused(svc, private.url + "/ok.png")
    refused(svc, "http://localhost:%s/ok.png" % port)  # a name that resolves to loopback
    assert private.accepted == before


def test_redirect_to_private_refused(env):
    svc, lan, private = env
    before = private.accepted
    refused(svc, lan.url + "/redirect?to=" + private.url + "/ok.png")
    assert private.accepted == before


def test_other_special_addresses_refused(env):
    svc, _, _ = env
    for url in ("http://[::1]:9/x.png", "http://[::ffff:127.0.0.1]:9/x.png",
                "http://10.0.0.1:9/x.png", "http://169.254.169.254/latest/meta-data",
                "http://0.0.0.0:9/x.png", "http://100.64.0.1:9/x.png",
                "http://224.0.0.1:9/x.png", "http://[fd00::1]:9/x.png",
                "http://[fe80::1]:9/x.png"):
        refused(svc, url)


def test_one_answer_for_every_failure(env):
    """A closed port, an open one, a name that does not resolve and an HTTP
    error all read the same."""
    svc, lan, _ = env
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    closed_port = s.getsockname()[1]
    s.close()
    msgs = {refused(svc, "http://127.0.0.2:%d/ok.png" % closed_port),
            refused(svc, "http://no-such-host.invalid/ok.png"),
            refused(svc, lan.url + "/redirect?to=ftp://127.0.0.2/x")}
    assert len(msgs) == 1
    assert "refused" in svc.log()  # the reason is logged for the operator
    data = "data:image/png;base64," + base64.b64encode(hdmtest.png_bytes(8, 8)).decode()
    assert ask(svc, data).status_code == 200
