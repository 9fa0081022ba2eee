package testkit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Victoria is a single-node VictoriaMetrics (Debian package
// victoria-metrics) with its storage in a temp dir on a free loopback
// port. It takes remote_write (/api/v1/write) and line protocol (/write,
// /api/v2/write).
type Victoria struct {
	*Server
}

// NewVictoria picks the port and directory without starting the server;
// extra are more command-line flags.
func NewVictoria(t testing.TB, extra ...string) *Victoria {
	t.Helper()
	dir, port := t.TempDir(), FreePort(t)
	args := append([]string{"-storageDataPath", dir, "-httpListenAddr", "127.0.0.1:" + strconv.Itoa(port),
		"-loggerLevel", "ERROR", "-retentionPeriod", "100y"}, extra...)
	return &Victoria{NewServer(t, "victoria-metrics", "victoria-metrics", "/health", port, dir, args...)}
}

// StartVictoriaTLS runs a VictoriaMetrics that serves HTTPS only, with a
// self-signed certificate for 127.0.0.1 whose PEM file is returned (the
// CA to trust).
func StartVictoriaTLS(t testing.TB) (s *Victoria, caFile string) {
	t.Helper()
	cert, key, _ := SelfSignedCert(t, t.TempDir())
	s = NewVictoria(t, "-tls", "-tlsCertFile", cert, "-tlsKeyFile", key)
	s.URL = "https://" + strings.TrimPrefix(s.URL, "http://")
	s.Start(t)
	return s, cert
}

// StartVictoria runs a new VictoriaMetrics and waits until /health answers.
func StartVictoria(t testing.TB) *Victoria {
	t.Helper()
	s := NewVictoria(t)
	s.Start(t)
	return s
}

// ExportedSeries is one series of /api/v1/export: every raw sample.
type ExportedSeries struct {
	Metric     map[string]string `json:"metric"`
	Values     []float64         `json:"values"`
	Timestamps []int64           `json:"timestamps"`
}

// Export flushes recent samples to searchable storage and returns the
// raw samples of the series match selects (a PromQL series selector), or
// an error (the server may be stopped).
func (s *Victoria) Export(match string) ([]ExportedSeries, error) {
	c := loopbackClient(30 * time.Second)
	defer c.CloseIdleConnections()
	resp, err := c.Get(s.URL + "/internal/force_flush")
	if err != nil {
		return nil, err //nolint:wrapcheck // test helper
	}
	resp.Body.Close()
	resp, err = c.PostForm(s.URL+"/api/v1/export", url.Values{"match[]": {match}})
	if err != nil {
		return nil, err //nolint:wrapcheck
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, &httpError{resp.Status, body, err}
	}
	var out []ExportedSeries
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var es ExportedSeries
		if err := json.Unmarshal(sc.Bytes(), &es); err != nil {
			return nil, err //nolint:wrapcheck
		}
		out = append(out, es)
	}
	return out, nil
}

type httpError struct {
	status string
	body   []byte
	err    error
}

func (e *httpError) Error() string {
	if e.err != nil {
		return e.status + ": " + e.err.Error()
	}
	return e.status + ": " + string(e.body)
}
