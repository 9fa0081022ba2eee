package testkit

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Recorder is an HTTP proxy in front of a real server that records every
// request in arrival order (headers and body as sent, compressed or not)
// with the server's status, so a test can check what a client sent and
// in which order while the server stores the data. When the server is
// down the proxy answers 502.
type Recorder struct {
	URL string // the proxy's base URL: use it instead of the server's

	target string
	srv    *httptest.Server
	client *http.Client

	mu   sync.Mutex
	reqs []RecordedRequest
}

// RecordedRequest is one request that reached the proxy.
type RecordedRequest struct {
	Time   time.Time // when its body had been read
	Method string
	URI    string // path and query
	Header http.Header
	Body   []byte
	Status int // the server's answer; 502 if it could not be reached
}

// NewRecorder starts a proxy to target (a base URL), closed when the test ends.
func NewRecorder(t testing.TB, target string) *Recorder {
	t.Helper()
	r := &Recorder{target: target, client: &http.Client{Timeout: 30 * time.Second}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL
	t.Cleanup(func() {
		r.srv.Close()
		r.client.CloseIdleConnections()
	})
	return r
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := RecordedRequest{Time: time.Now(), Method: req.Method, URI: req.URL.RequestURI(),
		Header: req.Header.Clone(), Body: body, Status: http.StatusBadGateway}
	defer func() {
		r.mu.Lock()
		r.reqs = append(r.reqs, rec)
		r.mu.Unlock()
	}()
	out, err := http.NewRequestWithContext(req.Context(), req.Method, r.target+rec.URI, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = req.Header.Clone()
	resp, err := r.client.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	rec.Status = resp.StatusCode
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// Requests returns a copy of the requests so far, in arrival order.
func (r *Recorder) Requests() []RecordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RecordedRequest(nil), r.reqs...)
}
