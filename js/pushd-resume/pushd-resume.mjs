/*! pushd-resume 0.1.0 (pushd-resume.mjs) — ES module: import { enableResume } from 'pushd-resume'.
 * Nothing lost across a reconnect for pusher-js and Laravel Echo on Pushd. MIT License.
 * Generated from js/pushd-resume/src/resume.js by `go generate ./js`: edit the source, not this file. */
// pushd-resume: nothing lost across a reconnect for stock pusher-js (7 and 8)
// and Laravel Echo on Pushd, using Pushd's resume extension
// (docs/protocol.md, "Extension: resume after reconnect").
//
// It changes no pusher-js code. On the Pusher instance it is given it wraps
// two methods, send_event and unsubscribe, and on each connection's
// transport the emit that hands a received frame to pusher-js, to read the
// frame's text first:
//   - every pusher:subscribe gets "want_seq": true (the server answers
//     subscription_succeeded with the stream position), and for a channel
//     with a position resume_from and resume_socket_id (the socket id of
//     its previous subscription): the server replays what was missed;
//   - every frame with a "seq" moves its channel's position;
//   - pusher:recovery_failed (the server cannot replay: events too old, too
//     many, or its store was reset) takes the server's position and becomes
//     pushd:resume_failed on the channel, with the first position the server
//     still holds, so that the app reloads its state.
// Against a server without the extension no frame has a seq, so no
// resume_from is ever sent: pusher-js behaves as without the module.

var VERSION = '0.1.0';

// The property of a Pusher instance that holds its resume state, so that a
// second enableResume on the same instance returns the first handle.
var KEY = '__pushdResume';

function isObject(v) {
  return v !== null && typeof v === 'object';
}

function positive(n) {
  return typeof n === 'number' && n > 0 && n === Math.floor(n);
}

// enableResume makes pusher resume its channels after a reconnect. Call it
// right after new Pusher(...) (or on echo.connector.pusher right after new
// Echo(...)), before subscribing: a channel subscribed before has no
// position until its first event. It returns a handle with position(name),
// the last stream position seen on a channel, and disable().
function enableResume(pusher, options) {
  if (!isObject(pusher) || typeof pusher.send_event !== 'function' || !isObject(pusher.connection) ||
      typeof pusher.connection.bind !== 'function') {
    throw new TypeError('enableResume(pusher): pass a pusher-js Pusher instance (for Laravel Echo: echo.connector.pusher)');
  }
  if (pusher[KEY]) return pusher[KEY];
  var opts = isObject(options) ? options : {};
  var onResumeFailed = typeof opts.onResumeFailed === 'function' ? opts.onResumeFailed : null;

  // Per channel name: seq, the last stream position seen (0: none);
  // socketId, the socket its last subscribe went out on; from, the
  // position that subscribe resumed from (0: none).
  var channels = {};
  var transport = null; // the transport whose emit is wrapped
  var transportEmit = null; // its own emit

  var sendEvent = pusher.send_event;
  var unsubscribe = pusher.unsubscribe;

  function state(name) {
    return Object.prototype.hasOwnProperty.call(channels, name) ? channels[name] : undefined;
  }

  pusher.send_event = function (name, data, channel) {
    if (name === 'pusher:subscribe' && isObject(data) && typeof data.channel === 'string') {
      var st = state(data.channel);
      if (!st) st = channels[data.channel] = { seq: 0, socketId: '', from: 0 };
      var d = {};
      for (var k in data) if (Object.prototype.hasOwnProperty.call(data, k)) d[k] = data[k];
      d.want_seq = true;
      st.from = 0;
      if (st.seq > 0) {
        d.resume_from = st.seq;
        if (st.socketId) d.resume_socket_id = st.socketId;
        st.from = st.seq;
      }
      st.socketId = pusher.connection.socket_id || '';
      data = d;
    }
    return sendEvent.call(this, name, data, channel);
  };

  pusher.unsubscribe = function (name) {
    // An unsubscribed channel starts afresh when subscribed again.
    delete channels[name];
    return unsubscribe.apply(this, arguments);
  };

  // observe reads a received frame before pusher-js does and returns what
  // to report after pusher-js has handled it.
  function observe(text) {
    if (typeof text !== 'string' || (text.indexOf('"seq":') < 0 && text.indexOf('pusher:recovery_failed') < 0)) return null;
    var f;
    try {
      f = JSON.parse(text);
    } catch (e) {
      return null;
    }
    if (!isObject(f) || typeof f.channel !== 'string') return null;
    var st = state(f.channel);
    if (!st) return null;
    var seq = positive(f.seq) ? f.seq : 0;
    switch (f.event) {
      case 'pusher_internal:subscription_succeeded':
        // The position at subscription: a cut before the channel's first
        // event resumes from here.
        if (seq && !st.seq) st.seq = seq;
        return null;
      case 'pusher:recovery_failed':
        var data = f.data;
        if (typeof data === 'string') {
          try {
            data = JSON.parse(data);
          } catch (e) {
            data = null;
          }
        }
        var info = {
          channel: f.channel,
          from: st.from || null,
          first_seq: isObject(data) && positive(data.first_seq) ? data.first_seq : null,
          seq: seq || null
        };
        // Live events continue after seq: that is the position now (none
        // when the server gave none).
        st.seq = seq;
        st.from = 0;
        return info;
    }
    if (seq && seq > st.seq) st.seq = seq;
    return null;
  }

  function report(info) {
    var ch = typeof pusher.channel === 'function' ? pusher.channel(info.channel) : null;
    if (ch && typeof ch.emit === 'function') ch.emit('pushd:resume_failed', info);
    if (onResumeFailed) onResumeFailed(info.channel, info);
  }

  function unhook() {
    if (transport && transport.emit === wrappedEmit) transport.emit = transportEmit;
    transport = transportEmit = null;
  }

  function wrappedEmit(name, ev) {
    var info = name === 'message' && isObject(ev) ? observe(ev.data) : null;
    var r = transportEmit.apply(this, arguments);
    if (info) report(info);
    return r;
  }

  // hook wraps the current connection's transport, once per connection.
  function hook() {
    var conn = pusher.connection.connection;
    var t = conn && conn.transport;
    if (!isObject(t) || typeof t.emit !== 'function' || t === transport) return;
    unhook();
    transport = t;
    transportEmit = t.emit;
    t.emit = wrappedEmit;
  }

  pusher.connection.bind('connected', hook);
  hook();

  var handle = {
    version: VERSION,
    // position is the last stream position seen on a channel (while a
    // handler of one of its events runs: that event's), or undefined.
    position: function (name) {
      var st = state(name);
      return st && st.seq > 0 ? st.seq : undefined;
    },
    // disable puts pusher back as it was; positions are forgotten.
    disable: function () {
      if (pusher[KEY] !== handle) return;
      pusher.connection.unbind('connected', hook);
      unhook();
      pusher.send_event = sendEvent;
      pusher.unsubscribe = unsubscribe;
      // Own properties that shadowed the prototype's are removed, so the
      // instance looks untouched.
      if (sendEvent === Object.getPrototypeOf(pusher).send_event) delete pusher.send_event;
      if (unsubscribe === Object.getPrototypeOf(pusher).unsubscribe) delete pusher.unsubscribe;
      delete pusher[KEY];
      channels = {};
    }
  };
  Object.defineProperty(pusher, KEY, { value: handle, configurable: true, enumerable: false, writable: false });
  return handle;
}

enableResume.VERSION = VERSION;

export { enableResume };
export default enableResume;
