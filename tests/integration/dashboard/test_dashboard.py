"""
The manager's dashboard in a real browser: the stack on the simulator
(manager + hailo-clip), Debian's chromium headless driven by selenium
(chromium-driver), the page's DOM checked while requests are sent and a
service is stopped; a screenshot is saved in the build's test-results.
Also the status server's side over plain HTTP: content types, caching
headers, 304, confinement, read-only methods and the bearer token.
"""

import json
import os
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import hdmtest  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service as DriverService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
OUT_DIR = os.path.join(hdmtest.BUILD_DIR, "test-results", "dashboard")
TIMEOUT = 120 if hdmtest.manager_wrapped() else 60

CONFIG = """\
dashboard:
  interval_ms: 300
  health_interval_ms: 500
  health_timeout_ms: 500
"""


def start_stack(token=None):
    stack = hdmtest.SimStack(prefix="hdm-dashboard-")
    clip = hdmtest.Service(stack, "hailo-clip")
    ghost_port = hdmtest.free_tcp_port()  # nothing ever listens there
    config = os.path.join(stack.root, "manager.yaml")
    with open(config, "w") as f:
        f.write(CONFIG)
    m = stack.manager
    m.args += ["--config", config]
    m.http_port = hdmtest.free_tcp_port()
    m.env["HAILO_DEVICE_DASHBOARD_SERVICES"] = (
        "hailo-clip=%s/health,ghost=http://127.0.0.1:%d/health" % (clip.url, ghost_port))
    if token:
        m.env["HAILO_DEVICE_HTTP_TOKEN"] = token
    stack.start_manager()
    # The status server comes up on its own thread just after READY.
    m.http_get("/favicon.svg", timeout=TIMEOUT)
    return stack, clip


@pytest.fixture
def stack():
    stack, clip = start_stack()
    try:
        clip.start()
        yield stack, clip
    finally:
        stack.cleanup([clip])


def url(stack, path="/"):
    return "http://127.0.0.1:%d%s" % (stack.manager.http_port, path)


def infer(stack, client, n=1):
    for _ in range(n):
        r = hdmtest.manager_call(stack.socket, {
            "action": "infer", "model_path": stack.vlm_hef, "client_name": client,
            "keep_alive": 600,
            "input_data": {"prompt": "What is on the table?", "max_generated_tokens": 4}},
            timeout=30)
        assert r["status"] == "ok", r


def metric(stack, name):
    text = requests.get(url(stack, "/metrics"), timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("%s not in /metrics" % name)


@pytest.fixture
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1200,1800", "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=DriverService(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def cell(driver, css):
    """Text of the first element matching css, or None."""
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else None


def test_page_shows_models_updates_and_services(stack, browser):
    stack, clip = stack
    # Nobody watches yet: the manager has taken no sample.
    assert metric(stack, "hailo_manager_dashboard_snapshots_total") == 0
    assert metric(stack, "hailo_manager_dashboard_watched") == 0
    infer(stack, "dash-test", 3)

    browser.get(url(stack))
    model_row = '#models-body tr[data-path="%s"]' % stack.vlm_hef
    hdmtest.wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, model_row), TIMEOUT,
                       "the model's row")
    row = browser.find_element(By.CSS_SELECTOR, model_row)
    assert row.find_elements(By.TAG_NAME, "td")[1].text == "vlm"
    assert "GiB" in row.find_elements(By.TAG_NAME, "td")[2].text  # footprint
    assert "left" in row.find_elements(By.TAG_NAME, "td")[3].text  # keep-alive 600 s
    assert cell(browser, "#conn") == "live"
    assert "sim-hailo10h" in cell(browser, "#device-id")
    assert cell(browser, "#device-fw")
    assert "\u00b0C" in cell(browser, "#device-temp")
    assert "GiB of" in cell(browser, "#mem-text")
    assert float(browser.find_element(By.ID, "mem-bar").get_attribute("value")) > 0

    # Numbers follow the requests.
    client_req = '#clients-body tr[data-client="dash-test"] td.requests'
    hdmtest.wait_until(lambda: cell(browser, client_req) == "3", TIMEOUT, "3 requests shown")
    infer(stack, "dash-test", 5)
    hdmtest.wait_until(lambda: cell(browser, client_req) == "8", TIMEOUT, "8 requests shown")
    hdmtest.wait_until(lambda: cell(browser, model_row + " td.requests") == "8", TIMEOUT,
                       "the model's 8 requests")
    # The charts have points, the latency percentiles are filled in.
    hdmtest.wait_until(
        lambda: int(browser.find_element(By.ID, "chart-queue").get_attribute("data-points")) >= 2,
        TIMEOUT, "chart points")
    kinds = browser.find_elements(By.CSS_SELECTOR, "#kinds-body tr")
    assert kinds and " ms / " in kinds[0].text

    # Service health: clip up, the ghost down; clip stopped -> down.
    up = '#services-body tr[data-service="hailo-clip"] td.state'
    hdmtest.wait_until(lambda: cell(browser, up) == "up", TIMEOUT, "hailo-clip up")
    ghost = '#services-body tr[data-service="ghost"] td.state'
    hdmtest.wait_until(lambda: cell(browser, ghost) == "down", TIMEOUT, "ghost down")
    assert "down" in browser.find_element(By.CSS_SELECTOR, ghost).get_attribute("class")
    clip.stop()
    hdmtest.wait_until(lambda: cell(browser, up) == "down", TIMEOUT, "hailo-clip down")
    assert metric(stack, "hailo_manager_dashboard_watched") == 1

    os.makedirs(OUT_DIR, exist_ok=True)
    shot = os.path.join(OUT_DIR, "dashboard.png")
    assert browser.save_screenshot(shot)
    assert os.path.getsize(shot) > 1000

    # The page closed: the sampler stops once its lease ends.
    browser.get("about:blank")
    hdmtest.wait_until(lambda: metric(stack, "hailo_manager_dashboard_watched") == 0,
                       TIMEOUT, "the dashboard unwatched")
    snaps = metric(stack, "hailo_manager_dashboard_snapshots_total")
    rounds = metric(stack, "hailo_manager_dashboard_probe_rounds_total")
    infer(stack, "dash-test", 1)
    # Quiet: counters do not move however long it is quiet (checked after
    # a metrics round trip; nothing time-based is asserted).
    assert metric(stack, "hailo_manager_dashboard_snapshots_total") == snaps
    assert metric(stack, "hailo_manager_dashboard_probe_rounds_total") == rounds


def test_static_files_headers_and_read_only(stack):
    stack, _ = stack
    r = requests.get(url(stack, "/"), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    with open(os.path.join(hdmtest.SOURCE_DIR, "src", "manager", "www", "index.html"), "rb") as f:
        assert r.content == f.read()
    r2 = requests.get(url(stack, "/"), headers={"If-None-Match": etag}, timeout=10)
    assert r2.status_code == 304 and r2.content == b"" and r2.headers["ETag"] == etag
    types = {"/dashboard.js": "text/javascript; charset=utf-8",
             "/dashboard.css": "text/css; charset=utf-8", "/favicon.svg": "image/svg+xml",
             "/index.html": "text/html; charset=utf-8"}
    for path, ctype in types.items():
        r = requests.get(url(stack, path), timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"] == ctype, path
    # HEAD: headers only.
    r = requests.head(url(stack, "/dashboard.js"), timeout=10)
    assert r.status_code == 200 and r.headers["ETag"]
    # Nothing but the list, however spelled.
    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/www/index.html",
                 "/dashboard.js/", "/CMakeLists.txt", "/index.html.bak"):
        r = requests.get(url(stack, path), timeout=10)
        assert r.status_code == 404, path
    # libmicrohttpd decodes %00 and the path ends there: still index.html,
    # and still served as HTML.
    r = requests.get(url(stack, "/index.html%00.js"), timeout=10)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    # Read-only: no method changes anything.
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/", "/v1/dashboard/state", "/v1/device/status"):
            r = requests.request(method, url(stack, path), timeout=10)
            assert r.status_code in (405, 413), (method, path, r.status_code)
    # The documents the page polls.
    st = requests.get(url(stack, "/v1/dashboard/state"), timeout=10)
    assert st.status_code == 200 and st.headers["Cache-Control"] == "no-store"
    doc = st.json()
    assert {"t", "interval_ms", "status", "services", "sample"} <= set(doc)
    assert [s["name"] for s in doc["services"]] == ["hailo-clip", "ghost"]
    h = requests.get(url(stack, "/v1/dashboard/history"), timeout=10).json()
    assert isinstance(h["samples"], list) and h["samples"]


def test_bearer_token():
    stack, clip = start_stack(token="tok-123")
    try:
        # The page's files are public (they hold no data); the data is not.
        assert requests.get(url(stack, "/"), timeout=10).status_code == 200
        for path in ("/v1/dashboard/state", "/v1/dashboard/history", "/v1/device/status",
                     "/metrics"):
            r = requests.get(url(stack, path), timeout=10)
            assert r.status_code == 401, path
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            r = requests.get(url(stack, path), headers={"Authorization": "Bearer nope"},
                             timeout=10)
            assert r.status_code == 401, path
            r = requests.get(url(stack, path), headers={"Authorization": "Bearer tok-123"},
                             timeout=10)
            assert r.status_code == 200, path
        # Nobody was let in: no page watched, no snapshot was built for
        # the refused polls (the accepted one above built some).
        doc = json.loads(requests.get(url(stack, "/v1/dashboard/state"),
                                      headers={"Authorization": "bearer tok-123"},
                                      timeout=10).content)
        assert doc["status"]["status"] == "ok"
    finally:
        stack.cleanup([clip])


def test_token_in_browser(browser):
    stack, clip = start_stack(token="tok-456")
    try:
        browser.get(url(stack))
        hdmtest.wait_until(lambda: cell(browser, "#conn") == "this manager asks for a token",
                           TIMEOUT, "the token form")
        assert browser.find_element(By.ID, "token-form").is_displayed()
        browser.find_element(By.ID, "token").send_keys("tok-456")
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        hdmtest.wait_until(lambda: cell(browser, "#conn") == "live", TIMEOUT, "live with token")
        assert not browser.find_element(By.ID, "token-form").is_displayed()
        # #token=... in the address works too, and leaves the address bar.
        browser.execute_script("sessionStorage.clear()")
        browser.get("about:blank")
        browser.get(url(stack, "/#token=tok-456"))
        hdmtest.wait_until(lambda: cell(browser, "#conn") == "live", TIMEOUT, "live via #token")
        assert "tok-456" not in browser.current_url
    finally:
        stack.cleanup([clip])
