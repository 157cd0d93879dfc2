/*! Pushd uniapp-push.js — uni-app client over uni.connectSocket and uni.request: import Push from './uniapp-push.js'.
 * webman/push compatible Pusher protocol 7 client with resume. Served by pushd at /uniapp-push.js.
 * Generated from js/src by `go generate ./js`: edit js/src, not this file. */
// ---- core: protocol, channels, presence, reconnect and resume ------------
// Shared by push.js, push-vue.js, uniapp-push.js and push-miniprogram.js.
// Everything that touches the platform (sockets, HTTP, network events,
// timers) goes through `env`, which each variant supplies. Written in ES5 so
// that old WebViews and mini-program runtimes load it unchanged.

var VERSION = '1.0.0';

// One callback failing must not stop the others, nor the message loop.
function safeCall(fn, ctx, a, b) {
  try {
    fn.call(ctx, a, b);
  } catch (e) {
    if (typeof console !== 'undefined' && console.error) {
      console.error('Push: event handler failed:', e);
    }
  }
}

// Dispatcher is the event emitter behind connections, channels and Push.
function Dispatcher() {
  this._callbacks = {};
  this._global = [];
}
Dispatcher.prototype.on = function (name, fn, context) {
  var key = '_' + name;
  (this._callbacks[key] = this._callbacks[key] || []).push({ fn: fn, context: context });
  return this;
};
Dispatcher.prototype.off = function (name, fn, context) {
  if (name === undefined && fn === undefined && context === undefined) {
    this._callbacks = {};
    return this;
  }
  var keys = name ? ['_' + name] : Object.keys(this._callbacks);
  for (var i = 0; i < keys.length; i++) {
    var list = this._callbacks[keys[i]];
    if (!list) continue;
    var kept = [];
    for (var j = 0; j < list.length; j++) {
      if ((fn && fn !== list[j].fn) || (context && context !== list[j].context)) kept.push(list[j]);
    }
    if (kept.length && (fn || context)) this._callbacks[keys[i]] = kept;
    else delete this._callbacks[keys[i]];
  }
  return this;
};
Dispatcher.prototype.on_global = function (fn) {
  this._global.push(fn);
  return this;
};
Dispatcher.prototype.off_global = function (fn) {
  var kept = [];
  for (var i = 0; i < this._global.length; i++) if (fn && this._global[i] !== fn) kept.push(this._global[i]);
  this._global = kept;
  return this;
};
Dispatcher.prototype.emit = function (name, data, metadata) {
  var i;
  var globals = this._global.slice();
  for (i = 0; i < globals.length; i++) safeCall(globals[i], this, name, data);
  var list = (this._callbacks['_' + name] || []).slice();
  for (i = 0; i < list.length; i++) safeCall(list[i].fn, list[i].context || this, data, metadata);
  return this;
};
// pusher-js names, for code moving over from pusher-js.
Dispatcher.prototype.bind = Dispatcher.prototype.on;
Dispatcher.prototype.unbind = Dispatcher.prototype.off;
Dispatcher.prototype.bind_global = Dispatcher.prototype.on_global;
Dispatcher.prototype.unbind_global = Dispatcher.prototype.off_global;

function inherit(Child) {
  Child.prototype = Object.create(Dispatcher.prototype);
  Child.prototype.constructor = Child;
}

function parseMaybeJSON(data) {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch (e) {
    return data;
  }
}

function warn(message) {
  if (typeof console !== 'undefined' && console.warn) console.warn('Push: ' + message);
}

function formEncode(obj) {
  var parts = [];
  for (var k in obj) {
    if (Object.prototype.hasOwnProperty.call(obj, k) && obj[k] !== undefined && obj[k] !== null) {
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(obj[k]));
    }
  }
  return parts.join('&');
}

// ---- end-to-end encrypted channels (private-encrypted-) ------------------------
// As in pusher-js: the auth answer carries the channel's key (shared_secret,
// base64 of 32 bytes) and each event's data is {"nonce", "ciphertext"} (base64)
// sealed with NaCl secretbox (XSalsa20-Poly1305). The cryptography is
// tweetnacl's (vendored, see naclFactory at the end of the file); only the
// base64 and UTF-8 decoding around it are written here.

var nacl = null;

// loadNacl runs the vendored tweetnacl the first time an encrypted channel
// needs it, so that pages without one never execute it.
function loadNacl() {
  if (!nacl) nacl = naclFactory({ exports: {} });
  return nacl;
}

var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// base64Decode returns the bytes of standard base64 text (padding optional),
// or null when s is not base64.
function base64Decode(s) {
  if (typeof s !== 'string') return null;
  s = s.replace(/={1,2}$/, '');
  if (s.length % 4 === 1) return null;
  var out = new Uint8Array(Math.floor((s.length * 3) / 4));
  var acc = 0;
  var bits = 0;
  var j = 0;
  for (var i = 0; i < s.length; i++) {
    var v = B64.indexOf(s.charAt(i));
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

// utf8Decode turns UTF-8 bytes into a string as TextDecoder does (which
// mini-programs lack): each malformed sequence becomes one U+FFFD.
function utf8Decode(b) {
  var s = '';
  var units = [];
  for (var i = 0; i < b.length;) {
    var c = b[i++];
    var n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    var cp = n < 0 ? 0xfffd : c & (0x7f >> n);
    // the bounds of the next byte exclude overlong forms, surrogates and > U+10FFFF
    var lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    var hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (var k = 0; k < n; k++) {
      if (i >= b.length || b[i] < lo || b[i] > hi) {
        cp = 0xfffd;
        break;
      }
      cp = (cp << 6) | (b[i++] & 0x3f);
      lo = 0x80;
      hi = 0xbf;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length >= 4096) {
      s += String.fromCharCode.apply(null, units);
      units = [];
    }
  }
  return s + String.fromCharCode.apply(null, units);
}

// channelKey reads the shared_secret of an auth answer for an encrypted
// channel: the 32-byte key, or null.
function channelKey(auth) {
  var key = auth ? base64Decode(auth.shared_secret) : null;
  return key && key.length === loadNacl().secretbox.keyLength ? key : null;
}

// openEvent decrypts an encrypted channel's event data with key:
// {data} when it opens, {error} when the data is not an encrypted event at
// all, and null when the key does not open it.
function openEvent(key, data) {
  var box = loadNacl().secretbox;
  if (!data || typeof data !== 'object') return { error: 'expected {"nonce", "ciphertext"}, got ' + typeof data };
  var nonce = base64Decode(data.nonce);
  var sealed = base64Decode(data.ciphertext);
  if (!nonce || nonce.length !== box.nonceLength) return { error: 'the nonce is not ' + box.nonceLength + ' bytes of base64' };
  if (!sealed || sealed.length < box.overheadLength) return { error: 'the ciphertext is not base64 of at least ' + box.overheadLength + ' bytes' };
  var plain = key ? box.open(sealed, nonce, key) : null;
  if (!plain) return null;
  return { data: parseMaybeJSON(utf8Decode(plain)) };
}

// ---- presence members -----------------------------------------------------

// Members is a presence channel's member list: each, count, me, get.
function Members() {
  this.reset();
}
Members.prototype.reset = function () {
  this.members = {};
  this.count = 0;
  this.myID = null;
  this.me = null;
};
Members.prototype.get = function (id) {
  id = String(id);
  if (Object.prototype.hasOwnProperty.call(this.members, id)) return { id: id, info: this.members[id] };
  return null;
};
Members.prototype.each = function (fn) {
  for (var id in this.members) {
    if (Object.prototype.hasOwnProperty.call(this.members, id)) fn({ id: id, info: this.members[id] });
  }
};
Members.prototype.toArray = function () {
  var all = [];
  this.each(function (m) { all.push(m); });
  return all;
};
Members.prototype._subscribed = function (data) {
  var p = (data && data.presence) || {};
  this.members = {};
  var hash = p.hash || {};
  for (var id in hash) if (Object.prototype.hasOwnProperty.call(hash, id)) this.members[String(id)] = hash[id];
  this.count = typeof p.count === 'number' ? p.count : Object.keys(this.members).length;
  this.me = this.myID !== null ? this.get(this.myID) : null;
};
Members.prototype._add = function (data) {
  var id = String(data.user_id);
  if (!Object.prototype.hasOwnProperty.call(this.members, id)) this.count++;
  this.members[id] = data.user_info;
  return this.get(id);
};
Members.prototype._remove = function (data) {
  var m = this.get(data.user_id);
  if (m) {
    delete this.members[m.id];
    this.count--;
  }
  return m;
};

// ---- channels ---------------------------------------------------------------

// Channel is one subscription. Events arrive through on(event, fn); client
// events go out through trigger('client-…', data) once subscribed.
function Channel(push, name) {
  Dispatcher.call(this);
  this.push = push;
  this.name = name;
  this.channelName = name; // webman's field name
  this.subscribed = false;
  this.subscriptionPending = false;
  this.subscriptionCancelled = false;
  this.queue = [];
  this.lastSeq = 0; // stream position of the last event seen (resume)
  this._socketId = null; // socket the subscription was confirmed on
  this._attempt = 0;
  this._encrypted = name.indexOf('private-encrypted-') === 0;
  this._key = null; // encrypted channels: the key from the auth answer
  this._held = null; // encrypted channels: events waiting for a key fetched again
  if (name.indexOf('presence-') === 0) this.members = new Members();
}
inherit(Channel);

// trigger sends a client event (name must start with client-). It is queued
// until the subscription is confirmed; returns false when refused locally.
// On an encrypted channel it throws, as pusher-js does: client events there
// would travel in clear text.
Channel.prototype.trigger = function (event, data) {
  if (this._encrypted) {
    var err = new Error("client events are not supported on encrypted channels: '" + event + "' was not sent on " + this.name);
    err.name = 'UnsupportedFeature';
    throw err;
  }
  if (typeof event !== 'string' || event.indexOf('client-') !== 0) {
    this.push.connection._error('ClientEventError', null, "client event '" + event + "' must start with 'client-'");
    return false;
  }
  if (this.queue.length >= 1000) {
    this.push.connection._error('ClientEventError', null, 'too many client events queued on ' + this.name);
    return false;
  }
  var self = this;
  this.queue.push(function () {
    return self.push.connection.send(JSON.stringify({ event: event, data: data, channel: self.name }));
  });
  this._flush();
  return true;
};
Channel.prototype._flush = function () {
  if (!this.subscribed || this.push.connection.state !== 'connected') return;
  var q = this.queue;
  this.queue = [];
  for (var i = 0; i < q.length; i++) q[i]();
};
Channel.prototype.unsubscribe = function () {
  this.push.unsubscribe(this.name);
};
Channel.prototype._needsAuth = function () {
  return this.name.indexOf('private-') === 0 || this.name.indexOf('presence-') === 0;
};

// ---- connection ---------------------------------------------------------------

var STATES = ['initialized', 'connecting', 'connected', 'unavailable', 'failed', 'disconnected'];

// Connection owns the socket: state, heartbeat and reconnect with back-off.
function Connection(push, env, options) {
  Dispatcher.call(this);
  this.push = push;
  this.env = env;
  this.options = options;
  this.state = 'initialized';
  this.socket_id = null;
  this.activityTimeout = 120;
  this._socket = null;
  this._gen = 0;
  this._attempts = 0;
  this._wanted = false;
  this._timers = {};
  this._connectingSince = 0;
}
inherit(Connection);

Connection.prototype._setState = function (state, extra) {
  var previous = this.state;
  if (previous === state) return;
  this.state = state;
  this.emit('state_change', { previous: previous, current: state });
  this.emit(state, extra);
};

Connection.prototype._error = function (type, code, message, extra) {
  var err = { type: type, data: { code: code, message: message } };
  if (extra) err.error = extra;
  this.emit('error', err);
};

Connection.prototype._clear = function (name) {
  if (this._timers[name]) {
    clearTimeout(this._timers[name]);
    delete this._timers[name];
  }
};
Connection.prototype._later = function (name, ms, fn) {
  this._clear(name);
  var self = this;
  this._timers[name] = setTimeout(function () {
    delete self._timers[name];
    fn.call(self);
  }, ms);
};

Connection.prototype.url = function () {
  var o = this.options;
  var base = o.url || this.env.defaultURL();
  base = String(base).replace(/\/+$/, '');
  if (this._forceTLS) base = base.replace(/^ws:/i, 'wss:');
  var sep = '?';
  return base + '/app/' + encodeURIComponent(o.app_key) + sep + 'protocol=7&client=pushd-js&version=' + VERSION;
};

Connection.prototype.connect = function () {
  this._wanted = true;
  if (this._socket || this._timers.retry) return;
  this._open();
};

Connection.prototype._open = function () {
  var self = this;
  if (!this.env.supported()) {
    this._setState('failed');
    this._error('UnsupportedError', null, 'no WebSocket in this environment');
    return;
  }
  if (!this._connectingSince) this._connectingSince = Date.now();
  if (this.state !== 'unavailable') this._setState('connecting');
  if (!this._timers.unavailable && this.state !== 'unavailable') {
    this._later('unavailable', this.options.unavailableTimeout, function () {
      if (this.state === 'connecting') this._setState('unavailable');
    });
  }
  var gen = ++this._gen;
  var live = function () { return gen === self._gen; };
  var socket;
  try {
    socket = this.env.open(this.url(), {
      onopen: function () {
        if (!live()) return;
        // The server speaks first (connection_established); wait for it.
        self._later('handshake', self.options.pingTimeout + 5000, function () {
          this._lost(4201, 'no pusher:connection_established');
        });
      },
      onmessage: function (text) {
        if (live()) self._onMessage(text);
      },
      onerror: function (e) {
        if (live()) self._error('WebSocketError', null, 'socket error', e);
      },
      onclose: function (code, reason) {
        if (live()) self._onClose(code || 1006, reason || '');
      }
    });
  } catch (e) {
    this._socket = null;
    this._error('WebSocketError', null, String((e && e.message) || e), e);
    this._retry(this._backoff());
    return;
  }
  this._socket = socket;
};

Connection.prototype._onMessage = function (text) {
  var frame;
  try {
    frame = JSON.parse(text);
  } catch (e) {
    this._error('MessageParseError', null, 'frame is not JSON', String(text).slice(0, 200));
    return;
  }
  if (!frame || typeof frame.event !== 'string') return;
  this._alive();
  this.emit('message', frame);
  var ev = frame.event;
  if (ev === 'pusher:connection_established') {
    var d = parseMaybeJSON(frame.data) || {};
    this._clear('handshake');
    this._clear('unavailable');
    this.socket_id = d.socket_id;
    if (d.activity_timeout) this.activityTimeout = d.activity_timeout;
    this._attempts = 0;
    this._connectingSince = 0;
    this._setState('connected', { socket_id: d.socket_id });
    this.push._onConnected();
    return;
  }
  if (ev === 'pusher:pong') return;
  if (ev === 'pusher:ping') {
    this.send('{"event":"pusher:pong","data":{}}');
    return;
  }
  if (ev === 'pusher:error') {
    var e = parseMaybeJSON(frame.data) || {};
    this._error('PusherError', e.code === undefined ? null : e.code, e.message || '');
    return;
  }
  this.push._onFrame(frame);
};

// _alive restarts the heartbeat: after `heartbeat` ms without a frame send
// pusher:ping, and give up on the socket `pingTimeout` ms later.
Connection.prototype._alive = function () {
  this._clear('pong');
  var self = this;
  this._later('ping', this.options.heartbeat, function () {
    if (self.state !== 'connected') return;
    self.send('{"event":"pusher:ping","data":{}}');
    self._later('pong', self.options.pingTimeout, function () {
      this._lost(4201, 'pong not received');
    });
  });
};

// _lost drops the current socket from our side and reconnects at once.
Connection.prototype._lost = function (code, reason) {
  var socket = this._socket;
  this._gen++;
  this._socket = null;
  if (socket) {
    try { socket.close(1000, reason); } catch (e) { /* already closed */ }
  }
  this._onClose(code, reason, true);
};

Connection.prototype._onClose = function (code, reason) {
  this._gen++;
  this._socket = null;
  this._clear('ping');
  this._clear('pong');
  this._clear('handshake');
  var wasConnected = this.state === 'connected';
  this.socket_id = null;
  this.push._onDisconnected();
  if (!this._wanted) {
    this._clear('unavailable');
    this._setState('disconnected');
    return;
  }
  if (code >= 4000 && code <= 4099) {
    this._error('PusherError', code, reason || 'connection refused');
    if (code === 4000 && !this._forceTLS) {
      this._forceTLS = true; // the app is TLS-only: use wss://
      this._setState('disconnected');
      this._retry(0);
      return;
    }
    this._wanted = false;
    this._clear('unavailable');
    this._setState('disconnected');
    return;
  }
  if (code >= 4100 && code <= 4199) this._error('PusherError', code, reason || 'over capacity');
  if (this.state !== 'unavailable') this._setState('disconnected');
  var delay;
  if (code >= 4200 && code <= 4299 && this._attempts === 0 && wasConnected) {
    delay = 0;
    this._attempts = 1;
  } else {
    delay = this._backoff();
    if (code >= 4100 && code <= 4199 && delay < 1000) delay = 1000;
  }
  this._retry(delay);
};

// _backoff is exponential with jitter: 50-100% of min(max, base·2^n).
Connection.prototype._backoff = function () {
  var o = this.options;
  var n = Math.min(this._attempts, 16);
  this._attempts++;
  var ceiling = Math.min(o.maxReconnectDelay, o.reconnectDelay * Math.pow(2, n));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
};

Connection.prototype._retry = function (delay) {
  if (this.state !== 'unavailable') this._setState('connecting');
  if (!this._connectingSince) this._connectingSince = Date.now();
  this._later('retry', delay, function () {
    if (this._wanted && !this._socket) this._open();
  });
};

// _networkBack is called when the platform reports the network is back: the
// back-off starts over and a waiting reconnect happens now.
Connection.prototype._networkBack = function () {
  this._attempts = 0;
  if (this._wanted && !this._socket && this._timers.retry) {
    this._clear('retry');
    this._open();
  }
};

Connection.prototype.send = function (text) {
  if (!this._socket || this.state !== 'connected') return false;
  try {
    this._socket.send(text);
    return true;
  } catch (e) {
    this._error('WebSocketError', null, 'send failed', e);
    return false;
  }
};

Connection.prototype.disconnect = function () {
  this._wanted = false;
  this._clear('retry');
  this._clear('unavailable');
  this._connectingSince = 0;
  var socket = this._socket;
  if (socket) {
    this._gen++;
    this._socket = null;
    try { socket.close(1000, 'disconnect'); } catch (e) { /* already closed */ }
  }
  this._onClose(1000, 'disconnect');
};

// ---- Push -------------------------------------------------------------------------

// Push is the client: new Push({url, app_key, auth}).
function Push(options) {
  if (!(this instanceof Push)) return new Push(options);
  Dispatcher.call(this);
  var o = {};
  options = options || {};
  for (var k in options) if (Object.prototype.hasOwnProperty.call(options, k)) o[k] = options[k];
  o.heartbeat = o.heartbeat || 25000;
  o.pingTimeout = o.pingTimeout || 10000;
  o.reconnectDelay = o.reconnectDelay || 1000;
  o.maxReconnectDelay = o.maxReconnectDelay || 10000;
  o.unavailableTimeout = o.unavailableTimeout || 10000;
  o.authHeaders = o.authHeaders || {};
  o.authParams = o.authParams || {};
  if (o.resume === undefined) o.resume = true;
  this.config = o;
  this.key = o.app_key;
  this.channels = {};
  this.env = makeEnv(o);
  this.connection = new Connection(this, this.env, o);
  var self = this;
  this._unwatch = this.env.watchNetwork(function () { self.connection._networkBack(); });
  Push.instances.push(this);
  // Connect on the next tick so that listeners added right after the
  // constructor see initialized → connecting.
  if (o.autoConnect !== false) {
    setTimeout(function () {
      if (self.connection.state === 'initialized') self.connection.connect();
    }, 0);
  }
}
inherit(Push);
Push.instances = [];
Push.VERSION = VERSION;

Push.prototype.connect = function () {
  this.connection.connect();
};

Push.prototype.disconnect = function () {
  this.connection.disconnect();
};

// subscribe returns the channel, creating and subscribing it if needed.
Push.prototype.subscribe = function (name) {
  var ch = this.channels[name];
  if (ch) return ch;
  ch = new Channel(this, name);
  this.channels[name] = ch;
  // Otherwise it is subscribed on connection_established.
  if (this.connection.state === 'connected') this._subscribe(ch);
  return ch;
};

Push.prototype.unsubscribe = function (name) {
  var ch = this.channels[name];
  if (!ch) return;
  delete this.channels[name];
  ch.subscriptionCancelled = true;
  if (ch.subscribed || ch.subscriptionPending) {
    this.connection.send(JSON.stringify({ event: 'pusher:unsubscribe', data: { channel: name } }));
  }
  ch.subscribed = false;
  ch.subscriptionPending = false;
  ch.queue = [];
  if (ch.members) ch.members.reset();
};

Push.prototype.unsubscribeAll = function () {
  var names = Object.keys(this.channels);
  for (var i = 0; i < names.length; i++) this.unsubscribe(names[i]);
};

Push.prototype.channel = function (name) {
  return this.channels[name] || null;
};

Push.prototype.allChannels = function () {
  var all = [];
  for (var name in this.channels) if (Object.prototype.hasOwnProperty.call(this.channels, name)) all.push(this.channels[name]);
  return all;
};

Push.prototype._onConnected = function () {
  var all = this.allChannels();
  for (var i = 0; i < all.length; i++) this._subscribe(all[i]);
};

Push.prototype._onDisconnected = function () {
  var all = this.allChannels();
  for (var i = 0; i < all.length; i++) {
    all[i].subscribed = false;
    all[i].subscriptionPending = false;
  }
};

Push.prototype._subscribe = function (ch) {
  var self = this;
  var conn = this.connection;
  var socketId = conn.socket_id;
  var attempt = ++ch._attempt;
  ch.subscriptionPending = true;
  ch.subscriptionCancelled = false;
  var send = function (auth) {
    // A late answer for a socket or channel that is gone is dropped.
    if (self.channels[ch.name] !== ch || conn.socket_id !== socketId || attempt !== ch._attempt) return;
    var data = { channel: ch.name };
    if (auth) {
      data.auth = auth.auth;
      if (auth.channel_data !== undefined) data.channel_data = auth.channel_data;
      if (ch.members) {
        var cd = parseMaybeJSON(auth.channel_data);
        ch.members.myID = cd && cd.user_id !== undefined ? String(cd.user_id) : null;
      }
    }
    if (self.config.resume && ch.lastSeq > 0) {
      data.resume_from = ch.lastSeq;
      if (ch._socketId) data.resume_socket_id = ch._socketId;
    }
    conn.send(JSON.stringify({ event: 'pusher:subscribe', data: data }));
  };
  if (!ch._needsAuth()) {
    send(null);
    return;
  }
  this._authorize(ch.name, socketId, function (err, auth) {
    if (self.channels[ch.name] !== ch || conn.socket_id !== socketId || attempt !== ch._attempt) return;
    if (!err && ch._encrypted) {
      ch._key = channelKey(auth);
      if (!ch._key) err = { type: 'AuthError', error: 'the auth answer for encrypted channel ' + ch.name + ' has no "shared_secret" (base64 of 32 bytes)', status: 200 };
    }
    if (err) {
      ch.subscriptionPending = false;
      ch.emit('pusher:subscription_error', err);
      return;
    }
    send(auth);
  });
};

// _authorize asks the authorizer option or the auth endpoint for a channel
// signature; callback(err, {auth, channel_data?}). err is what
// pusher:subscription_error carries: {type, error, status}.
Push.prototype._authorize = function (channelName, socketId, callback) {
  var o = this.config;
  var done = false;
  var finish = function (err, data) {
    if (done) return;
    done = true;
    if (!err && (!data || typeof data.auth !== 'string')) {
      err = { type: 'AuthError', error: 'the auth answer has no "auth" field', status: 200 };
    }
    callback(err, data);
  };
  if (typeof o.authorizer === 'function') {
    try {
      o.authorizer(channelName, socketId, function (err, data) {
        if (err) finish({ type: 'AuthError', error: String((err && err.message) || err), status: (err && err.status) || 0 });
        else finish(null, parseMaybeJSON(data));
      });
    } catch (e) {
      finish({ type: 'AuthError', error: String((e && e.message) || e), status: 0 });
    }
    return;
  }
  if (!o.auth) {
    finish({ type: 'AuthError', error: 'no auth endpoint configured for ' + channelName, status: 0 });
    return;
  }
  var params = {};
  for (var k in o.authParams) if (Object.prototype.hasOwnProperty.call(o.authParams, k)) params[k] = o.authParams[k];
  params.channel_name = channelName;
  params.socket_id = socketId;
  var headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  for (var h in o.authHeaders) if (Object.prototype.hasOwnProperty.call(o.authHeaders, h)) headers[h] = o.authHeaders[h];
  try {
    this.env.request(o.auth, headers, formEncode(params), function (err, status, body) {
      if (err || !(status >= 200 && status < 300)) {
        finish({
          type: 'AuthError',
          error: err ? 'auth request failed: ' + String((err && err.message) || err) : 'auth endpoint answered ' + status,
          status: status || 0,
          body: typeof body === 'string' ? body.slice(0, 500) : body
        });
        return;
      }
      var data = parseMaybeJSON(body);
      if (typeof data !== 'object' || data === null) {
        finish({ type: 'AuthError', error: 'auth answer is not JSON', status: status });
        return;
      }
      finish(null, data);
    });
  } catch (e) {
    finish({ type: 'AuthError', error: String((e && e.message) || e), status: 0 });
  }
};

Push.prototype._onFrame = function (frame) {
  var ev = frame.event;
  var ch = frame.channel !== undefined ? this.channels[frame.channel] : undefined;
  var data = parseMaybeJSON(frame.data);
  if (!ch) {
    if (frame.channel === undefined) this.emit(ev, data);
    return;
  }
  switch (ev) {
    case 'pusher_internal:subscription_succeeded':
      // A fresh subscription learns the stream position to resume from if
      // the link drops before the channel's first event.
      if (typeof frame.seq === 'number' && !(ch.lastSeq > 0)) ch.lastSeq = frame.seq;
      ch.subscribed = true;
      ch.subscriptionPending = false;
      ch._socketId = this.connection.socket_id;
      if (ch.members) {
        ch.members._subscribed(data);
        ch.emit('pusher:subscription_succeeded', ch.members);
      } else {
        ch.emit('pusher:subscription_succeeded', data);
      }
      ch._flush();
      return;
    case 'pusher:subscription_error':
      ch.subscriptionPending = false;
      ch.emit('pusher:subscription_error', data);
      return;
    case 'pusher_internal:member_added':
      if (ch.members) ch.emit('pusher:member_added', ch.members._add(data || {}));
      return;
    case 'pusher_internal:member_removed':
      if (ch.members) {
        var m = ch.members._remove(data || {});
        if (m) ch.emit('pusher:member_removed', m);
      }
      return;
    case 'pusher_internal:subscription_count':
      ch.subscriptionCount = data && data.subscription_count;
      ch.emit('pusher:subscription_count', data);
      return;
    case 'pusher:recovery_failed':
      // The events missed since lastSeq cannot all be replayed: drop the
      // position for the one the server continues from (none when it gives
      // none), so the next reconnect resumes from there.
      ch.lastSeq = typeof frame.seq === 'number' ? frame.seq : 0;
      this._deliver(ch, ev, data, typeof frame.seq === 'number' ? { seq: frame.seq } : {});
      return;
  }
  if (ev.indexOf('pusher_internal:') === 0) return;
  var meta = {};
  if (frame.user_id !== undefined) meta.user_id = frame.user_id;
  if (typeof frame.seq === 'number') {
    ch.lastSeq = frame.seq;
    meta.seq = frame.seq;
  }
  if (ch._encrypted && ev.indexOf('pusher:') !== 0) {
    this._onEncrypted(ch, [ev, data, meta]);
    return;
  }
  this._deliver(ch, ev, data, meta);
};

Push.prototype._deliver = function (ch, ev, data, meta) {
  ch.emit(ev, data, meta);
  this.emit(ev, data, meta);
};

// _onEncrypted decrypts and delivers an event [name, data, meta] of an
// encrypted channel. When the channel's key does not open it (the app may
// have rotated its master key) the key is fetched again from the auth
// endpoint, once, and the event retried with it, as pusher-js does; an event
// that still does not open is dropped with a warning. Events arriving while
// the key is fetched wait, so that the order is kept.
Push.prototype._onEncrypted = function (ch, e) {
  if (ch._held) {
    ch._held.push(e);
    return;
  }
  var r = openEvent(ch._key, e[1]);
  if (r && r.error) {
    warn('dropped ' + e[0] + ' on ' + ch.name + ': ' + r.error);
    return;
  }
  if (r) {
    this._deliver(ch, e[0], r.data, e[2]);
    return;
  }
  var self = this;
  ch._held = [e];
  this._authorize(ch.name, this.connection.socket_id, function (err, auth) {
    var held = ch._held;
    ch._held = null;
    if (self.channels[ch.name] !== ch) return;
    var key = err ? null : channelKey(auth);
    if (key) ch._key = key;
    else warn('could not fetch the key of ' + ch.name + ' again: ' + (err ? err.error : 'the auth answer has no "shared_secret" (base64 of 32 bytes)'));
    for (var i = 0; i < held.length; i++) {
      var h = held[i];
      var o = openEvent(ch._key, h[1]);
      if (o && !o.error) self._deliver(ch, h[0], o.data, h[2]);
      else warn('dropped ' + h[0] + ' on ' + ch.name + ': ' + (o ? o.error : 'it does not decrypt with the channel\'s key'));
    }
  });
};

// ---- uni-app and mini-program: the auth POST through request() ------------
//
// uni.request and wx.request take the same options. miniRequest POSTs body
// with api.request and calls back (err, status, text) exactly once; a
// response body the runtime parsed anyway is turned back into text.

function miniRequest(api, url, headers, body, timeout, callback) {
  var done = false;
  var finish = function (err, status, text) {
    if (done) return;
    done = true;
    callback(err, status, text);
  };
  api.request({
    url: url,
    method: 'POST',
    header: headers,
    data: body,
    dataType: 'text', // anything but 'json': the body is left as text
    responseType: 'text',
    timeout: timeout || 10000,
    success: function (res) {
      var data = res.data;
      finish(null, res.statusCode, typeof data === 'string' ? data : JSON.stringify(data));
    },
    fail: function (err) { finish(new Error((err && err.errMsg) || 'request failed'), 0, ''); }
  });
}

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

// ---- vendor: tweetnacl-js 1.0.3 ------------------------------------------------------
/*! tweetnacl-js 1.0.3 nacl-fast.min.js (npm tweetnacl@1.0.3), https://github.com/dchest/tweetnacl-js
 * Public domain (The Unlicense): js/src/vendor/tweetnacl/LICENSE. Unchanged between the markers. */
function naclFactory(module, require, self) {
// ---- begin vendor/tweetnacl/nacl-fast.min.js
!function(i){"use strict";var v=function(r){var t,n=new Float64Array(16);if(r)for(t=0;t<r.length;t++)n[t]=r[t];return n},h=function(){throw new Error("no PRNG")},o=new Uint8Array(16),n=new Uint8Array(32);n[0]=9;var s=v(),u=v([1]),p=v([56129,1]),c=v([30883,4953,19914,30187,55467,16705,2637,112,59544,30585,16505,36039,65139,11119,27886,20995]),y=v([61785,9906,39828,60374,45398,33411,5274,224,53552,61171,33010,6542,64743,22239,55772,9222]),e=v([54554,36645,11616,51542,42930,38181,51040,26924,56412,64982,57905,49316,21502,52590,14035,8553]),a=v([26200,26214,26214,26214,26214,26214,26214,26214,26214,26214,26214,26214,26214,26214,26214,26214]),l=v([41136,18958,6951,50414,58488,44335,6150,12099,55207,15867,153,11085,57099,20417,9344,11139]);function f(r,t,n,e){r[t]=n>>24&255,r[t+1]=n>>16&255,r[t+2]=n>>8&255,r[t+3]=255&n,r[t+4]=e>>24&255,r[t+5]=e>>16&255,r[t+6]=e>>8&255,r[t+7]=255&e}function w(r,t,n,e,o){var i,h=0;for(i=0;i<o;i++)h|=r[t+i]^n[e+i];return(1&h-1>>>8)-1}function b(r,t,n,e){return w(r,t,n,e,16)}function g(r,t,n,e){return w(r,t,n,e,32)}function A(r,t,n,e){!function(r,t,n,e){for(var o,i=255&e[0]|(255&e[1])<<8|(255&e[2])<<16|(255&e[3])<<24,h=255&n[0]|(255&n[1])<<8|(255&n[2])<<16|(255&n[3])<<24,a=255&n[4]|(255&n[5])<<8|(255&n[6])<<16|(255&n[7])<<24,f=255&n[8]|(255&n[9])<<8|(255&n[10])<<16|(255&n[11])<<24,s=255&n[12]|(255&n[13])<<8|(255&n[14])<<16|(255&n[15])<<24,u=255&e[4]|(255&e[5])<<8|(255&e[6])<<16|(255&e[7])<<24,c=255&t[0]|(255&t[1])<<8|(255&t[2])<<16|(255&t[3])<<24,y=255&t[4]|(255&t[5])<<8|(255&t[6])<<16|(255&t[7])<<24,l=255&t[8]|(255&t[9])<<8|(255&t[10])<<16|(255&t[11])<<24,w=255&t[12]|(255&t[13])<<8|(255&t[14])<<16|(255&t[15])<<24,v=255&e[8]|(255&e[9])<<8|(255&e[10])<<16|(255&e[11])<<24,p=255&n[16]|(255&n[17])<<8|(255&n[18])<<16|(255&n[19])<<24,b=255&n[20]|(255&n[21])<<8|(255&n[22])<<16|(255&n[23])<<24,g=255&n[24]|(255&n[25])<<8|(255&n[26])<<16|(255&n[27])<<24,A=255&n[28]|(255&n[29])<<8|(255&n[30])<<16|(255&n[31])<<24,_=255&e[12]|(255&e[13])<<8|(255&e[14])<<16|(255&e[15])<<24,U=i,d=h,E=a,x=f,M=s,m=u,B=c,S=y,k=l,K=w,Y=v,L=p,T=b,z=g,R=A,P=_,N=0;N<20;N+=2)U^=(o=(T^=(o=(k^=(o=(M^=(o=U+T|0)<<7|o>>>25)+U|0)<<9|o>>>23)+M|0)<<13|o>>>19)+k|0)<<18|o>>>14,m^=(o=(d^=(o=(z^=(o=(K^=(o=m+d|0)<<7|o>>>25)+m|0)<<9|o>>>23)+K|0)<<13|o>>>19)+z|0)<<18|o>>>14,Y^=(o=(B^=(o=(E^=(o=(R^=(o=Y+B|0)<<7|o>>>25)+Y|0)<<9|o>>>23)+R|0)<<13|o>>>19)+E|0)<<18|o>>>14,P^=(o=(L^=(o=(S^=(o=(x^=(o=P+L|0)<<7|o>>>25)+P|0)<<9|o>>>23)+x|0)<<13|o>>>19)+S|0)<<18|o>>>14,U^=(o=(x^=(o=(E^=(o=(d^=(o=U+x|0)<<7|o>>>25)+U|0)<<9|o>>>23)+d|0)<<13|o>>>19)+E|0)<<18|o>>>14,m^=(o=(M^=(o=(S^=(o=(B^=(o=m+M|0)<<7|o>>>25)+m|0)<<9|o>>>23)+B|0)<<13|o>>>19)+S|0)<<18|o>>>14,Y^=(o=(K^=(o=(k^=(o=(L^=(o=Y+K|0)<<7|o>>>25)+Y|0)<<9|o>>>23)+L|0)<<13|o>>>19)+k|0)<<18|o>>>14,P^=(o=(R^=(o=(z^=(o=(T^=(o=P+R|0)<<7|o>>>25)+P|0)<<9|o>>>23)+T|0)<<13|o>>>19)+z|0)<<18|o>>>14;U=U+i|0,d=d+h|0,E=E+a|0,x=x+f|0,M=M+s|0,m=m+u|0,B=B+c|0,S=S+y|0,k=k+l|0,K=K+w|0,Y=Y+v|0,L=L+p|0,T=T+b|0,z=z+g|0,R=R+A|0,P=P+_|0,r[0]=U>>>0&255,r[1]=U>>>8&255,r[2]=U>>>16&255,r[3]=U>>>24&255,r[4]=d>>>0&255,r[5]=d>>>8&255,r[6]=d>>>16&255,r[7]=d>>>24&255,r[8]=E>>>0&255,r[9]=E>>>8&255,r[10]=E>>>16&255,r[11]=E>>>24&255,r[12]=x>>>0&255,r[13]=x>>>8&255,r[14]=x>>>16&255,r[15]=x>>>24&255,r[16]=M>>>0&255,r[17]=M>>>8&255,r[18]=M>>>16&255,r[19]=M>>>24&255,r[20]=m>>>0&255,r[21]=m>>>8&255,r[22]=m>>>16&255,r[23]=m>>>24&255,r[24]=B>>>0&255,r[25]=B>>>8&255,r[26]=B>>>16&255,r[27]=B>>>24&255,r[28]=S>>>0&255,r[29]=S>>>8&255,r[30]=S>>>16&255,r[31]=S>>>24&255,r[32]=k>>>0&255,r[33]=k>>>8&255,r[34]=k>>>16&255,r[35]=k>>>24&255,r[36]=K>>>0&255,r[37]=K>>>8&255,r[38]=K>>>16&255,r[39]=K>>>24&255,r[40]=Y>>>0&255,r[41]=Y>>>8&255,r[42]=Y>>>16&255,r[43]=Y>>>24&255,r[44]=L>>>0&255,r[45]=L>>>8&255,r[46]=L>>>16&255,r[47]=L>>>24&255,r[48]=T>>>0&255,r[49]=T>>>8&255,r[50]=T>>>16&255,r[51]=T>>>24&255,r[52]=z>>>0&255,r[53]=z>>>8&255,r[54]=z>>>16&255,r[55]=z>>>24&255,r[56]=R>>>0&255,r[57]=R>>>8&255,r[58]=R>>>16&255,r[59]=R>>>24&255,r[60]=P>>>0&255,r[61]=P>>>8&255,r[62]=P>>>16&255,r[63]=P>>>24&255}(r,t,n,e)}function _(r,t,n,e){!function(r,t,n,e){for(var o,i=255&e[0]|(255&e[1])<<8|(255&e[2])<<16|(255&e[3])<<24,h=255&n[0]|(255&n[1])<<8|(255&n[2])<<16|(255&n[3])<<24,a=255&n[4]|(255&n[5])<<8|(255&n[6])<<16|(255&n[7])<<24,f=255&n[8]|(255&n[9])<<8|(255&n[10])<<16|(255&n[11])<<24,s=255&n[12]|(255&n[13])<<8|(255&n[14])<<16|(255&n[15])<<24,u=255&e[4]|(255&e[5])<<8|(255&e[6])<<16|(255&e[7])<<24,c=255&t[0]|(255&t[1])<<8|(255&t[2])<<16|(255&t[3])<<24,y=255&t[4]|(255&t[5])<<8|(255&t[6])<<16|(255&t[7])<<24,l=255&t[8]|(255&t[9])<<8|(255&t[10])<<16|(255&t[11])<<24,w=255&t[12]|(255&t[13])<<8|(255&t[14])<<16|(255&t[15])<<24,v=255&e[8]|(255&e[9])<<8|(255&e[10])<<16|(255&e[11])<<24,p=255&n[16]|(255&n[17])<<8|(255&n[18])<<16|(255&n[19])<<24,b=255&n[20]|(255&n[21])<<8|(255&n[22])<<16|(255&n[23])<<24,g=255&n[24]|(255&n[25])<<8|(255&n[26])<<16|(255&n[27])<<24,A=255&n[28]|(255&n[29])<<8|(255&n[30])<<16|(255&n[31])<<24,_=255&e[12]|(255&e[13])<<8|(255&e[14])<<16|(255&e[15])<<24,U=0;U<20;U+=2)i^=(o=(b^=(o=(l^=(o=(s^=(o=i+b|0)<<7|o>>>25)+i|0)<<9|o>>>23)+s|0)<<13|o>>>19)+l|0)<<18|o>>>14,u^=(o=(h^=(o=(g^=(o=(w^=(o=u+h|0)<<7|o>>>25)+u|0)<<9|o>>>23)+w|0)<<13|o>>>19)+g|0)<<18|o>>>14,v^=(o=(c^=(o=(a^=(o=(A^=(o=v+c|0)<<7|o>>>25)+v|0)<<9|o>>>23)+A|0)<<13|o>>>19)+a|0)<<18|o>>>14,_^=(o=(p^=(o=(y^=(o=(f^=(o=_+p|0)<<7|o>>>25)+_|0)<<9|o>>>23)+f|0)<<13|o>>>19)+y|0)<<18|o>>>14,i^=(o=(f^=(o=(a^=(o=(h^=(o=i+f|0)<<7|o>>>25)+i|0)<<9|o>>>23)+h|0)<<13|o>>>19)+a|0)<<18|o>>>14,u^=(o=(s^=(o=(y^=(o=(c^=(o=u+s|0)<<7|o>>>25)+u|0)<<9|o>>>23)+c|0)<<13|o>>>19)+y|0)<<18|o>>>14,v^=(o=(w^=(o=(l^=(o=(p^=(o=v+w|0)<<7|o>>>25)+v|0)<<9|o>>>23)+p|0)<<13|o>>>19)+l|0)<<18|o>>>14,_^=(o=(A^=(o=(g^=(o=(b^=(o=_+A|0)<<7|o>>>25)+_|0)<<9|o>>>23)+b|0)<<13|o>>>19)+g|0)<<18|o>>>14;r[0]=i>>>0&255,r[1]=i>>>8&255,r[2]=i>>>16&255,r[3]=i>>>24&255,r[4]=u>>>0&255,r[5]=u>>>8&255,r[6]=u>>>16&255,r[7]=u>>>24&255,r[8]=v>>>0&255,r[9]=v>>>8&255,r[10]=v>>>16&255,r[11]=v>>>24&255,r[12]=_>>>0&255,r[13]=_>>>8&255,r[14]=_>>>16&255,r[15]=_>>>24&255,r[16]=c>>>0&255,r[17]=c>>>8&255,r[18]=c>>>16&255,r[19]=c>>>24&255,r[20]=y>>>0&255,r[21]=y>>>8&255,r[22]=y>>>16&255,r[23]=y>>>24&255,r[24]=l>>>0&255,r[25]=l>>>8&255,r[26]=l>>>16&255,r[27]=l>>>24&255,r[28]=w>>>0&255,r[29]=w>>>8&255,r[30]=w>>>16&255,r[31]=w>>>24&255}(r,t,n,e)}var U=new Uint8Array([101,120,112,97,110,100,32,51,50,45,98,121,116,101,32,107]);function d(r,t,n,e,o,i,h){var a,f,s=new Uint8Array(16),u=new Uint8Array(64);for(f=0;f<16;f++)s[f]=0;for(f=0;f<8;f++)s[f]=i[f];for(;64<=o;){for(A(u,s,h,U),f=0;f<64;f++)r[t+f]=n[e+f]^u[f];for(a=1,f=8;f<16;f++)a=a+(255&s[f])|0,s[f]=255&a,a>>>=8;o-=64,t+=64,e+=64}if(0<o)for(A(u,s,h,U),f=0;f<o;f++)r[t+f]=n[e+f]^u[f];return 0}function E(r,t,n,e,o){var i,h,a=new Uint8Array(16),f=new Uint8Array(64);for(h=0;h<16;h++)a[h]=0;for(h=0;h<8;h++)a[h]=e[h];for(;64<=n;){for(A(f,a,o,U),h=0;h<64;h++)r[t+h]=f[h];for(i=1,h=8;h<16;h++)i=i+(255&a[h])|0,a[h]=255&i,i>>>=8;n-=64,t+=64}if(0<n)for(A(f,a,o,U),h=0;h<n;h++)r[t+h]=f[h];return 0}function x(r,t,n,e,o){var i=new Uint8Array(32);_(i,e,o,U);for(var h=new Uint8Array(8),a=0;a<8;a++)h[a]=e[a+16];return E(r,t,n,h,i)}function M(r,t,n,e,o,i,h){var a=new Uint8Array(32);_(a,i,h,U);for(var f=new Uint8Array(8),s=0;s<8;s++)f[s]=i[s+16];return d(r,t,n,e,o,f,a)}var m=function(r){var t,n,e,o,i,h,a,f;this.buffer=new Uint8Array(16),this.r=new Uint16Array(10),this.h=new Uint16Array(10),this.pad=new Uint16Array(8),this.leftover=0,t=255&r[this.fin=0]|(255&r[1])<<8,this.r[0]=8191&t,n=255&r[2]|(255&r[3])<<8,this.r[1]=8191&(t>>>13|n<<3),e=255&r[4]|(255&r[5])<<8,this.r[2]=7939&(n>>>10|e<<6),o=255&r[6]|(255&r[7])<<8,this.r[3]=8191&(e>>>7|o<<9),i=255&r[8]|(255&r[9])<<8,this.r[4]=255&(o>>>4|i<<12),this.r[5]=i>>>1&8190,h=255&r[10]|(255&r[11])<<8,this.r[6]=8191&(i>>>14|h<<2),a=255&r[12]|(255&r[13])<<8,this.r[7]=8065&(h>>>11|a<<5),f=255&r[14]|(255&r[15])<<8,this.r[8]=8191&(a>>>8|f<<8),this.r[9]=f>>>5&127,this.pad[0]=255&r[16]|(255&r[17])<<8,this.pad[1]=255&r[18]|(255&r[19])<<8,this.pad[2]=255&r[20]|(255&r[21])<<8,this.pad[3]=255&r[22]|(255&r[23])<<8,this.pad[4]=255&r[24]|(255&r[25])<<8,this.pad[5]=255&r[26]|(255&r[27])<<8,this.pad[6]=255&r[28]|(255&r[29])<<8,this.pad[7]=255&r[30]|(255&r[31])<<8};function B(r,t,n,e,o,i){var h=new m(i);return h.update(n,e,o),h.finish(r,t),0}function S(r,t,n,e,o,i){var h=new Uint8Array(16);return B(h,0,n,e,o,i),b(r,t,h,0)}function k(r,t,n,e,o){var i;if(n<32)return-1;for(M(r,0,t,0,n,e,o),B(r,16,r,32,n-32,r),i=0;i<16;i++)r[i]=0;return 0}function K(r,t,n,e,o){var i,h=new Uint8Array(32);if(n<32)return-1;if(x(h,0,32,e,o),0!==S(t,16,t,32,n-32,h))return-1;for(M(r,0,t,0,n,e,o),i=0;i<32;i++)r[i]=0;return 0}function Y(r,t){var n;for(n=0;n<16;n++)r[n]=0|t[n]}function L(r){var t,n,e=1;for(t=0;t<16;t++)n=r[t]+e+65535,e=Math.floor(n/65536),r[t]=n-65536*e;r[0]+=e-1+37*(e-1)}function T(r,t,n){for(var e,o=~(n-1),i=0;i<16;i++)e=o&(r[i]^t[i]),r[i]^=e,t[i]^=e}function z(r,t){var n,e,o,i=v(),h=v();for(n=0;n<16;n++)h[n]=t[n];for(L(h),L(h),L(h),e=0;e<2;e++){for(i[0]=h[0]-65517,n=1;n<15;n++)i[n]=h[n]-65535-(i[n-1]>>16&1),i[n-1]&=65535;i[15]=h[15]-32767-(i[14]>>16&1),o=i[15]>>16&1,i[14]&=65535,T(h,i,1-o)}for(n=0;n<16;n++)r[2*n]=255&h[n],r[2*n+1]=h[n]>>8}function R(r,t){var n=new Uint8Array(32),e=new Uint8Array(32);return z(n,r),z(e,t),g(n,0,e,0)}function P(r){var t=new Uint8Array(32);return z(t,r),1&t[0]}function N(r,t){var n;for(n=0;n<16;n++)r[n]=t[2*n]+(t[2*n+1]<<8);r[15]&=32767}function O(r,t,n){for(var e=0;e<16;e++)r[e]=t[e]+n[e]}function C(r,t,n){for(var e=0;e<16;e++)r[e]=t[e]-n[e]}function F(r,t,n){var e,o,i=0,h=0,a=0,f=0,s=0,u=0,c=0,y=0,l=0,w=0,v=0,p=0,b=0,g=0,A=0,_=0,U=0,d=0,E=0,x=0,M=0,m=0,B=0,S=0,k=0,K=0,Y=0,L=0,T=0,z=0,R=0,P=n[0],N=n[1],O=n[2],C=n[3],F=n[4],I=n[5],Z=n[6],G=n[7],q=n[8],D=n[9],V=n[10],X=n[11],j=n[12],H=n[13],J=n[14],Q=n[15];i+=(e=t[0])*P,h+=e*N,a+=e*O,f+=e*C,s+=e*F,u+=e*I,c+=e*Z,y+=e*G,l+=e*q,w+=e*D,v+=e*V,p+=e*X,b+=e*j,g+=e*H,A+=e*J,_+=e*Q,h+=(e=t[1])*P,a+=e*N,f+=e*O,s+=e*C,u+=e*F,c+=e*I,y+=e*Z,l+=e*G,w+=e*q,v+=e*D,p+=e*V,b+=e*X,g+=e*j,A+=e*H,_+=e*J,U+=e*Q,a+=(e=t[2])*P,f+=e*N,s+=e*O,u+=e*C,c+=e*F,y+=e*I,l+=e*Z,w+=e*G,v+=e*q,p+=e*D,b+=e*V,g+=e*X,A+=e*j,_+=e*H,U+=e*J,d+=e*Q,f+=(e=t[3])*P,s+=e*N,u+=e*O,c+=e*C,y+=e*F,l+=e*I,w+=e*Z,v+=e*G,p+=e*q,b+=e*D,g+=e*V,A+=e*X,_+=e*j,U+=e*H,d+=e*J,E+=e*Q,s+=(e=t[4])*P,u+=e*N,c+=e*O,y+=e*C,l+=e*F,w+=e*I,v+=e*Z,p+=e*G,b+=e*q,g+=e*D,A+=e*V,_+=e*X,U+=e*j,d+=e*H,E+=e*J,x+=e*Q,u+=(e=t[5])*P,c+=e*N,y+=e*O,l+=e*C,w+=e*F,v+=e*I,p+=e*Z,b+=e*G,g+=e*q,A+=e*D,_+=e*V,U+=e*X,d+=e*j,E+=e*H,x+=e*J,M+=e*Q,c+=(e=t[6])*P,y+=e*N,l+=e*O,w+=e*C,v+=e*F,p+=e*I,b+=e*Z,g+=e*G,A+=e*q,_+=e*D,U+=e*V,d+=e*X,E+=e*j,x+=e*H,M+=e*J,m+=e*Q,y+=(e=t[7])*P,l+=e*N,w+=e*O,v+=e*C,p+=e*F,b+=e*I,g+=e*Z,A+=e*G,_+=e*q,U+=e*D,d+=e*V,E+=e*X,x+=e*j,M+=e*H,m+=e*J,B+=e*Q,l+=(e=t[8])*P,w+=e*N,v+=e*O,p+=e*C,b+=e*F,g+=e*I,A+=e*Z,_+=e*G,U+=e*q,d+=e*D,E+=e*V,x+=e*X,M+=e*j,m+=e*H,B+=e*J,S+=e*Q,w+=(e=t[9])*P,v+=e*N,p+=e*O,b+=e*C,g+=e*F,A+=e*I,_+=e*Z,U+=e*G,d+=e*q,E+=e*D,x+=e*V,M+=e*X,m+=e*j,B+=e*H,S+=e*J,k+=e*Q,v+=(e=t[10])*P,p+=e*N,b+=e*O,g+=e*C,A+=e*F,_+=e*I,U+=e*Z,d+=e*G,E+=e*q,x+=e*D,M+=e*V,m+=e*X,B+=e*j,S+=e*H,k+=e*J,K+=e*Q,p+=(e=t[11])*P,b+=e*N,g+=e*O,A+=e*C,_+=e*F,U+=e*I,d+=e*Z,E+=e*G,x+=e*q,M+=e*D,m+=e*V,B+=e*X,S+=e*j,k+=e*H,K+=e*J,Y+=e*Q,b+=(e=t[12])*P,g+=e*N,A+=e*O,_+=e*C,U+=e*F,d+=e*I,E+=e*Z,x+=e*G,M+=e*q,m+=e*D,B+=e*V,S+=e*X,k+=e*j,K+=e*H,Y+=e*J,L+=e*Q,g+=(e=t[13])*P,A+=e*N,_+=e*O,U+=e*C,d+=e*F,E+=e*I,x+=e*Z,M+=e*G,m+=e*q,B+=e*D,S+=e*V,k+=e*X,K+=e*j,Y+=e*H,L+=e*J,T+=e*Q,A+=(e=t[14])*P,_+=e*N,U+=e*O,d+=e*C,E+=e*F,x+=e*I,M+=e*Z,m+=e*G,B+=e*q,S+=e*D,k+=e*V,K+=e*X,Y+=e*j,L+=e*H,T+=e*J,z+=e*Q,_+=(e=t[15])*P,h+=38*(d+=e*O),a+=38*(E+=e*C),f+=38*(x+=e*F),s+=38*(M+=e*I),u+=38*(m+=e*Z),c+=38*(B+=e*G),y+=38*(S+=e*q),l+=38*(k+=e*D),w+=38*(K+=e*V),v+=38*(Y+=e*X),p+=38*(L+=e*j),b+=38*(T+=e*H),g+=38*(z+=e*J),A+=38*(R+=e*Q),i=(e=(i+=38*(U+=e*N))+(o=1)+65535)-65536*(o=Math.floor(e/65536)),h=(e=h+o+65535)-65536*(o=Math.floor(e/65536)),a=(e=a+o+65535)-65536*(o=Math.floor(e/65536)),f=(e=f+o+65535)-65536*(o=Math.floor(e/65536)),s=(e=s+o+65535)-65536*(o=Math.floor(e/65536)),u=(e=u+o+65535)-65536*(o=Math.floor(e/65536)),c=(e=c+o+65535)-65536*(o=Math.floor(e/65536)),y=(e=y+o+65535)-65536*(o=Math.floor(e/65536)),l=(e=l+o+65535)-65536*(o=Math.floor(e/65536)),w=(e=w+o+65535)-65536*(o=Math.floor(e/65536)),v=(e=v+o+65535)-65536*(o=Math.floor(e/65536)),p=(e=p+o+65535)-65536*(o=Math.floor(e/65536)),b=(e=b+o+65535)-65536*(o=Math.floor(e/65536)),g=(e=g+o+65535)-65536*(o=Math.floor(e/65536)),A=(e=A+o+65535)-65536*(o=Math.floor(e/65536)),_=(e=_+o+65535)-65536*(o=Math.floor(e/65536)),i=(e=(i+=o-1+37*(o-1))+(o=1)+65535)-65536*(o=Math.floor(e/65536)),h=(e=h+o+65535)-65536*(o=Math.floor(e/65536)),a=(e=a+o+65535)-65536*(o=Math.floor(e/65536)),f=(e=f+o+65535)-65536*(o=Math.floor(e/65536)),s=(e=s+o+65535)-65536*(o=Math.floor(e/65536)),u=(e=u+o+65535)-65536*(o=Math.floor(e/65536)),c=(e=c+o+65535)-65536*(o=Math.floor(e/65536)),y=(e=y+o+65535)-65536*(o=Math.floor(e/65536)),l=(e=l+o+65535)-65536*(o=Math.floor(e/65536)),w=(e=w+o+65535)-65536*(o=Math.floor(e/65536)),v=(e=v+o+65535)-65536*(o=Math.floor(e/65536)),p=(e=p+o+65535)-65536*(o=Math.floor(e/65536)),b=(e=b+o+65535)-65536*(o=Math.floor(e/65536)),g=(e=g+o+65535)-65536*(o=Math.floor(e/65536)),A=(e=A+o+65535)-65536*(o=Math.floor(e/65536)),_=(e=_+o+65535)-65536*(o=Math.floor(e/65536)),i+=o-1+37*(o-1),r[0]=i,r[1]=h,r[2]=a,r[3]=f,r[4]=s,r[5]=u,r[6]=c,r[7]=y,r[8]=l,r[9]=w,r[10]=v,r[11]=p,r[12]=b,r[13]=g,r[14]=A,r[15]=_}function I(r,t){F(r,t,t)}function Z(r,t){var n,e=v();for(n=0;n<16;n++)e[n]=t[n];for(n=253;0<=n;n--)I(e,e),2!==n&&4!==n&&F(e,e,t);for(n=0;n<16;n++)r[n]=e[n]}function G(r,t){var n,e=v();for(n=0;n<16;n++)e[n]=t[n];for(n=250;0<=n;n--)I(e,e),1!==n&&F(e,e,t);for(n=0;n<16;n++)r[n]=e[n]}function q(r,t,n){var e,o,i=new Uint8Array(32),h=new Float64Array(80),a=v(),f=v(),s=v(),u=v(),c=v(),y=v();for(o=0;o<31;o++)i[o]=t[o];for(i[31]=127&t[31]|64,i[0]&=248,N(h,n),o=0;o<16;o++)f[o]=h[o],u[o]=a[o]=s[o]=0;for(a[0]=u[0]=1,o=254;0<=o;--o)T(a,f,e=i[o>>>3]>>>(7&o)&1),T(s,u,e),O(c,a,s),C(a,a,s),O(s,f,u),C(f,f,u),I(u,c),I(y,a),F(a,s,a),F(s,f,c),O(c,a,s),C(a,a,s),I(f,a),C(s,u,y),F(a,s,p),O(a,a,u),F(s,s,a),F(a,u,y),F(u,f,h),I(f,c),T(a,f,e),T(s,u,e);for(o=0;o<16;o++)h[o+16]=a[o],h[o+32]=s[o],h[o+48]=f[o],h[o+64]=u[o];var l=h.subarray(32),w=h.subarray(16);return Z(l,l),F(w,w,l),z(r,w),0}function D(r,t){return q(r,t,n)}function V(r,t){return h(t,32),D(r,t)}function X(r,t,n){var e=new Uint8Array(32);return q(e,n,t),_(r,o,e,U)}m.prototype.blocks=function(r,t,n){for(var e,o,i,h,a,f,s,u,c,y,l,w,v,p,b,g,A,_,U,d=this.fin?0:2048,E=this.h[0],x=this.h[1],M=this.h[2],m=this.h[3],B=this.h[4],S=this.h[5],k=this.h[6],K=this.h[7],Y=this.h[8],L=this.h[9],T=this.r[0],z=this.r[1],R=this.r[2],P=this.r[3],N=this.r[4],O=this.r[5],C=this.r[6],F=this.r[7],I=this.r[8],Z=this.r[9];16<=n;)y=c=0,y+=(E+=8191&(e=255&r[t+0]|(255&r[t+1])<<8))*T,y+=(x+=8191&(e>>>13|(o=255&r[t+2]|(255&r[t+3])<<8)<<3))*(5*Z),y+=(M+=8191&(o>>>10|(i=255&r[t+4]|(255&r[t+5])<<8)<<6))*(5*I),y+=(m+=8191&(i>>>7|(h=255&r[t+6]|(255&r[t+7])<<8)<<9))*(5*F),c=(y+=(B+=8191&(h>>>4|(a=255&r[t+8]|(255&r[t+9])<<8)<<12))*(5*C))>>>13,y&=8191,y+=(S+=a>>>1&8191)*(5*O),y+=(k+=8191&(a>>>14|(f=255&r[t+10]|(255&r[t+11])<<8)<<2))*(5*N),y+=(K+=8191&(f>>>11|(s=255&r[t+12]|(255&r[t+13])<<8)<<5))*(5*P),y+=(Y+=8191&(s>>>8|(u=255&r[t+14]|(255&r[t+15])<<8)<<8))*(5*R),l=c+=(y+=(L+=u>>>5|d)*(5*z))>>>13,l+=E*z,l+=x*T,l+=M*(5*Z),l+=m*(5*I),c=(l+=B*(5*F))>>>13,l&=8191,l+=S*(5*C),l+=k*(5*O),l+=K*(5*N),l+=Y*(5*P),c+=(l+=L*(5*R))>>>13,l&=8191,w=c,w+=E*R,w+=x*z,w+=M*T,w+=m*(5*Z),c=(w+=B*(5*I))>>>13,w&=8191,w+=S*(5*F),w+=k*(5*C),w+=K*(5*O),w+=Y*(5*N),v=c+=(w+=L*(5*P))>>>13,v+=E*P,v+=x*R,v+=M*z,v+=m*T,c=(v+=B*(5*Z))>>>13,v&=8191,v+=S*(5*I),v+=k*(5*F),v+=K*(5*C),v+=Y*(5*O),p=c+=(v+=L*(5*N))>>>13,p+=E*N,p+=x*P,p+=M*R,p+=m*z,c=(p+=B*T)>>>13,p&=8191,p+=S*(5*Z),p+=k*(5*I),p+=K*(5*F),p+=Y*(5*C),b=c+=(p+=L*(5*O))>>>13,b+=E*O,b+=x*N,b+=M*P,b+=m*R,c=(b+=B*z)>>>13,b&=8191,b+=S*T,b+=k*(5*Z),b+=K*(5*I),b+=Y*(5*F),g=c+=(b+=L*(5*C))>>>13,g+=E*C,g+=x*O,g+=M*N,g+=m*P,c=(g+=B*R)>>>13,g&=8191,g+=S*z,g+=k*T,g+=K*(5*Z),g+=Y*(5*I),A=c+=(g+=L*(5*F))>>>13,A+=E*F,A+=x*C,A+=M*O,A+=m*N,c=(A+=B*P)>>>13,A&=8191,A+=S*R,A+=k*z,A+=K*T,A+=Y*(5*Z),_=c+=(A+=L*(5*I))>>>13,_+=E*I,_+=x*F,_+=M*C,_+=m*O,c=(_+=B*N)>>>13,_&=8191,_+=S*P,_+=k*R,_+=K*z,_+=Y*T,U=c+=(_+=L*(5*Z))>>>13,U+=E*Z,U+=x*I,U+=M*F,U+=m*C,c=(U+=B*O)>>>13,U&=8191,U+=S*N,U+=k*P,U+=K*R,U+=Y*z,E=y=8191&(c=(c=((c+=(U+=L*T)>>>13)<<2)+c|0)+(y&=8191)|0),x=l+=c>>>=13,M=w&=8191,m=v&=8191,B=p&=8191,S=b&=8191,k=g&=8191,K=A&=8191,Y=_&=8191,L=U&=8191,t+=16,n-=16;this.h[0]=E,this.h[1]=x,this.h[2]=M,this.h[3]=m,this.h[4]=B,this.h[5]=S,this.h[6]=k,this.h[7]=K,this.h[8]=Y,this.h[9]=L},m.prototype.finish=function(r,t){var n,e,o,i,h=new Uint16Array(10);if(this.leftover){for(i=this.leftover,this.buffer[i++]=1;i<16;i++)this.buffer[i]=0;this.fin=1,this.blocks(this.buffer,0,16)}for(n=this.h[1]>>>13,this.h[1]&=8191,i=2;i<10;i++)this.h[i]+=n,n=this.h[i]>>>13,this.h[i]&=8191;for(this.h[0]+=5*n,n=this.h[0]>>>13,this.h[0]&=8191,this.h[1]+=n,n=this.h[1]>>>13,this.h[1]&=8191,this.h[2]+=n,h[0]=this.h[0]+5,n=h[0]>>>13,h[0]&=8191,i=1;i<10;i++)h[i]=this.h[i]+n,n=h[i]>>>13,h[i]&=8191;for(h[9]-=8192,e=(1^n)-1,i=0;i<10;i++)h[i]&=e;for(e=~e,i=0;i<10;i++)this.h[i]=this.h[i]&e|h[i];for(this.h[0]=65535&(this.h[0]|this.h[1]<<13),this.h[1]=65535&(this.h[1]>>>3|this.h[2]<<10),this.h[2]=65535&(this.h[2]>>>6|this.h[3]<<7),this.h[3]=65535&(this.h[3]>>>9|this.h[4]<<4),this.h[4]=65535&(this.h[4]>>>12|this.h[5]<<1|this.h[6]<<14),this.h[5]=65535&(this.h[6]>>>2|this.h[7]<<11),this.h[6]=65535&(this.h[7]>>>5|this.h[8]<<8),this.h[7]=65535&(this.h[8]>>>8|this.h[9]<<5),o=this.h[0]+this.pad[0],this.h[0]=65535&o,i=1;i<8;i++)o=(this.h[i]+this.pad[i]|0)+(o>>>16)|0,this.h[i]=65535&o;r[t+0]=this.h[0]>>>0&255,r[t+1]=this.h[0]>>>8&255,r[t+2]=this.h[1]>>>0&255,r[t+3]=this.h[1]>>>8&255,r[t+4]=this.h[2]>>>0&255,r[t+5]=this.h[2]>>>8&255,r[t+6]=this.h[3]>>>0&255,r[t+7]=this.h[3]>>>8&255,r[t+8]=this.h[4]>>>0&255,r[t+9]=this.h[4]>>>8&255,r[t+10]=this.h[5]>>>0&255,r[t+11]=this.h[5]>>>8&255,r[t+12]=this.h[6]>>>0&255,r[t+13]=this.h[6]>>>8&255,r[t+14]=this.h[7]>>>0&255,r[t+15]=this.h[7]>>>8&255},m.prototype.update=function(r,t,n){var e,o;if(this.leftover){for(n<(o=16-this.leftover)&&(o=n),e=0;e<o;e++)this.buffer[this.leftover+e]=r[t+e];if(n-=o,t+=o,this.leftover+=o,this.leftover<16)return;this.blocks(this.buffer,0,16),this.leftover=0}if(16<=n&&(o=n-n%16,this.blocks(r,t,o),t+=o,n-=o),n){for(e=0;e<n;e++)this.buffer[this.leftover+e]=r[t+e];this.leftover+=n}};var j=k,H=K;var J=[1116352408,3609767458,1899447441,602891725,3049323471,3964484399,3921009573,2173295548,961987163,4081628472,1508970993,3053834265,2453635748,2937671579,2870763221,3664609560,3624381080,2734883394,310598401,1164996542,607225278,1323610764,1426881987,3590304994,1925078388,4068182383,2162078206,991336113,2614888103,633803317,3248222580,3479774868,3835390401,2666613458,4022224774,944711139,264347078,2341262773,604807628,2007800933,770255983,1495990901,1249150122,1856431235,1555081692,3175218132,1996064986,2198950837,2554220882,3999719339,2821834349,766784016,2952996808,2566594879,3210313671,3203337956,3336571891,1034457026,3584528711,2466948901,113926993,3758326383,338241895,168717936,666307205,1188179964,773529912,1546045734,1294757372,1522805485,1396182291,2643833823,1695183700,2343527390,1986661051,1014477480,2177026350,1206759142,2456956037,344077627,2730485921,1290863460,2820302411,3158454273,3259730800,3505952657,3345764771,106217008,3516065817,3606008344,3600352804,1432725776,4094571909,1467031594,275423344,851169720,430227734,3100823752,506948616,1363258195,659060556,3750685593,883997877,3785050280,958139571,3318307427,1322822218,3812723403,1537002063,2003034995,1747873779,3602036899,1955562222,1575990012,2024104815,1125592928,2227730452,2716904306,2361852424,442776044,2428436474,593698344,2756734187,3733110249,3204031479,2999351573,3329325298,3815920427,3391569614,3928383900,3515267271,566280711,3940187606,3454069534,4118630271,4000239992,116418474,1914138554,174292421,2731055270,289380356,3203993006,460393269,320620315,685471733,587496836,852142971,1086792851,1017036298,365543100,1126000580,2618297676,1288033470,3409855158,1501505948,4234509866,1607167915,987167468,1816402316,1246189591];function Q(r,t,n,e){for(var o,i,h,a,f,s,u,c,y,l,w,v,p,b,g,A,_,U,d,E,x,M,m,B,S=new Int32Array(16),k=new Int32Array(16),K=r[0],Y=r[1],L=r[2],T=r[3],z=r[4],R=r[5],P=r[6],N=r[7],O=t[0],C=t[1],F=t[2],I=t[3],Z=t[4],G=t[5],q=t[6],D=t[7],V=0;128<=e;){for(_=0;_<16;_++)U=8*_+V,S[_]=n[U+0]<<24|n[U+1]<<16|n[U+2]<<8|n[U+3],k[_]=n[U+4]<<24|n[U+5]<<16|n[U+6]<<8|n[U+7];for(_=0;_<80;_++)if(o=Y,i=L,h=T,c=C,y=F,l=I,x=65535&(E=D),M=E>>>16,m=65535&(d=N),B=d>>>16,x+=65535&(E=((w=Z)>>>14|(a=z)<<18)^(Z>>>18|z<<14)^(z>>>9|Z<<23)),M+=E>>>16,m+=65535&(d=(z>>>14|Z<<18)^(z>>>18|Z<<14)^(Z>>>9|z<<23)),B+=d>>>16,x+=65535&(E=Z&(v=G)^~Z&(p=q)),M+=E>>>16,m+=65535&(d=z&(f=R)^~z&(s=P)),B+=d>>>16,d=J[2*_],x+=65535&(E=J[2*_+1]),M+=E>>>16,m+=65535&d,B+=d>>>16,d=S[_%16],M+=(E=k[_%16])>>>16,m+=65535&d,B+=d>>>16,m+=(M+=(x+=65535&E)>>>16)>>>16,x=65535&(E=A=65535&x|M<<16),M=E>>>16,m=65535&(d=g=65535&m|(B+=m>>>16)<<16),B=d>>>16,x+=65535&(E=(O>>>28|K<<4)^(K>>>2|O<<30)^(K>>>7|O<<25)),M+=E>>>16,m+=65535&(d=(K>>>28|O<<4)^(O>>>2|K<<30)^(O>>>7|K<<25)),B+=d>>>16,M+=(E=O&C^O&F^C&F)>>>16,m+=65535&(d=K&Y^K&L^Y&L),B+=d>>>16,u=65535&(m+=(M+=(x+=65535&E)>>>16)>>>16)|(B+=m>>>16)<<16,b=65535&x|M<<16,x=65535&(E=l),M=E>>>16,m=65535&(d=h),B=d>>>16,M+=(E=A)>>>16,m+=65535&(d=g),B+=d>>>16,Y=K,L=o,T=i,z=h=65535&(m+=(M+=(x+=65535&E)>>>16)>>>16)|(B+=m>>>16)<<16,R=a,P=f,N=s,K=u,C=O,F=c,I=y,Z=l=65535&x|M<<16,G=w,q=v,D=p,O=b,_%16==15)for(U=0;U<16;U++)d=S[U],x=65535&(E=k[U]),M=E>>>16,m=65535&d,B=d>>>16,d=S[(U+9)%16],x+=65535&(E=k[(U+9)%16]),M+=E>>>16,m+=65535&d,B+=d>>>16,g=S[(U+1)%16],x+=65535&(E=((A=k[(U+1)%16])>>>1|g<<31)^(A>>>8|g<<24)^(A>>>7|g<<25)),M+=E>>>16,m+=65535&(d=(g>>>1|A<<31)^(g>>>8|A<<24)^g>>>7),B+=d>>>16,g=S[(U+14)%16],M+=(E=((A=k[(U+14)%16])>>>19|g<<13)^(g>>>29|A<<3)^(A>>>6|g<<26))>>>16,m+=65535&(d=(g>>>19|A<<13)^(A>>>29|g<<3)^g>>>6),B+=d>>>16,B+=(m+=(M+=(x+=65535&E)>>>16)>>>16)>>>16,S[U]=65535&m|B<<16,k[U]=65535&x|M<<16;x=65535&(E=O),M=E>>>16,m=65535&(d=K),B=d>>>16,d=r[0],M+=(E=t[0])>>>16,m+=65535&d,B+=d>>>16,B+=(m+=(M+=(x+=65535&E)>>>16)>>>16)>>>16,r[0]=K=65535&m|B<<16,t[0]=O=65535&x|M<<16,x=65535&(E=C),M=E>>>16,m=65535&(d=Y),B=d>>>16,d=r[1],M+=(E=t[1])>>>16,m+=65535&d,B+=d>>>16,B+=(m+=(M+=(x+=65535&E)>>>16)>>>16)>>>16,r[1]=Y=65535&m|B<<16,t[1]=C=65535&x|M<<16,x=65535&(E=F),M=E>>>16,m=65535&(d=L),B=d>>>16,d=r[2],M+=(E=t[2])>>>16,m+=65535&d,B+=d>>>16,B+=(m+=(M+=(x+=65535&E)>>>16)>>>16)>>>16,r[2]=L=65535&m|B<<16,t[2]=F=65535&x|M<<16,x=65535&(E=I),M=E>>>16,m=65535&(d=T),B=d>>>16,d=r[3],M+=(E=t[3])>>>16,m+=65535&d,B+=d>>>16,B+=(m+=(M+=(x+=65535&E)>>>16)>>>16)>>>16,r[3]=T=65535&m|B<<16,t[3]=I=65535&x|M<<16,x=65535&(E=Z),M=E>>>16,m=65535&(d=z),B=d>>>16,d=r[4],M+=(E=t[4])>>>16,m+=65535&d,B+=d>>>16,B+=(m+=(M+=(x+=65535&E)>>>16)>>>16)>>>16,r[4]=z=65535&m|B<<16,t[4]=Z=65535&x|M<<16,x=65535&(E=G),M=E>>>16,m=65535&(d=R),B=d>>>16,d=r[5],M+=(E=t[5])>>>16,m+=65535&d,B+=d>>>16,B+=(m+=(M+=(x+=65535&E)>>>16)>>>16)>>>16,r[5]=R=65535&m|B<<16,t[5]=G=65535&x|M<<16,x=65535&(E=q),M=E>>>16,m=65535&(d=P),B=d>>>16,d=r[6],M+=(E=t[6])>>>16,m+=65535&d,B+=d>>>16,B+=(m+=(M+=(x+=65535&E)>>>16)>>>16)>>>16,r[6]=P=65535&m|B<<16,t[6]=q=65535&x|M<<16,x=65535&(E=D),M=E>>>16,m=65535&(d=N),B=d>>>16,d=r[7],M+=(E=t[7])>>>16,m+=65535&d,B+=d>>>16,B+=(m+=(M+=(x+=65535&E)>>>16)>>>16)>>>16,r[7]=N=65535&m|B<<16,t[7]=D=65535&x|M<<16,V+=128,e-=128}return e}function W(r,t,n){var e,o=new Int32Array(8),i=new Int32Array(8),h=new Uint8Array(256),a=n;for(o[0]=1779033703,o[1]=3144134277,o[2]=1013904242,o[3]=2773480762,o[4]=1359893119,o[5]=2600822924,o[6]=528734635,o[7]=1541459225,i[0]=4089235720,i[1]=2227873595,i[2]=4271175723,i[3]=1595750129,i[4]=2917565137,i[5]=725511199,i[6]=4215389547,i[7]=327033209,Q(o,i,t,n),n%=128,e=0;e<n;e++)h[e]=t[a-n+e];for(h[n]=128,h[(n=256-128*(n<112?1:0))-9]=0,f(h,n-8,a/536870912|0,a<<3),Q(o,i,h,n),e=0;e<8;e++)f(r,8*e,o[e],i[e]);return 0}function $(r,t){var n=v(),e=v(),o=v(),i=v(),h=v(),a=v(),f=v(),s=v(),u=v();C(n,r[1],r[0]),C(u,t[1],t[0]),F(n,n,u),O(e,r[0],r[1]),O(u,t[0],t[1]),F(e,e,u),F(o,r[3],t[3]),F(o,o,y),F(i,r[2],t[2]),O(i,i,i),C(h,e,n),C(a,i,o),O(f,i,o),O(s,e,n),F(r[0],h,a),F(r[1],s,f),F(r[2],f,a),F(r[3],h,s)}function rr(r,t,n){var e;for(e=0;e<4;e++)T(r[e],t[e],n)}function tr(r,t){var n=v(),e=v(),o=v();Z(o,t[2]),F(n,t[0],o),F(e,t[1],o),z(r,e),r[31]^=P(n)<<7}function nr(r,t,n){var e,o;for(Y(r[0],s),Y(r[1],u),Y(r[2],u),Y(r[3],s),o=255;0<=o;--o)rr(r,t,e=n[o/8|0]>>(7&o)&1),$(t,r),$(r,r),rr(r,t,e)}function er(r,t){var n=[v(),v(),v(),v()];Y(n[0],e),Y(n[1],a),Y(n[2],u),F(n[3],e,a),nr(r,n,t)}function or(r,t,n){var e,o=new Uint8Array(64),i=[v(),v(),v(),v()];for(n||h(t,32),W(o,t,32),o[0]&=248,o[31]&=127,o[31]|=64,er(i,o),tr(r,i),e=0;e<32;e++)t[e+32]=r[e];return 0}var ir=new Float64Array([237,211,245,92,26,99,18,88,214,156,247,162,222,249,222,20,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,16]);function hr(r,t){var n,e,o,i;for(e=63;32<=e;--e){for(n=0,o=e-32,i=e-12;o<i;++o)t[o]+=n-16*t[e]*ir[o-(e-32)],n=Math.floor((t[o]+128)/256),t[o]-=256*n;t[o]+=n,t[e]=0}for(o=n=0;o<32;o++)t[o]+=n-(t[31]>>4)*ir[o],n=t[o]>>8,t[o]&=255;for(o=0;o<32;o++)t[o]-=n*ir[o];for(e=0;e<32;e++)t[e+1]+=t[e]>>8,r[e]=255&t[e]}function ar(r){var t,n=new Float64Array(64);for(t=0;t<64;t++)n[t]=r[t];for(t=0;t<64;t++)r[t]=0;hr(r,n)}function fr(r,t,n,e){var o,i,h=new Uint8Array(64),a=new Uint8Array(64),f=new Uint8Array(64),s=new Float64Array(64),u=[v(),v(),v(),v()];W(h,e,32),h[0]&=248,h[31]&=127,h[31]|=64;var c=n+64;for(o=0;o<n;o++)r[64+o]=t[o];for(o=0;o<32;o++)r[32+o]=h[32+o];for(W(f,r.subarray(32),n+32),ar(f),er(u,f),tr(r,u),o=32;o<64;o++)r[o]=e[o];for(W(a,r,n+64),ar(a),o=0;o<64;o++)s[o]=0;for(o=0;o<32;o++)s[o]=f[o];for(o=0;o<32;o++)for(i=0;i<32;i++)s[o+i]+=a[o]*h[i];return hr(r.subarray(32),s),c}function sr(r,t,n,e){var o,i=new Uint8Array(32),h=new Uint8Array(64),a=[v(),v(),v(),v()],f=[v(),v(),v(),v()];if(n<64)return-1;if(function(r,t){var n=v(),e=v(),o=v(),i=v(),h=v(),a=v(),f=v();if(Y(r[2],u),N(r[1],t),I(o,r[1]),F(i,o,c),C(o,o,r[2]),O(i,r[2],i),I(h,i),I(a,h),F(f,a,h),F(n,f,o),F(n,n,i),G(n,n),F(n,n,o),F(n,n,i),F(n,n,i),F(r[0],n,i),I(e,r[0]),F(e,e,i),R(e,o)&&F(r[0],r[0],l),I(e,r[0]),F(e,e,i),R(e,o))return 1;P(r[0])===t[31]>>7&&C(r[0],s,r[0]),F(r[3],r[0],r[1])}(f,e))return-1;for(o=0;o<n;o++)r[o]=t[o];for(o=0;o<32;o++)r[o+32]=e[o];if(W(h,r,n),ar(h),nr(a,f,h),er(f,t.subarray(32)),$(a,f),tr(i,a),n-=64,g(t,0,i,0)){for(o=0;o<n;o++)r[o]=0;return-1}for(o=0;o<n;o++)r[o]=t[o+64];return n}function ur(r,t){if(32!==r.length)throw new Error("bad key size");if(24!==t.length)throw new Error("bad nonce size")}function cr(){for(var r=0;r<arguments.length;r++)if(!(arguments[r]instanceof Uint8Array))throw new TypeError("unexpected type, use Uint8Array")}function yr(r){for(var t=0;t<r.length;t++)r[t]=0}i.lowlevel={crypto_core_hsalsa20:_,crypto_stream_xor:M,crypto_stream:x,crypto_stream_salsa20_xor:d,crypto_stream_salsa20:E,crypto_onetimeauth:B,crypto_onetimeauth_verify:S,crypto_verify_16:b,crypto_verify_32:g,crypto_secretbox:k,crypto_secretbox_open:K,crypto_scalarmult:q,crypto_scalarmult_base:D,crypto_box_beforenm:X,crypto_box_afternm:j,crypto_box:function(r,t,n,e,o,i){var h=new Uint8Array(32);return X(h,o,i),j(r,t,n,e,h)},crypto_box_open:function(r,t,n,e,o,i){var h=new Uint8Array(32);return X(h,o,i),H(r,t,n,e,h)},crypto_box_keypair:V,crypto_hash:W,crypto_sign:fr,crypto_sign_keypair:or,crypto_sign_open:sr,crypto_secretbox_KEYBYTES:32,crypto_secretbox_NONCEBYTES:24,crypto_secretbox_ZEROBYTES:32,crypto_secretbox_BOXZEROBYTES:16,crypto_scalarmult_BYTES:32,crypto_scalarmult_SCALARBYTES:32,crypto_box_PUBLICKEYBYTES:32,crypto_box_SECRETKEYBYTES:32,crypto_box_BEFORENMBYTES:32,crypto_box_NONCEBYTES:24,crypto_box_ZEROBYTES:32,crypto_box_BOXZEROBYTES:16,crypto_sign_BYTES:64,crypto_sign_PUBLICKEYBYTES:32,crypto_sign_SECRETKEYBYTES:64,crypto_sign_SEEDBYTES:32,crypto_hash_BYTES:64,gf:v,D:c,L:ir,pack25519:z,unpack25519:N,M:F,A:O,S:I,Z:C,pow2523:G,add:$,set25519:Y,modL:hr,scalarmult:nr,scalarbase:er},i.randomBytes=function(r){var t=new Uint8Array(r);return h(t,r),t},i.secretbox=function(r,t,n){cr(r,t,n),ur(n,t);for(var e=new Uint8Array(32+r.length),o=new Uint8Array(e.length),i=0;i<r.length;i++)e[i+32]=r[i];return k(o,e,e.length,t,n),o.subarray(16)},i.secretbox.open=function(r,t,n){cr(r,t,n),ur(n,t);for(var e=new Uint8Array(16+r.length),o=new Uint8Array(e.length),i=0;i<r.length;i++)e[i+16]=r[i];return e.length<32||0!==K(o,e,e.length,t,n)?null:o.subarray(32)},i.secretbox.keyLength=32,i.secretbox.nonceLength=24,i.secretbox.overheadLength=16,i.scalarMult=function(r,t){if(cr(r,t),32!==r.length)throw new Error("bad n size");if(32!==t.length)throw new Error("bad p size");var n=new Uint8Array(32);return q(n,r,t),n},i.scalarMult.base=function(r){if(cr(r),32!==r.length)throw new Error("bad n size");var t=new Uint8Array(32);return D(t,r),t},i.scalarMult.scalarLength=32,i.scalarMult.groupElementLength=32,i.box=function(r,t,n,e){var o=i.box.before(n,e);return i.secretbox(r,t,o)},i.box.before=function(r,t){cr(r,t),function(r,t){if(32!==r.length)throw new Error("bad public key size");if(32!==t.length)throw new Error("bad secret key size")}(r,t);var n=new Uint8Array(32);return X(n,r,t),n},i.box.after=i.secretbox,i.box.open=function(r,t,n,e){var o=i.box.before(n,e);return i.secretbox.open(r,t,o)},i.box.open.after=i.secretbox.open,i.box.keyPair=function(){var r=new Uint8Array(32),t=new Uint8Array(32);return V(r,t),{publicKey:r,secretKey:t}},i.box.keyPair.fromSecretKey=function(r){if(cr(r),32!==r.length)throw new Error("bad secret key size");var t=new Uint8Array(32);return D(t,r),{publicKey:t,secretKey:new Uint8Array(r)}},i.box.publicKeyLength=32,i.box.secretKeyLength=32,i.box.sharedKeyLength=32,i.box.nonceLength=24,i.box.overheadLength=i.secretbox.overheadLength,i.sign=function(r,t){if(cr(r,t),64!==t.length)throw new Error("bad secret key size");var n=new Uint8Array(64+r.length);return fr(n,r,r.length,t),n},i.sign.open=function(r,t){if(cr(r,t),32!==t.length)throw new Error("bad public key size");var n=new Uint8Array(r.length),e=sr(n,r,r.length,t);if(e<0)return null;for(var o=new Uint8Array(e),i=0;i<o.length;i++)o[i]=n[i];return o},i.sign.detached=function(r,t){for(var n=i.sign(r,t),e=new Uint8Array(64),o=0;o<e.length;o++)e[o]=n[o];return e},i.sign.detached.verify=function(r,t,n){if(cr(r,t,n),64!==t.length)throw new Error("bad signature size");if(32!==n.length)throw new Error("bad public key size");var e,o=new Uint8Array(64+r.length),i=new Uint8Array(64+r.length);for(e=0;e<64;e++)o[e]=t[e];for(e=0;e<r.length;e++)o[e+64]=r[e];return 0<=sr(i,o,o.length,n)},i.sign.keyPair=function(){var r=new Uint8Array(32),t=new Uint8Array(64);return or(r,t),{publicKey:r,secretKey:t}},i.sign.keyPair.fromSecretKey=function(r){if(cr(r),64!==r.length)throw new Error("bad secret key size");for(var t=new Uint8Array(32),n=0;n<t.length;n++)t[n]=r[32+n];return{publicKey:t,secretKey:new Uint8Array(r)}},i.sign.keyPair.fromSeed=function(r){if(cr(r),32!==r.length)throw new Error("bad seed size");for(var t=new Uint8Array(32),n=new Uint8Array(64),e=0;e<32;e++)n[e]=r[e];return or(t,n,!0),{publicKey:t,secretKey:n}},i.sign.publicKeyLength=32,i.sign.secretKeyLength=64,i.sign.seedLength=32,i.sign.signatureLength=64,i.hash=function(r){cr(r);var t=new Uint8Array(64);return W(t,r,r.length),t},i.hash.hashLength=64,i.verify=function(r,t){return cr(r,t),0!==r.length&&0!==t.length&&(r.length===t.length&&0===w(r,0,t,0,r.length))},i.setPRNG=function(r){h=r},function(){var o="undefined"!=typeof self?self.crypto||self.msCrypto:null;if(o&&o.getRandomValues){i.setPRNG(function(r,t){var n,e=new Uint8Array(t);for(n=0;n<t;n+=65536)o.getRandomValues(e.subarray(n,n+Math.min(t-n,65536)));for(n=0;n<t;n++)r[n]=e[n];yr(e)})}else"undefined"!=typeof require&&(o=require("crypto"))&&o.randomBytes&&i.setPRNG(function(r,t){var n,e=o.randomBytes(t);for(n=0;n<t;n++)r[n]=e[n];yr(e)})}()}("undefined"!=typeof module&&module.exports?module.exports:self.nacl=self.nacl||{});
// ---- end vendor/tweetnacl/nacl-fast.min.js
return module.exports;
}

export { Push };
export default Push;
