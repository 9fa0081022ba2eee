package httpguard

import (
	"io"
	"net/http"
	"sync"
)

// limitWriter guards a request whose body length is not declared
// (chunked): the body is cut off after max bytes, the handler reads an
// error, and whatever the handler answers then, the client gets 413.
type limitWriter struct {
	http.ResponseWriter
	onExceed func()

	mu       sync.Mutex
	exceeded bool
	wrote    bool // a header went out (the handler's or the 413)
	swallow  bool // the 413 went out: drop the handler's output
}

func newLimitWriter(w http.ResponseWriter, r *http.Request, maxBytes int64, onExceed func()) *limitWriter {
	lw := &limitWriter{ResponseWriter: w, onExceed: onExceed}
	r.Body = &limitBody{rc: r.Body, limit: maxBytes, left: maxBytes, lw: lw}
	return lw
}

func (w *limitWriter) markExceeded() {
	w.mu.Lock()
	first := !w.exceeded
	w.exceeded = true
	w.mu.Unlock()
	if first {
		w.onExceed()
	}
}

// start sends the 413 instead of the handler's header when the body was
// too large; it reports whether the handler's output must be dropped.
func (w *limitWriter) start(code int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wrote {
		return w.swallow
	}
	w.wrote = true
	if w.exceeded {
		w.swallow = true
		w.ResponseWriter.Header().Set("Connection", "close")
		writeError(w.ResponseWriter, http.StatusRequestEntityTooLarge, "payload_too_large",
			"request body exceeds max_body_bytes")
		return true
	}
	w.ResponseWriter.WriteHeader(code)
	return false
}

func (w *limitWriter) WriteHeader(code int) { w.start(code) }

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.start(http.StatusOK) {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *limitWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish answers 413 if the handler wrote nothing after an oversized body.
func (w *limitWriter) finish() {
	w.mu.Lock()
	pending := w.exceeded && !w.wrote
	w.mu.Unlock()
	if pending {
		w.start(http.StatusRequestEntityTooLarge)
	}
}

// limitBody returns *http.MaxBytesError past the limit, as
// http.MaxBytesReader does.
type limitBody struct {
	rc    io.ReadCloser
	limit int64
	left  int64
	lw    *limitWriter
}

func (b *limitBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &http.MaxBytesError{Limit: b.limit}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		allowed := b.left
		b.left = -1
		b.lw.markExceeded()
		return int(allowed), &http.MaxBytesError{Limit: b.limit}
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitBody) Close() error { return b.rc.Close() }
