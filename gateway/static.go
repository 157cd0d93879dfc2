package gateway

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strconv"
)

// serveHTTPOnConn answers one plain HTTP request that reached the WebSocket
// port with h (or 404), then closes the connection.
func serveHTTPOnConn(conn net.Conn, _ *bufio.Reader, r *http.Request, h http.Handler) {
	defer conn.Close()
	w := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	if h == nil {
		http.NotFound(w, r)
	} else {
		h.ServeHTTP(w, r)
	}
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 " + strconv.Itoa(w.status) + " " + http.StatusText(w.status) + "\r\n")
	w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
	w.header.Set("Connection", "close")
	_ = w.header.Write(&head)
	head.WriteString("\r\n")
	_, _ = conn.Write(head.Bytes())
	if r.Method != http.MethodHead {
		_, _ = conn.Write(w.body.Bytes())
	}
}

type bufferedResponse struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
}

func (w *bufferedResponse) Write(p []byte) (int, error) {
	w.wrote = true
	return w.body.Write(p)
}
