//go:build !js

package wasmclient

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// HTTPAuthorizer asks an app's backend, as pusher-js and push.js do: a POST
// of the form channel_name & socket_id to URL (and socket_id to UserURL
// for sign-in) answered with JSON {"auth","channel_data","shared_secret"}.
type HTTPAuthorizer struct {
	URL     string
	UserURL string
	Client  *http.Client // default http.DefaultClient
	Header  http.Header  // added to each request (cookies, tokens)
}

// Authorize posts channel_name and socket_id to URL.
func (a HTTPAuthorizer) Authorize(ctx context.Context, socketID, channel string) (ChannelAuth, error) {
	body, err := a.post(ctx, a.URL, url.Values{"channel_name": {channel}, "socket_id": {socketID}})
	if err != nil {
		return ChannelAuth{}, err
	}
	return parseChannelAuth(body)
}

// Authenticate posts socket_id to UserURL.
func (a HTTPAuthorizer) Authenticate(ctx context.Context, socketID string) (UserAuth, error) {
	body, err := a.post(ctx, a.UserURL, url.Values{"socket_id": {socketID}})
	if err != nil {
		return UserAuth{}, err
	}
	return parseUserAuth(body)
}

func (a HTTPAuthorizer) post(ctx context.Context, u string, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	for k, v := range a.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cl := a.Client
	if cl == nil {
		cl = http.DefaultClient
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, statusError(resp.StatusCode)
	}
	return body, nil
}
