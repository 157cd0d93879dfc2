// ---- WeChat mini-program environment: wx.connectSocket, wx.request ----------
//
// Each wx.connectSocket call returns its own SocketTask (base library 1.7.0+),
// so sockets never share handlers as uni-app's global socket API does. A
// mini-program has no window, document or page origin: the auth URL must be
// absolute, and the network hints are wx.onNetworkStatusChange and
// wx.onAppShow (WeChat may drop sockets while the app is in the background).

function makeEnv(options) {
  var wxAPI = function () {
    if (options.wx) return options.wx;
    if (typeof wx !== 'undefined') return wx; // the mini-program's global
    return typeof globalThis !== 'undefined' ? globalThis.wx : undefined;
  };

  return {
    supported: function () {
      var w = wxAPI();
      return !!(w && typeof w.connectSocket === 'function');
    },
    defaultURL: function () {
      return 'ws://127.0.0.1:3131';
    },
    open: function (url, h) {
      var ended = false;
      var task = null;
      // end reports the socket's end once, whichever of fail, onError and
      // onClose comes first: some WeChat clients send onError without
      // onClose, and a connectSocket that fails sends neither.
      var end = function (code, reason) {
        if (ended) return;
        ended = true;
        if (task) {
          try { task.close({ code: 1000, reason: 'error' }); } catch (e) { /* already closed */ }
        }
        h.onclose(code, reason);
      };
      task = wxAPI().connectSocket({
        url: url,
        fail: function (err) {
          if (ended) return;
          h.onerror(err);
          end(1006, 'connectSocket failed: ' + ((err && err.errMsg) || ''));
        }
      });
      if (!task || typeof task.onMessage !== 'function') {
        throw new Error('wx.connectSocket returned no SocketTask: WeChat base library 1.7.0 or later is needed');
      }
      task.onOpen(function () { if (!ended) h.onopen(); });
      task.onMessage(function (res) { if (!ended) h.onmessage(res && res.data); });
      task.onError(function (err) {
        if (ended) return;
        h.onerror(err);
        end(1006, (err && err.errMsg) || 'socket error');
      });
      task.onClose(function (res) {
        if (ended) return;
        ended = true;
        h.onclose((res && res.code) || 1006, (res && res.reason) || '');
      });
      return {
        send: function (text) {
          task.send({ data: text, fail: function (err) { if (!ended) h.onerror(err); } });
        },
        close: function (code, reason) {
          ended = true;
          task.close({ code: code, reason: reason });
        }
      };
    },
    // request POSTs body with wx.request and calls back (err, status, text)
    // exactly once.
    request: function (url, headers, body, callback) {
      if (!/^https?:\/\//i.test(url)) {
        callback(new Error('auth must be an absolute URL in a mini-program (there is no page origin), e.g. ' +
          'https://your-webman-host/plugin/webman/push/auth; got ' + url), 0, '');
        return;
      }
      miniRequest(wxAPI(), url, headers, body, options.authTimeout, callback);
    },
    // watchNetwork calls fn when the network is back or the mini-program
    // returns to the foreground.
    watchNetwork: function (fn) {
      var w = wxAPI();
      if (!w) return function () {};
      var active = true; // offNetworkStatusChange and offAppShow are 2.9.3+
      var onNetwork = function (res) { if (active && (!res || res.isConnected !== false)) fn(); };
      var onShow = function () { if (active) fn(); };
      if (typeof w.onNetworkStatusChange === 'function') w.onNetworkStatusChange(onNetwork);
      if (typeof w.onAppShow === 'function') w.onAppShow(onShow);
      return function () {
        active = false;
        if (typeof w.offNetworkStatusChange === 'function') w.offNetworkStatusChange(onNetwork);
        if (typeof w.offAppShow === 'function') w.offAppShow(onShow);
      };
    }
  };
}
