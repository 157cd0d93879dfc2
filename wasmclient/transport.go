package wasmclient

import "context"

// Transport opens WebSocket connections. The default is gws natively and
// the browser's WebSocket under GOOS=js.
type Transport interface {
	// Dial connects to url. onMessage receives each text frame and onClose
	// is called once when the connection ends, with the close code (1006
	// when there was none). Neither may be called before Dial returns a
	// Conn, and both must return quickly.
	Dial(ctx context.Context, url string, onMessage func([]byte), onClose func(code int, reason string)) (Conn, error)
}

// Conn is one open WebSocket connection.
type Conn interface {
	// Send writes one text frame.
	Send(frame []byte) error
	// Close closes the connection with a close code.
	Close(code int, reason string) error
}
