package httpguard

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

func get(t *testing.T, c *http.Client, url string) (int, http.Header) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestFloodFromOneClientIsLimited: the seed's nginx limit, 100 requests
// per 60 s. With the clock standing still, one client gets exactly its
// burst of 100, then 429 with Retry-After; another client is unaffected.
func TestFloodFromOneClientIsLimited(t *testing.T) {
	cfg := testConfig()
	e := newEnv(t, cfg)
	base := "http://" + e.serve(t, cfg, e.handler()) + "/api/v1/query"
	a, b := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	codes := map[int]int{}
	for i := range 300 {
		code, h := get(t, a, base)
		codes[code]++
		if code == http.StatusTooManyRequests && h.Get("Retry-After") != "1" {
			t.Fatalf("request %d: Retry-After = %q, want 1", i+1, h.Get("Retry-After"))
		}
		if i < 100 && code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, code)
		}
	}
	if codes[http.StatusOK] != 100 || codes[http.StatusTooManyRequests] != 200 {
		t.Errorf("client A: %v, want 100 OK and 200 Too Many Requests", codes)
	}
	if code, _ := get(t, b, base); code != http.StatusOK {
		t.Errorf("client B during A's flood: %d", code)
	}
	if got := e.calls.Load(); got != 101 {
		t.Errorf("handler calls = %d, want 101 (refused requests never reach it)", got)
	}
	if got := testkit.MetricValue(t, e.reg, "borda_http_requests_limited_total"); got != 200 {
		t.Errorf("limited = %v", got)
	}
	e.clock.Advance(time.Second) // 100 per 60 s: 1.67 tokens back
	if code, _ := get(t, a, base); code != http.StatusOK {
		t.Errorf("client A after 1s: %d", code)
	}
}

// slowConn dials addr and sends head one byte per interval, at most
// len(head) bytes, until the server closes the connection. It returns how
// long the server took to close it and how many bytes were sent.
func slowConn(t *testing.T, addr, prefix, head string, interval time.Duration) (time.Duration, int) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, prefix); err != nil {
		t.Fatal(err)
	}
	closed := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(c)) // until EOF or reset
		closed <- time.Since(start)
	}()
	sent := 0
	for sent < len(head) {
		select {
		case d := <-closed:
			return d, sent
		case <-time.After(interval):
		}
		if _, err := c.Write([]byte{head[sent]}); err != nil {
			break
		}
		sent++
	}
	select {
	case d := <-closed:
		return d, sent
	case <-time.After(5 * time.Second):
		t.Fatalf("connection still open after sending all %d bytes", sent)
		return 0, sent
	}
}

// TestSlowlorisHeadersAreDropped: a client sending its headers one byte
// per second is disconnected after read_header_timeout.
func TestSlowlorisHeadersAreDropped(t *testing.T) {
	cfg := testConfig()
	cfg.Timeouts.ReadHeaderTimeout = 2 * time.Second
	e := newEnv(t, cfg)
	addr := e.serve(t, cfg, e.handler())
	head := "Host: borda\r\nX-Slow: " + strings.Repeat("a", 20) + "\r\n\r\n"
	took, sent := slowConn(t, addr, "GET /api/v1/query HTTP/1.1\r\n", head, time.Second)
	// The server starts its clock at accept, slightly before the client's.
	if took < 1500*time.Millisecond || took > 4*time.Second {
		t.Errorf("closed after %s, want about read_header_timeout (2s)", took)
	}
	if sent >= len(head) {
		t.Errorf("all %d header bytes were accepted", sent)
	}
	if e.calls.Load() != 0 {
		t.Error("the handler ran for an incomplete request")
	}
}

// TestSlowBodyIsDropped: a client sending its body one byte per second is
// cut off at read_timeout.
func TestSlowBodyIsDropped(t *testing.T) {
	cfg := testConfig()
	cfg.Timeouts.ReadHeaderTimeout, cfg.Timeouts.ReadTimeout = time.Second, 2*time.Second
	e := newEnv(t, cfg)
	addr := e.serve(t, cfg, e.handler())
	body := strings.Repeat("x", 20)
	prefix := fmt.Sprintf("POST /api/v1/query HTTP/1.1\r\nHost: borda\r\nContent-Length: %d\r\n\r\n", len(body))
	took, sent := slowConn(t, addr, prefix, body, time.Second)
	if took > 5*time.Second || sent >= len(body) {
		t.Errorf("closed after %s with %d of %d body bytes, want cut off at read_timeout (2s)", took, sent, len(body))
	}
}
