// ---- browser environment: WebSocket, XMLHttpRequest, online events --------

function makeEnv(options) {
  var g = typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : window;
  return {
    supported: function () {
      return typeof (options.WebSocket || g.WebSocket) === 'function';
    },
    // defaultURL is the page's own host, for pages served behind the same
    // proxy as the WebSocket endpoint.
    defaultURL: function () {
      var loc = g.location || {};
      return (loc.protocol === 'https:' ? 'wss://' : 'ws://') + (loc.host || '127.0.0.1:3131');
    },
    open: function (url, h) {
      var WS = options.WebSocket || g.WebSocket;
      var ws = new WS(url);
      ws.onopen = function () { h.onopen(); };
      ws.onmessage = function (e) { h.onmessage(e.data); };
      ws.onerror = function (e) { h.onerror(e); };
      ws.onclose = function (e) {
        ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
        h.onclose(e && e.code, e && e.reason);
      };
      return {
        send: function (text) { ws.send(text); },
        close: function (code, reason) {
          ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
          try { ws.close(code, reason); } catch (e) { ws.close(); }
        }
      };
    },
    // request POSTs body and calls back (err, status, text) exactly once.
    request: function (url, headers, body, callback) {
      var xhr = new g.XMLHttpRequest();
      var done = false;
      var finish = function (err, status, text) {
        if (done) return;
        done = true;
        callback(err, status, text);
      };
      xhr.open('POST', url, true);
      for (var k in headers) if (Object.prototype.hasOwnProperty.call(headers, k)) xhr.setRequestHeader(k, headers[k]);
      if (options.authWithCredentials) xhr.withCredentials = true;
      xhr.timeout = options.authTimeout || 10000;
      xhr.onreadystatechange = function () {
        if (xhr.readyState === 4 && xhr.status !== 0) finish(null, xhr.status, xhr.responseText);
      };
      xhr.onerror = function () { finish(new Error('network error'), 0, ''); };
      xhr.ontimeout = function () { finish(new Error('timeout'), 0, ''); };
      xhr.onabort = function () { finish(new Error('aborted'), 0, ''); };
      xhr.send(body);
    },
    watchNetwork: function (fn) {
      if (!g.addEventListener) return function () {};
      g.addEventListener('online', fn);
      return function () { g.removeEventListener('online', fn); };
    }
  };
}
