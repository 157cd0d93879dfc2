package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wsHeadCap is the most the WebSocket port reads of a request head (request
// line, headers and the blank line): gateway's maxHeadBytes.
const wsHeadCap = 64 << 10

// upgradeHead returns an upgrade request for path that ends with a Cookie
// header padded so that the whole head is exactly size bytes.
func upgradeHead(t *testing.T, path string, size int) string {
	t.Helper()
	var k [16]byte
	_, _ = rand.Read(k[:])
	head := "GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(k[:]) + "\r\nSec-WebSocket-Version: 13\r\nCookie: c="
	const end = "\r\n\r\n"
	pad := size - len(head) - len(end)
	if pad < 0 {
		t.Fatalf("a head of %d bytes is too small for the upgrade headers", size)
	}
	return head + strings.Repeat("a", pad) + end
}

// sendHead writes head on a new connection to the WebSocket port and
// returns a peer reading the answer.
func sendHead(t *testing.T, s *server, head string) (*wsPeer, *http.Response) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.WSAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &wsPeer{t: t, conn: conn}
	p.br = bufio.NewReaderSize(recorder{p}, 64<<10)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatalf("write a head of %d bytes: %v", len(head), err)
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		t.Fatalf("answer to a head of %d bytes: %v", len(head), err)
	}
	_ = conn.SetDeadline(time.Time{})
	return p, resp
}

// TestHandshakeHeadCap: the WebSocket port reads at most 64 KiB and 100
// header lines of request head. An upgrade of exactly 64 KiB is served; one
// byte or one line more gets 431 and the connection is closed; a 200 MB
// header is refused the same way without being read (before, the server
// read all of it and kept the memory).
func TestHandshakeHeadCap(t *testing.T) {
	s := startPushd(t, "")
	const path = "/app/app-key?protocol=7&client=js&version=8.4.0"

	t.Run("exactly the cap", func(t *testing.T) {
		p, resp := sendHead(t, s, upgradeHead(t, path, wsHeadCap))
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("a head of %d bytes: %s, want 101", wsHeadCap, resp.Status)
		}
		p.established()
		p.mustSend(textFrame(`{"event":"pusher:ping","data":{}}`))
		p.expect("pusher:pong")
	})

	t.Run("one byte over", func(t *testing.T) {
		p, resp := sendHead(t, s, upgradeHead(t, path, wsHeadCap+1))
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("a head of %d bytes: %s, want 431", wsHeadCap+1, resp.Status)
		}
		if _, err := waitConnEnd(p.conn, 5*time.Second); err != nil {
			t.Fatalf("after the 431 the connection stays open: %v", err)
		}
	})

	t.Run("101 header lines", func(t *testing.T) {
		head := upgradeHead(t, path, 1024)
		head = head[:len(head)-2] + strings.Repeat("X-F: 1\r\n", 101-6) + "\r\n" // 6 lines before
		p, resp := sendHead(t, s, head)
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("a head of 101 header lines: %s, want 431", resp.Status)
		}
		if _, err := waitConnEnd(p.conn, 5*time.Second); err != nil {
			t.Fatalf("after the 431 the connection stays open: %v", err)
		}
	})

	t.Run("200 MB header", func(t *testing.T) {
		const size = 200 << 20
		rssBefore := s.rssMB(t)
		conn, err := net.DialTimeout("tcp", s.WSAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		_ = conn.SetDeadline(start.Add(20 * time.Second))
		var written atomic.Int64
		werr := make(chan error, 1)
		head := upgradeHead(t, path, 1024)
		go func() {
			if _, err := io.WriteString(conn, head[:len(head)-4]); err != nil { // the Cookie line never ends
				werr <- err
				return
			}
			buf := []byte(strings.Repeat("a", 32<<10))
			for written.Load() < size {
				n, err := conn.Write(buf)
				written.Add(int64(n))
				if err != nil {
					werr <- err
					return
				}
			}
			werr <- nil
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer (%v) after %s and %.1f MB sent, want 431", err, time.Since(start), float64(written.Load())/(1<<20))
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("%s, want 431", resp.Status)
		}
		// The server closes without reading the rest: the writer fails once
		// the socket buffers are full, far from 200 MB.
		select {
		case err := <-werr:
			if err == nil {
				t.Fatalf("all 200 MB were written: the server read the header to its end")
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("still writing after 15 s (%.1f MB): the server keeps reading", float64(written.Load())/(1<<20))
		}
		sentMB := float64(written.Load()) / (1 << 20)
		t.Logf("431 after %s; the connection ended after %.1f MB of 200 MB; server RSS %.0f → %.0f MB",
			time.Since(start).Round(time.Millisecond), sentMB, rssBefore, s.rssMB(t))
		if sentMB > 32 {
			t.Fatalf("%.1f MB written before the server closed, want little more than the socket buffers", sentMB)
		}
	})
	checkHealthy(t, s, "after-head-cap")
}
