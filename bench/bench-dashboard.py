#!/usr/bin/python3
"""bench-dashboard.py - issue 21: what the manager's dashboard costs.

A manager on the sim backend with its status server on, the default
dashboard settings (2 s interval, the seven default services probed every
5 s: nothing listens on their ports here, so each probe is a refused
connection).  Its CPU time (utime+stime from /proc) and resident memory are
read over windows of --seconds each:

  1. idle, no page ever opened;
  2. ten pages open: ten clients that load the page's files once, the
     history once, then poll /v1/dashboard/state every interval on a
     keep-alive connection, as dashboard.js does in a browser tab (the
     browsers themselves are left out: their cost is not the manager's);
  3. idle again after the pages closed and the lease ran out.

Targets: windows 1 and 3 show no CPU and the same RSS; window 2 adds less
than 1% of a core.  With --baseline PATH another manager binary (e.g. a
build of main before the dashboard) is measured idle too, for its RSS.

Usage: bench/bench-dashboard.py [--build BUILD_DIR] [--seconds N] [--baseline PATH]
"""
import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

PAGES = 10
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def libs_rss(pid):
    """{shared library path: resident KiB} from /proc/PID/smaps."""
    out, lib = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                lib = parts[5] if len(parts) > 5 and ".so" in parts[5] else None
            elif parts[0] == "Rss:" and lib:
                out[lib] = out.get(lib, 0) + int(parts[1])
    return out


def rss_by_kind(pid):
    """{kind: resident KiB}, kind one of: libraries, program, heap, anonymous
    (thread stacks and malloc arenas), other."""
    out, kind = {}, None
    exe = os.path.realpath("/proc/%d/exe" % pid)
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                name = parts[5] if len(parts) > 5 else ""
                kind = ("program" if name == exe else "libraries" if ".so" in name
                        else "heap" if name == "[heap]" else "anonymous" if not name
                        else "other")
            elif parts[0] == "Rss:" and kind:
                out[kind] = out.get(kind, 0) + int(parts[1])
    return out


def window(pid, seconds):
    """(CPU % of one core, RSS KiB at the end) over `seconds`."""
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_seconds(pid), time.monotonic()
    return 100.0 * (c1 - c0) / (t1 - t0), rss_kib(pid)


def page(port, stop, errors, polls):
    import requests
    base = "http://127.0.0.1:%d" % port
    s = requests.Session()
    try:
        for path in ("/", "/dashboard.css", "/dashboard.js", "/favicon.svg",
                     "/v1/dashboard/history"):
            s.get(base + path, timeout=30).raise_for_status()
        interval = 2.0
        while not stop.is_set():
            r = s.get(base + "/v1/dashboard/state", timeout=30)
            r.raise_for_status()
            interval = r.json().get("interval_ms", 2000) / 1000.0
            polls[0] += 1
            stop.wait(interval)
    except Exception as e:  # reported in the table
        errors.append(repr(e))


def metric(port, name):
    import requests
    for line in requests.get("http://127.0.0.1:%d/metrics" % port, timeout=30).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def run_manager(hdmtest, binary, seconds):
    """Idle window of a manager binary with its status server on."""
    m = hdmtest.Manager(http=True)
    old = hdmtest.MANAGER_BIN
    hdmtest.MANAGER_BIN = binary
    try:
        m.start(timeout=30)
        m.http_get("/v1/device/status", timeout=30)  # as for ours: libmicrohttpd loaded
        time.sleep(1.0)  # past start-up
        return window(m.proc.pid, seconds)
    finally:
        hdmtest.MANAGER_BIN = old
        m.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--baseline", help="another hailo-device-manager to measure idle")
    a = ap.parse_args()
    os.environ["HDM_BUILD_DIR"] = os.path.abspath(a.build)
    import hdmtest

    rows = []
    m = hdmtest.Manager(http=True)
    try:
        m.start(timeout=30)
        pid, port = m.proc.pid, m.http_port
        # The status server answers (libmicrohttpd loaded, as after any
        # scrape): the idle baseline is a manager someone has asked once.
        m.http_get("/v1/device/status", timeout=30)
        time.sleep(1.0)
        cpu, rss = window(pid, a.seconds)
        rows.append(("idle, no page ever opened", cpu, rss))
        libs_before = libs_rss(pid)
        kinds_before = rss_by_kind(pid)

        stop, errors, polls = threading.Event(), [], [0]
        threads = [threading.Thread(target=page, args=(port, stop, errors, polls))
                   for _ in range(PAGES)]
        for t in threads:
            t.start()
        time.sleep(3.0)  # every page loaded, the sampler running
        cpu2, rss2 = window(pid, a.seconds)
        snaps = metric(port, "hailo_manager_dashboard_snapshots_total")
        rounds = metric(port, "hailo_manager_dashboard_probe_rounds_total")
        stop.set()
        for t in threads:
            t.join()
        rows.append(("%d pages open (%d polls)" % (PAGES, polls[0]), cpu2, rss2))

        deadline = time.monotonic() + 60
        while metric(port, "hailo_manager_dashboard_watched") != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the dashboard stayed watched after the pages closed")
            time.sleep(0.5)
        snaps_closed = metric(port, "hailo_manager_dashboard_snapshots_total")
        cpu3, rss3 = window(pid, a.seconds)
        snaps_after = metric(port, "hailo_manager_dashboard_snapshots_total")
        rows.append(("idle again, pages closed", cpu3, rss3))
        new_libs = {k: v for k, v in libs_rss(pid).items() if k not in libs_before}
        kinds_after = rss_by_kind(pid)
    finally:
        m.cleanup()

    if a.baseline:
        cpu_b, rss_b = run_manager(hdmtest, a.baseline, a.seconds)
        rows.append(("baseline %s, idle" % a.baseline, cpu_b, rss_b))

    print("### Dashboard cost (bench-dashboard.py, %.0f s windows)" % a.seconds)
    print()
    print("| manager | CPU (% of one core) | RSS |")
    print("|---|---|---|")
    for name, cpu, rss in rows:
        print("| %s | %.2f %% | %.1f MiB |" % (name, cpu, rss / 1024.0))
    print()
    print("Added CPU with %d pages: %.2f %% of a core (target < 1 %%); snapshots built while "
          "watched: %d, health probe rounds: %d; snapshots while closed: %d."
          % (PAGES, cpu2 - cpu, snaps, rounds, snaps_after - snaps_closed))
    print()
    print("Shared libraries loaded since the first page (they would stay loaded): "
          "%d, %.1f MiB resident (%s)."
          % (len(new_libs), sum(new_libs.values()) / 1024.0,
             ", ".join(sorted(os.path.basename(k).split(".so")[0] for k in new_libs)) or "none"))
    print()
    print("Resident memory after the pages closed, against before the first page: %s."
          % ", ".join("%s %+.0f KiB" % (k, kinds_after.get(k, 0) - kinds_before.get(k, 0))
                      for k in sorted(set(kinds_before) | set(kinds_after))))
    if errors:
        print()
        print("Page errors: %s" % "; ".join(errors[:5]))
    return 1 if errors or snaps_after != snaps_closed else 0


if __name__ == "__main__":
    sys.exit(main())
