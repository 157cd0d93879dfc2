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
