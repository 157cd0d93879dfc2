package gateway

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// bytesConn is a connection whose peer sent b; only Read is used.
type bytesConn struct {
	net.Conn
	r io.Reader
}

func (c bytesConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// headOf returns an upgrade request whose head is exactly size bytes (a
// padded Cookie line ends it), followed by rest.
func headOf(t testing.TB, size int, rest string) string {
	head := "GET /app/key?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nCookie: c="
	pad := size - len(head) - len("\r\n\r\n")
	if pad < 0 {
		t.Fatalf("head of %d bytes: too small", size)
	}
	return head + strings.Repeat("a", pad) + "\r\n\r\n" + rest
}

func TestReadHead(t *testing.T) {
	fields := func(n int) string { return "GET /app/key HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", n) + "\r\n" }
	cases := []struct {
		name    string
		in      string
		tooBig  bool
		maxRead int // with tooBig: the most of the connection read (0: maxHeadBytes)
		anyErr  bool
		thenRaw string // what c reads after the head
	}{
		{name: "small", in: headOf(t, 200, "")},
		{name: "exactly the cap, a frame follows", in: headOf(t, maxHeadBytes, "\x81\x00rest"), thenRaw: "\x81\x00rest"},
		{name: "one byte over", in: headOf(t, maxHeadBytes+1, ""), tooBig: true},
		{name: "endless header line", in: headOf(t, 200, "")[:150] + strings.Repeat("a", 1<<20), tooBig: true},
		{name: "thousands of header lines", in: fields(maxHeadBytes / 8), tooBig: true, maxRead: (maxHeadLines+2)*8 + readBufferSize},
		{name: "100 header lines", in: fields(maxHeadLines)},
		{name: "101 header lines", in: fields(maxHeadLines + 1), tooBig: true},
		{name: "101 header lines, then more", in: fields(maxHeadLines+1) + "\x81\x00", tooBig: true},
		{name: "newlines in a frame after the head", in: headOf(t, 200, strings.Repeat("\n", 400)), thenRaw: strings.Repeat("\n", 400)},
		{name: "100 header lines, newlines after", in: fields(maxHeadLines) + strings.Repeat("\n", 300), thenRaw: strings.Repeat("\n", 300)},
		{name: "not HTTP", in: "\x16\x03\x01\x00", anyErr: true},
		{name: "cut short", in: headOf(t, 200, "")[:100], anyErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			src := strings.NewReader(tc.in)
			c := newWSConn(bytesConn{r: src}, &n)
			br := bufio.NewReaderSize(c, readBufferSize)
			r, err := readHead(c, br)
			switch {
			case tc.tooBig:
				if !errors.Is(err, errHeadTooLarge) {
					t.Fatalf("err %v, want errHeadTooLarge", err)
				}
				most := tc.maxRead
				if most == 0 {
					most = maxHeadBytes
				}
				if read := len(tc.in) - src.Len(); read > most {
					t.Fatalf("read %d bytes of the connection, want at most %d", read, most)
				}
				return
			case tc.anyErr:
				if err == nil || errors.Is(err, errHeadTooLarge) {
					t.Fatalf("err %v, want a parse error", err)
				}
				return
			case err != nil:
				t.Fatalf("readHead: %v", err)
			}
			if r.URL.Path != "/app/key" {
				t.Fatalf("path %q", r.URL.Path)
			}
			rest, _ := io.ReadAll(br) // past the head nothing is capped
			if string(rest) != tc.thenRaw {
				t.Fatalf("after the head: %q, want %q", rest, tc.thenRaw)
			}
		})
	}
}
