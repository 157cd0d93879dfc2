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
