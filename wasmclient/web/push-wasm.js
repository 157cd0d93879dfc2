/*
 * push-wasm.js: loads Pushd's WebAssembly client and defines `Push` with the
 * API of push.js. Swap the script tags of a push.js page:
 *
 *   <script src="http://push.example.com:3131/push-wasm.js"></script>
 *   <script>
 *   PushWasm.load().then(function () {
 *     var connection = new Push({url: 'ws://push.example.com:3131', app_key: 'KEY', auth: '/plugin/webman/push/auth'});
 *     connection.subscribe('user-1').on('message', function (data) { console.log(data); });
 *   });
 *   </script>
 *
 * PushWasm.load(url) fetches push.wasm (default: next to this script) and
 * wasm_exec.js (the Go runtime's glue, served next to push.wasm), and
 * resolves with the Push constructor once the client is ready.
 */
(function (global) {
  'use strict';
  var script = global.document && global.document.currentScript;
  var base = script && script.src ? script.src.replace(/[^/]*$/, '') : '';
  var loading = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = global.document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = function () { reject(new Error('push-wasm: cannot load ' + src)); };
      global.document.head.appendChild(s);
    });
  }

  function instantiate(url, imports) {
    if (WebAssembly.instantiateStreaming) {
      return WebAssembly.instantiateStreaming(fetch(url), imports).catch(function () {
        // A server that does not send application/wasm: fall back.
        return fetch(url).then(function (r) { return r.arrayBuffer(); })
          .then(function (b) { return WebAssembly.instantiate(b, imports); });
      });
    }
    return fetch(url).then(function (r) { return r.arrayBuffer(); })
      .then(function (b) { return WebAssembly.instantiate(b, imports); });
  }

  function load(url) {
    if (loading) return loading;
    var wasmURL = url || base + 'push.wasm';
    var execURL = new URL('wasm_exec.js', new URL(wasmURL, global.location ? global.location.href : undefined)).href;
    loading = (global.Go ? Promise.resolve() : loadScript(execURL)).then(function () {
      var go = new global.Go();
      var ready = new Promise(function (resolve) { global.__pushWasmReady = resolve; });
      return instantiate(wasmURL, go.importObject).then(function (result) {
        go.run(result.instance).then(function () {
          console.error('push.wasm exited');
        });
        return ready;
      });
    }).then(function () {
      delete global.__pushWasmReady;
      return global.Push;
    });
    loading.catch(function () { loading = null; });
    return loading;
  }

  global.PushWasm = { load: load };
})(typeof globalThis !== 'undefined' ? globalThis : this);
