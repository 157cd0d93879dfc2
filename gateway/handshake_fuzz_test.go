package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
)

// FuzzHandshake feeds arbitrary bytes as what a new connection of the
// WebSocket port sends, through readHead and authorize (full: the server is
// at max_connections). Nothing panics; no more than maxHeadBytes, and no
// head of over maxHeadLines header lines, is read; only a head over one of them
// is refused as too large; and an upgrade is accepted only for an enabled
// app named by the exact path, from an allowed origin, with protocol 5-7
// (or none), while the server has room.
func FuzzHandshake(f *testing.F) {
	up := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	for _, s := range []string{
		"GET /app/app-key?protocol=7&client=js&version=8.4.0&flash=false HTTP/1.1\r\nHost: x\r\n" + up + "\r\n",
		"GET /app/app-key HTTP/1.1\r\nHost: x\r\n" + up + "\r\n",
		"GET /app/app-key?client=pushd-go&protocol=5 HTTP/1.1\r\nHost: x\r\n" + up + "\r\n",
		"GET /app/off-key?protocol=7 HTTP/1.1\r\nHost: x\r\n" + up + "\r\n",
		"GET /app/origin-key?protocol=7 HTTP/1.1\r\nHost: x\r\nOrigin: https://good.example\r\n" + up + "\r\n",
		"GET /app/origin-key?protocol=7 HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n" + up + "\r\n",
		"GET /app/app-key?protocol=x HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /app/app-key?protocol=8&protocol=7 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /app/app-key/extra HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /app/%61pp-key HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /socket/app-key HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://x/app/app-key HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /app/nope HTTP/1.0\r\n\r\n",
		"GET /app/app-key HTTP/1.1\r\nCookie: " + strings.Repeat("a", 300) + "\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	table := apps.NewTable([]config.App{
		{Key: "app-key", Secret: "s"},
		{Key: "off-key", Secret: "s", Disabled: true},
		{Key: "origin-key", Secret: "s", AllowedOrigins: []string{"https://good.example"}},
	}, nil)
	f.Fuzz(func(t *testing.T, in []byte, full bool) {
		g := &Gateway{log: slog.New(slog.DiscardHandler), maxSockets: 10, apps: table}
		if full {
			g.sockets.Store(int64(g.maxSockets))
		}
		src := bytes.NewReader(in)
		c := newWSConn(bytesConn{r: src}, &g.sockets)
		br := bufio.NewReaderSize(c, readBufferSize)
		r, err := readHead(c, br)
		read := len(in) - src.Len()
		if read > maxHeadBytes {
			t.Fatalf("read %d bytes for the head, want at most %d", read, maxHeadBytes)
		}
		lines := bytes.Count(in, []byte("\n"))
		if errors.Is(err, errHeadTooLarge) && len(in) < maxHeadBytes && lines <= maxHeadLines+2 {
			t.Fatalf("a head of %d bytes and %d lines refused as too large", len(in), lines)
		}
		if err != nil {
			return
		}
		if n := bytes.Count(in[:read-br.Buffered()], []byte("\n")); n > maxHeadLines+2 {
			t.Fatalf("read a head of %d lines, want at most %d header lines", n, maxHeadLines)
		}
		s := &session{}
		if !g.authorize(r, s) {
			t.Fatal("authorize refused the upgrade: pusher-js would see no close code")
		}
		if (s.code == 0) != (s.app != nil) {
			t.Fatalf("verdict code %d with app %v", s.code, s.app != nil)
		}
		key, isApp := strings.CutPrefix(r.URL.Path, "/app/")
		isApp = isApp && key != "" && !strings.Contains(key, "/")
		if !isApp && s.code != protocol.CodePathNotFound {
			t.Fatalf("path %q: code %d, want %d", r.URL.Path, s.code, protocol.CodePathNotFound)
		}
		if s.app == nil {
			return
		}
		if full {
			t.Fatalf("accepted %q while the server is at max_connections", r.URL)
		}
		if s.app.Key != key || s.app.Disabled || !originAllowed(s.app.AllowedOrigins, r.Header.Get("Origin")) {
			t.Fatalf("accepted app %q (disabled %v) for path %q, origin %q", s.app.Key, s.app.Disabled, r.URL.Path, r.Header.Get("Origin"))
		}
		if p := r.URL.Query().Get("protocol"); p != "" {
			if v, err := strconv.Atoi(p); err != nil || v < 5 || v > 7 {
				t.Fatalf("accepted protocol %q", p)
			}
		}
		if s.resumable != strings.HasPrefix(r.URL.Query().Get("client"), "pushd") {
			t.Fatalf("resumable %v for client %q", s.resumable, r.URL.Query().Get("client"))
		}
	})
}
