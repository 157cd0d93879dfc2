// Pushd console: the page's script (served from the binary with the page;
// no build step). Every request goes to location.origin: a page opened as
// http://user:pass@host/console has the credentials in its base address,
// and browsers refuse fetch() for addresses that carry credentials.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var state = {
    auth: null,        // the Authorization header, or null: the browser's own (after /console?basic)
    apps: [], operator: false, nodeID: '',
    app: '', view: 'overview',
    paused: false, held: [], rates: {}, skipped: 0,
    stream: null,      // AbortController of the event stream
    timers: [], charts: {},
  };

  // ---- requests ----
  // The page's own requests are marked, so that a 401 comes without a
  // challenge and the browser leaves the login to the page's form. Opened
  // as /console?basic, the page leaves it to the browser: the challenge
  // lets it send (again) the credentials it keeps.
  var browserLogin = new URLSearchParams(location.search).has('basic');
  function api(path, opts) {
    opts = opts || {};
    var headers = {};
    if (!browserLogin || state.auth) headers['X-Pushd-Console'] = '1';
    if (state.auth) headers.Authorization = state.auth;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(location.origin + path, { method: opts.method || 'GET', headers: headers, signal: opts.signal,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined, cache: 'no-store' });
  }
  function json(path, opts) {
    return api(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { var e = new Error(j.error || ('HTTP ' + r.status)); e.status = r.status; throw e; }
        j._status = r.status;
        return j;
      });
    });
  }
  function appQuery(extra) { return '?app=' + encodeURIComponent(state.app) + (extra || ''); }
  function basic(user, pass) {
    var bytes = new TextEncoder().encode(user + ':' + pass), s = '';
    bytes.forEach(function (b) { s += String.fromCharCode(b); });
    return 'Basic ' + btoa(s);
  }

  // ---- small DOM helpers ----
  function text(el, s) { el.textContent = s; }
  function cell(tr, content, cls) {
    var td = document.createElement('td');
    if (content instanceof Node) td.appendChild(content); else td.textContent = content == null ? '' : String(content);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function badge(label, cls) {
    var b = document.createElement('span');
    b.className = 'badge ' + (cls || label);
    b.textContent = label;
    return b;
  }
  function channelCell(name, isInternal) {
    var f = document.createDocumentFragment();
    f.appendChild(document.createTextNode(name || ''));
    if (isInternal) f.appendChild(badge('internal'));
    return f;
  }
  function ago(ms) {
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ' + Math.floor(s % 3600 / 60) + ' min ago';
  }

  // ---- login ----
  function showLogin(message) {
    stopAll();
    $('login-view').hidden = false;
    $('nav').hidden = true;
    $('app-label').hidden = true;
    $('logout').hidden = true;
    document.querySelectorAll('.view').forEach(function (v) { v.hidden = true; });
    text($('who'), '');
    text($('status'), 'logged out');
    text($('login-error'), message || '');
  }
  function tryLogin(auth, failure) {
    state.auth = auth;
    return json('/console/api/apps').then(start, function (e) {
      state.auth = null;
      if (e.status === 401) showLogin(failure);
      else if (e.status === 404) showLogin('The console is off on this server: set console_password or console_with_secret.');
      else showLogin('Cannot reach the server: ' + e.message);
    });
  }
  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    text($('login-error'), '');
    tryLogin(basic($('login-user').value, $('login-pass').value), 'Wrong user or password.');
  });
  $('logout').addEventListener('click', function () { state.auth = null; $('login-pass').value = ''; showLogin(''); });

  function start(j) {
    state.apps = j.apps; state.operator = j.operator; state.nodeID = j.node_id;
    $('login-view').hidden = true;
    $('nav').hidden = false;
    $('app-label').hidden = false;
    $('logout').hidden = !state.auth;
    text($('node'), 'node ' + j.node + ' (' + j.node_id + ')');
    text($('who'), j.operator ? 'operator' : 'app ' + j.apps.join(', '));
    fillApps(j.apps);
    document.querySelectorAll('figure.server').forEach(function (f) { f.classList.toggle('off', !j.operator); });
    text($('graphs-note'), j.operator ? '' : '(the server\u2019s API and webhook graphs are for the console password)');
    show(state.view);
    watch();
    state.timers.push(setInterval(tick, 1000));
    tick();
  }
  function fillApps(keys) {
    var sel = $('app'), have = {};
    [].forEach.call(sel.options, function (o) { have[o.value] = true; });
    keys.forEach(function (k) {
      if (have[k]) return;
      var o = document.createElement('option'); o.value = o.textContent = k; sel.appendChild(o);
    });
    if (!state.app) state.app = sel.value;
  }
  $('app').addEventListener('change', function () {
    state.app = $('app').value; state.rates = {};
    $('events').innerHTML = ''; state.held = [];
    watch(); tick(true);
  });
  function stopAll() {
    state.timers.forEach(clearInterval); state.timers = [];
    if (state.stream) { state.stream.abort(); state.stream = null; }
  }

  // ---- views ----
  function show(view) {
    state.view = view;
    document.querySelectorAll('nav button').forEach(function (b) { b.classList.toggle('on', b.dataset.view === view); });
    document.querySelectorAll('.view').forEach(function (v) { v.hidden = v.id !== 'view-' + view; });
    if (view === 'overview') { ensureCharts(); resizeCharts(); }
    tick(true);
  }
  document.querySelectorAll('nav button').forEach(function (b) {
    b.addEventListener('click', function () { show(b.dataset.view); });
  });
  var ticks = 0;
  function tick(now) {
    if (!state.app) return;
    ticks++;
    if (state.view === 'overview') loadSeries();
    if ((state.view === 'channels' || state.view === 'connections') && (now || ticks % 2 === 0)) loadStats();
  }

  // ---- graphs ----
  var chartDefs = {
    connections: [['connections', 'connections', '#2f6fdf']],
    subscriptions: [['subscriptions', 'subscriptions', '#7b3fd6']],
    messages: [['messages_in', 'in', '#1e8a5a'], ['messages_out', 'out', '#d97a00']],
    api: [['api_requests', 'requests', '#2f6fdf'], ['api_errors', 'errors', '#c62828']],
    queue: [['webhook_queue', 'queued', '#7a4b00']],
    webhooks: [['webhooks_sent', 'sent', '#1e8a5a'], ['webhook_failures', 'failed', '#c62828']],
  };
  function ensureCharts() {
    if (typeof uPlot === 'undefined') return;
    document.querySelectorAll('figure[data-chart]').forEach(function (fig) {
      var name = fig.dataset.chart;
      if (state.charts[name] || fig.classList.contains('off')) return;
      var plot = fig.querySelector('.plot');
      var series = [{}].concat(chartDefs[name].map(function (d) {
        return { label: d[1], stroke: d[2], width: 2, spanGaps: false, points: { show: false } };
      }));
      var empty = [[]].concat(chartDefs[name].map(function () { return []; }));
      state.charts[name] = new uPlot({ width: Math.max(300, plot.clientWidth), height: 150, series: series,
        legend: { show: false }, scales: { y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
        axes: [{}, { size: 50 }] }, empty, plot);
    });
  }
  function resizeCharts() {
    Object.keys(state.charts).forEach(function (name) {
      var plot = document.querySelector('figure[data-chart="' + name + '"] .plot');
      if (plot.clientWidth) state.charts[name].setSize({ width: plot.clientWidth, height: 150 });
    });
  }
  window.addEventListener('resize', resizeCharts);
  function lastValue(col) {
    for (var i = (col || []).length - 1; i >= 0; i--) if (col[i] !== null) return col[i];
    return null;
  }
  // from is where the graphs start: the first second any node reported,
  // but at least a minute back (a young server's graphs are not squeezed
  // into the right edge of five minutes).
  function firstReported(s) {
    var col = s.connections || [], i = 0;
    while (i < col.length && col[i] === null) i++;
    return Math.max(0, Math.min(i, col.length - 60));
  }
  function loadSeries() {
    json('/console/api/series' + appQuery()).then(function (s) {
      ensureCharts();
      var from = firstReported(s);
      s.t = s.t.slice(from);
      Object.keys(chartDefs).forEach(function (name) {
        var cols = chartDefs[name].map(function (d) { return (s[d[0]] || []).slice(from); });
        chartDefs[name].forEach(function (d, i) {
          var v = lastValue(cols[i]), el = $('last-' + d[0]);
          text(el, v === null ? '–' : String(Math.round(v * 10) / 10));
          el.dataset.value = v === null ? '' : String(v);
          el.dataset.points = String(cols[i].filter(function (x) { return x; }).length); // seconds above zero
        });
        if (state.charts[name]) state.charts[name].setData([s.t].concat(cols));
      });
      var tb = $('nodes'); tb.innerHTML = '';
      (s.nodes || []).forEach(function (n) {
        var tr = document.createElement('tr');
        cell(tr, n.name); cell(tr, n.id); cell(tr, n.connections == null ? (state.operator ? 0 : '') : n.connections, 'num'); cell(tr, ago(n.seen * 1000));
        tb.appendChild(tr);
      });
    }).catch(loggedOutOr);
  }

  // ---- channels and connections ----
  function loadStats() {
    var q = '&q=' + encodeURIComponent($('conn-filter').value) + '&channel=' + encodeURIComponent($('chan-filter').value) +
      ($('chan-internal').checked ? '&internal=1' : '');
    json('/console/api/stats' + appQuery(q)).then(function (s) {
      s.sockets = s.sockets || []; s.channels = s.channels || [];
      text($('conncount'), s.connections + (s.sockets_matched !== s.connections ? ', ' + s.sockets_matched + ' matching' : '') +
        (s.sockets.length < s.sockets_matched ? ', the newest ' + s.sockets.length + ' shown' : ''));
      var tb = $('sockets'); tb.innerHTML = '';
      (s.sockets || []).forEach(function (k) {
        var tr = document.createElement('tr');
        tr.dataset.socket = k.socket_id;
        cell(tr, k.socket_id); cell(tr, k.user_id || '');
        cell(tr, k.remote || '');
        cell(tr, k.user_agent || '', 'ua').title = k.user_agent || '';
        cell(tr, ago(k.since_ms)).title = new Date(k.since_ms).toLocaleString();
        var chans = document.createDocumentFragment();
        k.channels.forEach(function (c, i) {
          if (i) chans.appendChild(document.createTextNode(', '));
          chans.appendChild(channelCell(c, c.charAt(0) === '#'));
        });
        cell(tr, chans);
        var b = document.createElement('button');
        b.type = 'button'; b.className = 'danger'; b.textContent = 'Disconnect'; b.dataset.socket = k.socket_id;
        b.addEventListener('click', function () { disconnect(k.socket_id); });
        cell(tr, b);
        tb.appendChild(tr);
      });
      text($('chancount'), s.channels_occupied + (s.channels.length < s.channels_occupied ? ', the ' + s.channels.length + ' most subscribed shown' : ''));
      var cb = $('channels'); cb.innerHTML = '';
      (s.channels || []).forEach(function (c) {
        var tr = document.createElement('tr');
        tr.dataset.channel = c.name;
        cell(tr, channelCell(c.name, c.internal));
        cell(tr, c.subscription_count, 'num');
        cell(tr, c.user_count ? c.user_count + ': ' + (c.members || []).join(', ') + (c.user_count > (c.members || []).length ? ', …' : '') : '');
        cell(tr, state.rates[c.name] || 0, 'num rate');
        cb.appendChild(tr);
      });
    }).catch(loggedOutOr);
  }
  ['conn-filter', 'chan-filter'].forEach(function (id) { $(id).addEventListener('input', function () { loadStats(); }); });
  $('chan-internal').addEventListener('change', function () { loadStats(); });
  function disconnect(id) {
    if (!confirm('Disconnect ' + id + '? The client gets error 4009 and is not told to reconnect.')) return;
    json('/console/api/disconnect' + appQuery(), { method: 'POST', body: { socket_id: id } }).then(function (j) {
      text($('conn-result'), j.closed ? 'disconnected ' + id + ' on this node' : 'asked the node holding ' + id + ' to disconnect it');
      loadStats();
    }).catch(function (e) { text($('conn-result'), 'error: ' + e.message); });
  }

  // ---- the stream ----
  function watch() {
    if (state.stream) state.stream.abort();
    var ctl = new AbortController();
    state.stream = ctl;
    state.skipped = 0;
    noteEvents();
    var q = ($('ev-filter').value ? '&channel=' + encodeURIComponent($('ev-filter').value) : '') + ($('ev-internal').checked ? '&internal=1' : '');
    text($('status'), 'connecting…');
    api('/console/api/events' + appQuery(q), { signal: ctl.signal }).then(function (r) {
      if (r.status === 401) { loggedOut(); return; }
      if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
      text($('status'), 'live');
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = '';
      function read() {
        return reader.read().then(function (res) {
          if (res.done) throw new Error('stream ended');
          buf += dec.decode(res.value, { stream: true });
          var i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            var block = buf.slice(0, i); buf = buf.slice(i + 2);
            block.split('\n').forEach(function (line) {
              // (a stream given up may still hand over what it had read)
              if (line.indexOf('data: ') === 0 && state.stream === ctl) entry(JSON.parse(line.slice(6)));
            });
          }
          return read();
        });
      }
      return read();
    }).catch(function () {
      if (ctl.signal.aborted || state.stream !== ctl) return;
      text($('status'), 'reconnecting…');
      setTimeout(function () { if (state.stream === ctl) watch(); }, 2000);
    });
  }
  function entry(e) {
    if (e.type === 'rates') {
      state.rates = e.channels || {};
      state.skipped = e.skipped || 0;
      document.querySelectorAll('#channels tr').forEach(function (tr) {
        var td = tr.querySelector('td.rate');
        if (td) text(td, state.rates[tr.dataset.channel] || 0);
      });
      noteEvents();
      return;
    }
    if (e.type === 'watching') return;
    if (state.paused) {
      state.held.unshift(e);
      if (state.held.length > 200) state.held.pop();
      noteEvents();
      return;
    }
    render(e);
  }
  function render(e) {
    var tb = $('events'), tr = document.createElement('tr');
    tr.dataset.type = e.type;
    tr.className = isEvent(e.type) ? 'ev' : 'act';
    cell(tr, new Date(e.time_ms || Date.now()).toLocaleTimeString());
    var what = document.createDocumentFragment();
    what.appendChild(badge(e.type.replace('_', ' '), e.type));
    if (e.error) what.appendChild(badge('failed'));
    cell(tr, what);
    cell(tr, channelCell(e.channel || (e.channels || []).join(', '), e.internal));
    cell(tr, details(e));
    cell(tr, e.type === 'event' || e.type === 'client_event' ? e.data : '', 'data');
    tb.insertBefore(tr, tb.firstChild);
    // The newest 200 events and the newest 200 other entries stay: a
    // busy app's events do not push a connect or a webhook out at once.
    var kind = isEvent(e.type);
    if (tb.querySelectorAll(kind ? 'tr.ev' : 'tr.act').length > 200) {
      for (var r = tb.lastElementChild; r; r = r.previousElementSibling) {
        if (r.classList.contains(kind ? 'ev' : 'act')) { tb.removeChild(r); break; }
      }
    }
  }
  function isEvent(type) { return type === 'event' || type === 'client_event'; }
  function details(e) {
    switch (e.type) {
      case 'event': case 'client_event':
        return e.event + (e.user_id ? ' from user ' + e.user_id : '') + (e.seq ? ' · seq ' + e.seq : '');
      case 'connected':
        return e.socket_id + ' on ' + e.node + ' from ' + (e.remote || '?') + (e.user_agent ? ' · ' + e.user_agent : '');
      case 'disconnected':
        return e.socket_id + ' on ' + e.node + (e.code ? ' · code ' + e.code : '') + (e.reason ? ' · ' + e.reason : '') +
          (e.user_id ? ' · user ' + e.user_id : '') + ' · after ' + e.connected_for;
      case 'member_added': case 'member_removed':
        return 'user ' + e.user_id + (e.socket_id ? ' (socket ' + e.socket_id + ')' : '');
      case 'webhook':
        return (e.events || []).map(function (w) { return w.name + (w.user_id ? ' ' + w.user_id : '') + (w.event ? ' ' + w.event : ''); }).join(', ') +
          ' → ' + e.endpoint + ' from ' + e.node + (e.error ? ' · ' + e.error : ' · delivered');
    }
    return '';
  }
  function noteEvents() {
    var parts = [];
    if (state.paused) parts.push('paused: ' + state.held.length + ' new');
    if (state.skipped) parts.push(state.skipped + ' entries skipped in the last second (over 100 a second of a kind)');
    text($('ev-note'), parts.join(' · '));
  }
  $('ev-pause').addEventListener('click', function () {
    state.paused = !state.paused;
    text($('ev-pause'), state.paused ? 'Resume' : 'Pause');
    if (!state.paused) {
      state.held.reverse().forEach(render);
      state.held = [];
    }
    noteEvents();
  });
  $('ev-clear').addEventListener('click', function () { $('events').innerHTML = ''; state.held = []; noteEvents(); });
  var filterTimer = null;
  $('ev-filter').addEventListener('input', function () {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function () { $('events').innerHTML = ''; state.held = []; watch(); }, 300);
  });
  $('ev-internal').addEventListener('change', function () { watch(); });
  $('ev-events').addEventListener('change', function () { $('events').classList.toggle('no-events', !$('ev-events').checked); });

  $('trigger').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = { name: $('t-event').value, channel: $('t-channel').value, data: $('t-data').value };
    text($('t-result'), 'sending…');
    json('/console/api/trigger' + appQuery(), { method: 'POST', body: body })
      .then(function () { text($('t-result'), 'sent'); }, function (e) { text($('t-result'), 'error: ' + e.message); });
  });

  function loggedOut() { showLogin('Your login is no longer accepted: log in again.'); }
  function loggedOutOr(e) { if (e && e.status === 401) loggedOut(); }

  // ---- apps (admin): the admin API with the token typed in ----
  var adminToken = '';
  function adminFetch(method, path, body) {
    return fetch(location.origin + path, { method: method, headers: { 'Authorization': 'Bearer ' + adminToken, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) throw new Error((j.error || r.status) + (j.field ? ' (field ' + j.field + ')' : ''));
          return j;
        });
      });
  }
  function adminError(e) { text($('admin-status'), 'error: ' + e.message); }
  function showSecret(what, key, secret, extra) {
    var p = $('admin-secret');
    p.hidden = false;
    text(p, what + ' app ' + key + ': secret ' + secret + ' (shown this once: keep it now)' + (extra || ''));
    p.dataset.key = key; p.dataset.secret = secret;
  }
  function rotate(key, source) {
    var msg = 'Rotate the secret of ' + key + '? The old one keeps working for 24 hours.';
    if (source === 'file') msg += ' This app comes from the config file: the next start or reload of a gateway with that file puts the file\'s secret back.';
    if (!confirm(msg)) return;
    adminFetch('POST', '/admin/apps/' + encodeURIComponent(key) + '/rotate', {}).then(function (j) {
      showSecret('rotated', key, j.secret, '; the old secret works until ' + j.app.previous_secret_expires);
    }).catch(adminError);
  }
  function loadApps() {
    return adminFetch('GET', '/admin/apps').then(function (j) {
      $('admin').hidden = false;
      text($('admin-status'), j.apps.length + ' apps');
      var tb = $('admin-apps'); tb.innerHTML = '';
      j.apps.forEach(function (a) {
        var tr = document.createElement('tr');
        [a.key, a.id || '(any)', a.disabled ? 'no' : 'yes', a.source].forEach(function (v) { cell(tr, v); });
        var b = document.createElement('button');
        b.type = 'button'; b.textContent = 'rotate secret'; b.dataset.key = a.key;
        b.addEventListener('click', function () { rotate(a.key, a.source); });
        cell(tr, b); tb.appendChild(tr);
      });
    });
  }
  $('admin-login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    adminToken = $('admin-token').value;
    loadApps().catch(adminError);
  });
  $('admin-create').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = {}, v;
    if ((v = $('c-key').value)) body.key = v;
    if ((v = $('c-id').value)) body.id = v;
    if ((v = $('c-maxconn').value)) body.max_connections = Number(v);
    if ($('c-noclient').checked) body.disable_client_events = true;
    adminFetch('POST', '/admin/apps', body).then(function (j) {
      showSecret('created', j.app.key, j.secret, ' (id ' + j.app.id + ')');
      $('admin-create').reset();
      return loadApps().then(function () { return json('/console/api/apps'); }).then(function (a) { fillApps(a.apps); });
    }).catch(adminError);
  });

  // ---- start: credentials in the address, else the browser's, else the form ----
  var u = new URL(document.URL);
  if (u.username || u.password) {
    tryLogin(basic(decodeURIComponent(u.username), decodeURIComponent(u.password)), 'The user and password in the address were refused.');
  } else {
    tryLogin(null, '');
  }
})();
