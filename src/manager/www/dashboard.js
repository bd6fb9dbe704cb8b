// The dashboard page: polls the manager's /v1/dashboard/state every
// interval (paused while the tab is hidden, so a page nobody looks at costs
// the manager nothing), draws the tables with textContent only (client
// names and model paths come from local clients: never parsed as HTML) and
// three small SVG charts of the last minutes.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const WINDOW_S = 360; // the charts' span, as the manager's ring keeps

  let token = '';
  try {
    token = sessionStorage.getItem('hdm-dashboard-token') || '';
  } catch (e) {
    token = '';
  }
  // http://127.0.0.1:5099/#token=... : taken once, then dropped from the
  // address bar (the fragment never reaches any server).
  function tokenFromAddress() {
    if (!location.hash.startsWith('#token=')) return false;
    token = decodeURIComponent(location.hash.slice(7));
    saveToken();
    history.replaceState(null, '', location.pathname);
    return true;
  }
  tokenFromAddress();

  let samples = [];
  let intervalMs = 2000;
  let timer = null;
  let needHistory = true;
  let busy = false; // a poll is on its way: never two loops

  function saveToken() {
    try {
      sessionStorage.setItem('hdm-dashboard-token', token);
    } catch (e) {
      // private mode: the token lives as long as the page
    }
  }

  class AuthError extends Error {}

  async function get(path) {
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    const r = await fetch(path, { headers, cache: 'no-store' });
    if (r.status === 401) throw new AuthError('token needed');
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || 'HTTP ' + r.status);
    return body;
  }

  // ---- formatting ---------------------------------------------------------
  function bytes(n) {
    if (typeof n !== 'number') return '\u2013';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? n.toFixed(0) : n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2)) + ' ' + units[i];
  }
  function ms(v) {
    if (typeof v !== 'number') return '\u2013';
    return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + ' ms';
  }
  function duration(s) {
    if (typeof s !== 'number') return '\u2013';
    if (s < 60) return s.toFixed(0) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.floor(s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }
  function ago(t, now) {
    if (typeof t !== 'number' || t <= 0) return 'never';
    const d = Math.max(0, now - t);
    return d < 1 ? 'just now' : duration(d) + ' ago';
  }
  function keepAlive(m) {
    if (m.pinned) return 'pinned';
    if (m.keep_alive === null || m.keep_alive === undefined) return 'until memory is needed';
    let s = duration(m.keep_alive);
    if (typeof m.expires_in_seconds === 'number') s += ' (' + duration(m.expires_in_seconds) + ' left)';
    return s;
  }
  function pair(h) {
    if (!h || !h.count) return '\u2013';
    return ms(h.p50) + ' / ' + ms(h.p99);
  }
  function count(v) {
    return typeof v === 'number' ? String(v) : '\u2013';
  }
  function setText(id, text) {
    const el = $(id);
    if (el.textContent !== text) el.textContent = text;
  }

  // Keeps tbody's rows in the order of `items`, one per key, reusing rows.
  function fillRows(tbody, items, keyOf, dataName, cells) {
    const old = new Map();
    for (const tr of Array.from(tbody.rows)) old.set(tr.dataset[dataName], tr);
    items.forEach((item, i) => {
      const key = keyOf(item);
      let tr = old.get(key);
      const values = cells(item);
      if (!tr) {
        tr = document.createElement('tr');
        tr.dataset[dataName] = key;
        for (const c of values) {
          const td = document.createElement('td');
          if (c.cls) td.className = c.cls;
          tr.appendChild(td);
        }
      }
      old.delete(key);
      values.forEach((c, j) => {
        const td = tr.cells[j];
        if (td.textContent !== c.text) td.textContent = c.text;
        if (c.cls !== undefined && td.className !== c.cls) td.className = c.cls;
        if (c.title !== undefined) td.title = c.title;
      });
      if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] || null);
    });
    for (const tr of old.values()) tr.remove();
  }

  // ---- charts -------------------------------------------------------------
  // x spans the samples kept (at least a minute, at most WINDOW_S).
  function drawChart(svg, series, now, span) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    let max = 0;
    for (const s of series) for (const p of s) if (p[1] > max) max = p[1];
    if (!(max > 0)) max = 1;
    series.forEach((s, i) => {
      // A gap (nobody watched, or no job finished) breaks the line.
      let run = [];
      const flush = () => {
        if (run.length) {
          const pl = document.createElementNS(SVG, 'polyline');
          pl.setAttribute('class', 's' + i);
          pl.setAttribute('points', run.join(' '));
          svg.appendChild(pl);
        }
        run = [];
      };
      let lastT = null;
      for (const [t, v] of s) {
        if (v === null || (lastT !== null && t - lastT > 3 * intervalMs / 1000)) flush();
        lastT = t;
        if (v === null) continue;
        const x = 300 - ((now - t) / span) * 300;
        const y = 78 - (v / max) * 74;
        run.push(x.toFixed(1) + ',' + y.toFixed(1));
        if (run.length === 1) run.push((x + 0.5).toFixed(1) + ',' + y.toFixed(1));
      }
      flush();
    });
    svg.dataset.points = String(series.reduce((n, s) => n + s.length, 0));
  }

  function drawCharts(now) {
    const recent = samples.filter((s) => s.t > now - WINDOW_S);
    const span = recent.length ? Math.min(WINDOW_S, Math.max(60, now - recent[0].t)) : 60;
    drawChart($('chart-queue'), [recent.map((s) => [s.t, s.queue])], now, span);
    drawChart($('chart-mem'), [recent.map((s) => [s.t, s.mem_used])], now, span);
    drawChart($('chart-latency'), [
      recent.map((s) => [s.t, s.wait_ms]),
      recent.map((s) => [s.t, s.service_ms]),
    ], now, span);
    const last = recent[recent.length - 1];
    if (last) {
      setText('chart-queue-now', String(last.queue));
      setText('chart-mem-now', bytes(last.mem_used));
      setText('chart-latency-now',
        last.service_ms === null ? 'no jobs' : ms(last.wait_ms) + ' / ' + ms(last.service_ms));
    }
  }

  // ---- the state ----------------------------------------------------------
  function render(doc) {
    const st = doc.status;
    const now = doc.t;
    const dev = st.device || {};
    setText('device-id', (dev.device_id || '\u2013') + (dev.simulated ? ' (simulated)' : ''));
    setText('device-arch', dev.architecture || '\u2013');
    setText('device-fw', dev.fw_version || '\u2013');
    setText('device-temp', typeof dev.temperature_celsius === 'number'
      ? dev.temperature_celsius.toFixed(1) + ' \u00b0C' : 'not reported');
    const problem = dev.identify_error || st.runtime_broken_reason;
    $('device-problem').hidden = !problem;
    setText('device-problem', problem || '');
    const mem = st.memory || {};
    const bar = $('mem-bar');
    bar.max = mem.total_bytes || 1;
    bar.value = mem.used_bytes || 0;
    setText('mem-text', bytes(mem.used_bytes) + ' of ' + bytes(mem.total_bytes));
    setText('queue-depth', count(st.queue_depth));
    const sch = st.scheduler || {};
    setText('sched-running', sch.running ? 'a job' : 'idle');
    setText('uptime', duration(st.uptime_seconds));
    setText('backend', st.backend || '\u2013');

    const models = st.loaded_models || [];
    setText('models-count', String(models.length));
    $('models-empty').hidden = models.length > 0;
    fillRows($('models-body'), models, (m) => m.model_path, 'path', (m) => [
      { text: m.model_path.split('/').pop(), cls: 'path', title: m.model_path },
      { text: m.model_type },
      { text: bytes(m.footprint_bytes) + (m.footprint_estimated ? ' (est.)' : ''), cls: 'num' },
      { text: keepAlive(m) },
      { text: ago(m.last_used, now) },
      { text: count(m.requests), cls: 'num requests' },
      { text: count(m.errors), cls: 'num' },
    ]);

    const reg = st.registry || {};
    setText('c-loads', count(reg.loads));
    setText('c-load-failures', count(reg.load_failures));
    setText('c-unloads', count(reg.unloads));
    setText('c-evict-exhausted', count(reg.evictions_resource_exhausted));
    setText('c-evict-proactive', count(reg.evictions_proactive));
    setText('c-evict-keepalive', count(reg.evictions_keep_alive));
    setText('c-swaps', count(reg.genai_swaps));
    setText('c-resets', count(reg.runtime_resets));
    setText('c-busy', count(sch.busy_rejections));
    setText('c-deadline', count(sch.deadline_expired));
    setText('c-mode', (sch.mode || '\u2013') + ', queue ' + count(sch.max_queue) +
      ' (' + count(sch.max_queue_per_client) + ' per client)');
    const prio = st.queue_by_priority || {};
    setText('c-prio', Object.keys(prio).map((k) => k + ' ' + prio[k]).join(', ') || '\u2013');
    const cap = $('capacity-event');
    cap.hidden = !st.last_capacity_event_reason;
    if (st.last_capacity_event_reason) {
      setText('capacity-event', 'Last capacity event: ' + st.last_capacity_event_reason +
        (st.last_capacity_event_model ? ' (' + st.last_capacity_event_model + ')' : '') +
        ', ' + ago(st.last_capacity_event_at, now));
    }

    const clients = st.clients || [];
    $('clients-empty').hidden = clients.length > 0;
    fillRows($('clients-body'), clients, (c) => c.name, 'client', (c) => [
      { text: c.name },
      { text: count(c.requests), cls: 'num requests' },
      { text: typeof c.rate_per_s === 'number' ? c.rate_per_s.toFixed(2) + '/s' : '\u2013', cls: 'num rate' },
      { text: count(c.queued), cls: 'num' },
      { text: count(c.errors), cls: 'num' },
      { text: pair(c.wait_ms), cls: 'num' },
      { text: pair(c.service_ms), cls: 'num' },
    ]);
    fillRows($('kinds-body'), st.model_types || [], (k) => k.model_type, 'kind', (k) => [
      { text: k.model_type },
      { text: count(k.service_ms && k.service_ms.count), cls: 'num' },
      { text: pair(k.wait_ms), cls: 'num' },
      { text: pair(k.service_ms), cls: 'num' },
    ]);

    const services = doc.services || [];
    $('services-empty').hidden = services.length > 0;
    fillRows($('services-body'), services, (s) => s.name, 'service', (s) => [
      { text: s.name, title: s.url },
      { text: s.state, cls: 'state ' + s.state },
      { text: s.http_status ? String(s.http_status) : '\u2013', cls: 'num' },
      { text: s.checked_at ? ms(s.latency_ms) : '\u2013', cls: 'num' },
      { text: s.detail || '', cls: 'detail' },
      { text: s.checked_at ? ago(s.checked_at, now) : 'checking\u2026' },
    ]);

    if (doc.sample && !samples.some((s) => s.t === doc.sample.t)) samples.push(doc.sample);
    samples = samples.filter((s) => s.t > now - WINDOW_S);
    drawCharts(now);
    setText('updated', new Date(now * 1000).toLocaleTimeString());
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  }

  function setConn(state, text) {
    const el = $('conn');
    el.dataset.state = state;
    setText('conn', text);
  }

  async function poll() {
    if (busy) return;
    busy = true;
    timer = null;
    try {
      if (needHistory) {
        const h = await get('/v1/dashboard/history');
        samples = h.samples || [];
        needHistory = false;
      }
      const doc = await get('/v1/dashboard/state');
      if (typeof doc.interval_ms === 'number' && doc.interval_ms > 0) intervalMs = doc.interval_ms;
      render(doc);
      setConn('live', 'live');
      $('token-form').hidden = true;
    } catch (e) {
      if (e instanceof AuthError) {
        setConn('auth', token ? 'the token was refused' : 'this manager asks for a token');
        $('token-form').hidden = false;
        busy = false;
        return; // resumes when a token is given
      }
      setConn('error', 'cannot reach the manager: ' + e.message);
      needHistory = true;
    }
    busy = false;
    schedule();
  }

  function schedule() {
    if (timer === null && !busy && !document.hidden) timer = setTimeout(poll, intervalMs);
  }

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      setConn('paused', 'paused while hidden');
    } else if (timer === null) {
      needHistory = true; // the manager kept sampling only while watched
      poll();
    }
  });

  window.addEventListener('hashchange', () => {
    if (tokenFromAddress() && timer !== null) {
      clearTimeout(timer);
      timer = null;
      poll();
    } else if (token && timer === null && !busy) {
      poll(); // was waiting for a token
    }
  });

  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token').value.trim();
    saveToken();
    $('token').value = '';
    if (timer !== null) clearTimeout(timer);
    timer = null;
    poll();
  });

  if (!document.hidden) poll();
  else setConn('paused', 'paused while hidden');
})();
