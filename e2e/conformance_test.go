package e2e

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// TestConformance runs the Autobahn-style cases that matter for a server
// against the real gateway, with frames built by hand on a plain TCP
// connection (masking, opcodes, FIN/RSV bits, 7/16/64-bit lengths). Each
// case must end in the RFC 6455 answer: a reply, a clean close (close frame
// then TCP close) or the right close code. Afterwards a fresh client still
// connects and receives events.
func TestConformance(t *testing.T) {
	s := startPushd(t, "")
	open := func(t *testing.T) *wsPeer {
		t.Helper()
		p := dialPeer(t, nil, s.WSAddr, "/app/app-key?protocol=7")
		p.established()
		return p
	}
	const ping = `{"event":"pusher:ping","data":{}}`
	expectPusherPong := func(t *testing.T, p *wsPeer) {
		t.Helper()
		if f := p.next(5 * time.Second); f.Event != "pusher:pong" {
			t.Fatalf("got %s, want pusher:pong", f.raw)
		}
	}

	// --- messages that must be answered, connection stays open ---

	t.Run("fragmented text message in 3 frames", func(t *testing.T) {
		p := open(t)
		p.mustSend(
			wireFrame{fin: false, op: opText, payload: []byte(ping[:10])},
			wireFrame{fin: false, op: opCont, payload: []byte(ping[10:20])},
			wireFrame{fin: true, op: opCont, payload: []byte(ping[20:])},
		)
		expectPusherPong(t, p)
	})
	t.Run("fragments sent in separate writes", func(t *testing.T) {
		p := open(t)
		for i, part := range []string{ping[:3], ping[3:25], ping[25:]} {
			op := opCont
			if i == 0 {
				op = opText
			}
			p.mustSend(wireFrame{fin: i == 2, op: op, payload: []byte(part)})
		}
		expectPusherPong(t, p)
	})
	t.Run("empty fragments", func(t *testing.T) {
		p := open(t)
		p.mustSend(
			wireFrame{fin: false, op: opText},
			wireFrame{fin: false, op: opCont, payload: []byte(ping)},
			wireFrame{fin: true, op: opCont},
		)
		expectPusherPong(t, p)
	})
	t.Run("ping interleaved in a fragmented message", func(t *testing.T) {
		p := open(t)
		p.mustSend(
			wireFrame{fin: false, op: opText, payload: []byte(ping[:12])},
			wireFrame{fin: true, op: opPing, payload: []byte("mid-message")},
			wireFrame{fin: true, op: opCont, payload: []byte(ping[12:])},
		)
		var gotPong, gotPusherPong bool
		for !gotPong || !gotPusherPong {
			f, err := p.readFrame(5 * time.Second)
			if err != nil {
				t.Fatalf("pong=%v pusher:pong=%v, then %v", gotPong, gotPusherPong, err)
			}
			p.checkServerFrame(f)
			switch {
			case f.op == opPong && string(f.payload) == "mid-message":
				gotPong = true
			case f.op == opText && bytes.Contains(f.payload, []byte(`"pusher:pong"`)):
				gotPusherPong = true
			default:
				t.Fatalf("unexpected frame op=%d %q", f.op, f.payload)
			}
		}
	})
	t.Run("ping with 125-byte payload gets the same payload back", func(t *testing.T) {
		p := open(t)
		payload := bytes.Repeat([]byte{0xFE}, 125) // binary payload is fine in a ping
		p.mustSend(wireFrame{fin: true, op: opPing, payload: payload})
		f, err := p.readFrame(5 * time.Second)
		if err != nil || f.op != opPong || !bytes.Equal(f.payload, payload) {
			t.Fatalf("got op=%d len=%d err=%v, want a pong echoing 125 bytes", f.op, len(f.payload), err)
		}
	})
	t.Run("unsolicited pong is ignored", func(t *testing.T) {
		p := open(t)
		p.mustSend(wireFrame{fin: true, op: opPong, payload: []byte("unasked")}, textFrame(ping))
		expectPusherPong(t, p)
	})
	t.Run("16-bit length", func(t *testing.T) {
		p := open(t)
		msg := `{"event":"pusher:ping","data":"` + strings.Repeat("x", 1000) + `"}`
		p.mustSend(wireFrame{fin: true, op: opText, payload: []byte(msg), lenForm: len16})
		expectPusherPong(t, p)
	})
	t.Run("64-bit length, exactly 64 KiB", func(t *testing.T) {
		p := open(t)
		head, tail := `{"event":"pusher:ping","data":"`, `"}`
		msg := head + strings.Repeat("x", 64<<10-len(head)-len(tail)) + tail
		p.mustSend(wireFrame{fin: true, op: opText, payload: []byte(msg), lenForm: len64})
		expectPusherPong(t, p)
	})
	t.Run("valid UTF-8 character split across fragments", func(t *testing.T) {
		p := open(t)
		// € is E2 82 AC: each fragment alone is not valid UTF-8, the message is.
		p.mustSend(
			wireFrame{fin: false, op: opText, payload: []byte(`{"event":"pusher:ping","data":"` + "\xe2\x82")},
			wireFrame{fin: true, op: opCont, payload: []byte("\xac" + `"}`)},
		)
		expectPusherPong(t, p)
	})
	t.Run("binary frame gets 4300 and the connection stays", func(t *testing.T) {
		p := open(t)
		p.mustSend(wireFrame{fin: true, op: opBinary, payload: []byte{0, 1, 2, 0xFF}})
		if code := errorCode(t, p.expect("pusher:error")); code != protocol.CodeInvalidMessage {
			t.Fatalf("binary frame: error %d, want %d", code, protocol.CodeInvalidMessage)
		}
		p.mustSend(
			wireFrame{fin: false, op: opBinary, payload: []byte{1}},
			wireFrame{fin: true, op: opCont, payload: []byte{2}},
		)
		if code := errorCode(t, p.expect("pusher:error")); code != protocol.CodeInvalidMessage {
			t.Fatalf("fragmented binary message: error %d, want %d", code, protocol.CodeInvalidMessage)
		}
		p.mustSend(textFrame(ping))
		expectPusherPong(t, p)
	})

	// --- protocol violations: the server must fail the connection ---

	bad := []struct {
		name   string
		frames []wireFrame
		code   int
	}{
		{"continuation without a start", []wireFrame{{fin: true, op: opCont, payload: []byte(ping)}}, 1002},
		{"unfinished continuation without a start", []wireFrame{{fin: false, op: opCont, payload: []byte("x")}}, 1002},
		{"new text frame inside a fragmented message", []wireFrame{
			{fin: false, op: opText, payload: []byte(ping[:10])},
			{fin: true, op: opText, payload: []byte(ping)},
		}, 1002},
		{"new unfinished text frame inside a fragmented message", []wireFrame{
			{fin: false, op: opText, payload: []byte(ping[:10])},
			{fin: false, op: opText, payload: []byte(ping[10:])},
		}, 1002},
		{"binary frame inside a fragmented text message", []wireFrame{
			{fin: false, op: opText, payload: []byte(ping[:10])},
			{fin: true, op: opBinary, payload: []byte{1}},
		}, 1002},
		{"RSV1 without an extension", []wireFrame{{fin: true, rsv: 4, op: opText, payload: []byte(ping)}}, 1002},
		{"RSV2", []wireFrame{{fin: true, rsv: 2, op: opText, payload: []byte(ping)}}, 1002},
		{"RSV3", []wireFrame{{fin: true, rsv: 1, op: opText, payload: []byte(ping)}}, 1002},
		{"all RSV bits on a ping", []wireFrame{{fin: true, rsv: 7, op: opPing}}, 1002},
		{"RSV1 on a continuation", []wireFrame{
			{fin: false, op: opText, payload: []byte(ping[:10])},
			{fin: true, rsv: 4, op: opCont, payload: []byte(ping[10:])},
		}, 1002},
		{"unmasked text frame", []wireFrame{{fin: true, op: opText, payload: []byte(ping), unmasked: true}}, 1002},
		{"unmasked ping", []wireFrame{{fin: true, op: opPing, unmasked: true}}, 1002},
		{"unmasked close", []wireFrame{{fin: true, op: opClose, payload: []byte{3, 232}, unmasked: true}}, 1002},
		{"ping of 126 bytes", []wireFrame{{fin: true, op: opPing, payload: bytes.Repeat([]byte("p"), 126)}}, 1002},
		{"close of 126 bytes", []wireFrame{{fin: true, op: opClose, payload: append([]byte{3, 232}, bytes.Repeat([]byte("r"), 124)...)}}, 1002},
		{"pong of 126 bytes", []wireFrame{{fin: true, op: opPong, payload: bytes.Repeat([]byte("p"), 126)}}, 1002},
		{"fragmented ping", []wireFrame{
			{fin: false, op: opPing, payload: []byte("a")},
			{fin: true, op: opCont, payload: []byte("b")},
		}, 1002},
		{"fragmented close", []wireFrame{{fin: false, op: opClose, payload: []byte{3, 232}}}, 1002},
		{"invalid UTF-8 text", []wireFrame{textFrame(`{"event":"pusher:ping","data":"` + "\xff\xfe" + `"}`)}, 1007},
		{"invalid UTF-8 split across fragments", []wireFrame{
			{fin: false, op: opText, payload: []byte(`{"event":"pusher:ping","data":"` + "\xce\xba\xe1")},
			{fin: false, op: opCont, payload: []byte("\xbd\xb9\xcf\x83")},
			{fin: true, op: opCont, payload: []byte("\xed\xa0\x80" + `"}`)}, // a UTF-16 surrogate
		}, 1007},
		{"invalid UTF-8 in a close reason", []wireFrame{closeFrame(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80")}, 1007},
		{"close with a 1-byte payload", []wireFrame{{fin: true, op: opClose, payload: []byte{3}}}, 1002},
		{"text frame of 64 KiB + 1 (64-bit length)", []wireFrame{
			// Only the header: the server must refuse on the length alone.
			{fin: true, op: opText, lenValue: 64<<10 + 1},
		}, 1009},
		{"text frame of 1 GiB (64-bit length)", []wireFrame{{fin: true, op: opText, lenValue: 1 << 30}}, 1009},
		{"binary frame of 64 KiB + 1", []wireFrame{{fin: true, op: opBinary, lenValue: 64<<10 + 1}}, 1009},
		{"fragmented message over 64 KiB", []wireFrame{
			{fin: false, op: opText, payload: bytes.Repeat([]byte("a"), 40000)},
			{fin: true, op: opCont, payload: bytes.Repeat([]byte("a"), 40000)},
		}, 1009},
	}
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		bad = append(bad, struct {
			name   string
			frames []wireFrame
			code   int
		}{"reserved opcode " + strconv.Itoa(int(op)), []wireFrame{{fin: true, op: op}}, 1002})
	}
	bad = append(bad, struct {
		name   string
		frames []wireFrame
		code   int
	}{"reserved opcode 5 with a payload after a message", []wireFrame{textFrame(ping), {fin: true, op: 5, payload: []byte("x")}}, 1002})
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535} {
		bad = append(bad, struct {
			name   string
			frames []wireFrame
			code   int
		}{"close with invalid code " + strconv.Itoa(code), []wireFrame{closeFrame(code, "")}, 1002})
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := open(t)
			// The server may close before reading everything; a failed
			// write is fine, the close frame is what counts.
			_ = p.send(tc.frames...)
			r := p.awaitClose(5 * time.Second)
			for _, f := range r.frames {
				// Only answers to complete valid messages before the violation.
				if f.op != opText || !bytes.Contains(f.payload, []byte("pusher:pong")) {
					t.Errorf("frame before the close: op=%d %q", f.op, f.payload)
				}
			}
			if !r.gotClose {
				t.Fatalf("connection ended (%v) without a close frame, want close %d", r.tcpEnd, tc.code)
			}
			if r.code != tc.code {
				t.Fatalf("closed with %d %q, want %d", r.code, r.reason, tc.code)
			}
			if !isConnEnd(r.tcpEnd) {
				t.Fatalf("after the close frame: %v, want the TCP connection closed", r.tcpEnd)
			}
		})
	}

	// --- the closing handshake ---

	t.Run("close 1000 is echoed", func(t *testing.T) {
		p := open(t)
		p.mustSend(closeFrame(1000, "bye"))
		p.expectClose(1000, 5*time.Second)
	})
	t.Run("close without a payload is answered", func(t *testing.T) {
		p := open(t)
		p.mustSend(wireFrame{fin: true, op: opClose})
		r := p.awaitClose(5 * time.Second)
		if !r.gotClose || r.code != 0 && r.code != 1000 || !isConnEnd(r.tcpEnd) {
			t.Fatalf("got close=%v code=%d end=%v, want an empty (or 1000) close and the TCP close", r.gotClose, r.code, r.tcpEnd)
		}
	})
	t.Run("close with a 123-byte reason", func(t *testing.T) {
		p := open(t)
		p.mustSend(closeFrame(1000, strings.Repeat("r", 123)))
		p.expectClose(1000, 5*time.Second)
	})
	t.Run("close after a fragment start", func(t *testing.T) {
		p := open(t)
		p.mustSend(wireFrame{fin: false, op: opText, payload: []byte(ping[:5])}, closeFrame(1000, ""))
		p.expectClose(1000, 5*time.Second)
	})
	for _, code := range []int{1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		t.Run("close with valid code "+strconv.Itoa(code), func(t *testing.T) {
			p := open(t)
			p.mustSend(closeFrame(code, ""))
			r := p.awaitClose(5 * time.Second)
			// RFC 6455 §5.5.1: the endpoint typically echoes the code;
			// a normal closure is an acceptable answer too.
			if !r.gotClose || (r.code != code && r.code != 1000) || !isConnEnd(r.tcpEnd) {
				t.Fatalf("got close=%v code=%d end=%v, want close %d (or 1000) and the TCP close", r.gotClose, r.code, r.tcpEnd, code)
			}
			if r.code != code {
				t.Logf("close %d answered with %d (not echoed)", code, r.code)
			}
		})
	}
	t.Run("frames after the close are ignored", func(t *testing.T) {
		p := open(t)
		_ = p.send(closeFrame(1000, ""), textFrame(ping))
		r := p.awaitClose(5 * time.Second)
		if len(r.frames) != 0 || !r.gotClose || r.code != 1000 {
			t.Fatalf("got %d frames, close=%v code %d; want only a close 1000", len(r.frames), r.gotClose, r.code)
		}
	})

	t.Run("server healthy after all cases", func(t *testing.T) {
		checkHealthy(t, s, "conformance-after")
	})

	// RFC 6455 §5.2: "the most significant bit MUST be 0" in a 64-bit
	// payload length. A decoder that converts it to a signed int gets a
	// negative length. Run last: if this kills the server, the other cases
	// have been judged already.
	t.Run("64-bit length with the most significant bit set", func(t *testing.T) {
		p := open(t)
		_ = p.send(wireFrame{fin: true, op: opText, lenValue: 1 << 63})
		r := p.awaitClose(5 * time.Second)
		if !r.gotClose || r.code != 1002 {
			t.Errorf("got close=%v code=%d end=%v, want close 1002", r.gotClose, r.code, r.tcpEnd)
		}
		checkHealthy(t, s, "conformance-after-msb")
	})
}
