// ---- uni-app environment: uni.connectSocket and friends, uni.request -------
//
// uni-app's global socket API drives one socket at a time and its on*
// functions each hold one callback, so this environment keeps one set of
// handlers and routes each event to the socket that is current. A close we
// asked for is confirmed by onSocketClose before the next socket is opened,
// so that its late close event cannot be taken for the new socket's.

function makeEnv(options) {
  var g = typeof globalThis !== 'undefined' ? globalThis : {};
  var uniAPI = function () { return options.uni || g.uni; };
  var current = null; // handlers of the socket that is open or opening
  var closing = null; // {done: fn} while waiting for the close we asked for
  var installed = null;

  function install(u) {
    if (installed === u) return;
    installed = u;
    u.onSocketOpen(function () { if (current && !closing) current.onopen(); });
    u.onSocketMessage(function (res) { if (current && !closing) current.onmessage(res && res.data); });
    u.onSocketError(function (err) { if (current && !closing) current.onerror(err); });
    u.onSocketClose(function (res) {
      if (closing) {
        var c = closing;
        closing = null;
        c.done();
        return;
      }
      var h = current;
      current = null;
      if (h) h.onclose((res && res.code) || 1006, (res && res.reason) || '');
    });
  }

  return {
    supported: function () {
      var u = uniAPI();
      return !!(u && typeof u.connectSocket === 'function');
    },
    defaultURL: function () {
      return 'ws://127.0.0.1:3131';
    },
    open: function (url, h) {
      var u = uniAPI();
      install(u);
      var handle = { h: h, closed: false };
      var start = function () {
        if (handle.closed) return;
        current = h;
        u.connectSocket({
          url: url,
          complete: function () {},
          fail: function (err) {
            if (current !== h) return;
            current = null;
            h.onerror(err);
            h.onclose(1006, 'connectSocket failed');
          }
        });
      };
      if (closing) {
        // wait (bounded) for the previous socket's close before opening
        var prev = closing;
        var timer = setTimeout(function () { if (closing === prev) { closing = null; start(); } }, 1000);
        prev.done = function () { clearTimeout(timer); start(); };
      } else {
        start();
      }
      return {
        send: function (text) {
          u.sendSocketMessage({ data: text, fail: function (err) { h.onerror(err); } });
        },
        close: function (code, reason) {
          handle.closed = true;
          if (current !== h) return;
          current = null;
          closing = { done: function () {} };
          u.closeSocket({ code: code, reason: reason, fail: function () { closing = null; } });
        }
      };
    },
    request: function (url, headers, body, callback) {
      miniRequest(uniAPI(), url, headers, body, options.authTimeout, callback);
    },
    watchNetwork: function (fn) {
      var u = uniAPI();
      if (!u || typeof u.onNetworkStatusChange !== 'function') return function () {};
      var active = true;
      u.onNetworkStatusChange(function (res) { if (active && (!res || res.isConnected !== false)) fn(); });
      return function () { active = false; };
    }
  };
}
