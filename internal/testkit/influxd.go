package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Influxd is an InfluxDB 1.x server (Debian package influxdb) with its
// meta, data and WAL directories in a temp dir, HTTP on a free loopback
// port, authentication, reporting and the _internal monitor off.
type Influxd struct {
	*Server
}

// NewInfluxd writes the configuration and picks the ports without
// starting the server (a test can start it later).
func NewInfluxd(t testing.TB) *Influxd {
	t.Helper()
	dir := t.TempDir()
	port, rpc := FreePort(t), FreePort(t)
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
  logging-enabled = false
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "127.0.0.1:%d"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
`, rpc, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), port)
	path := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Influxd{NewServer(t, "influxd", "influxdb", "/ping", port, dir, "run", "-config", path)}
}

// StartInfluxd runs a new InfluxDB 1.x server and waits until it answers /ping.
func StartInfluxd(t testing.TB) *Influxd {
	t.Helper()
	s := NewInfluxd(t)
	s.Start(t)
	return s
}

// InfluxSeries is one series of an InfluxQL answer.
type InfluxSeries struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Query runs InfluxQL q (POST /query, epoch=ns) and returns the series
// of the first statement (numbers as json.Number); it fails the test on an
// error answer.
func (s *Influxd) Query(t testing.TB, db, q string) []InfluxSeries {
	t.Helper()
	body := s.post(t, "/query", url.Values{"db": {db}, "q": {q}, "epoch": {"ns"}}, "")
	var r struct {
		Results []struct {
			Series []InfluxSeries `json:"series"`
			Error  string         `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // exact nanosecond times and values
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("influxd query %q: %v: %s", q, err, body)
	}
	if r.Error != "" || len(r.Results) == 0 || r.Results[0].Error != "" {
		t.Fatalf("influxd query %q: %s", q, body)
	}
	return r.Results[0].Series
}

// CreateDatabase runs CREATE DATABASE db.
func (s *Influxd) CreateDatabase(t testing.TB, db string) {
	t.Helper()
	s.Query(t, "", "CREATE DATABASE "+db)
}

// Write posts line protocol to /write?db= and fails unless it is stored (204).
func (s *Influxd) Write(t testing.TB, db, lines string) {
	t.Helper()
	s.post(t, "/write", url.Values{"db": {db}}, lines)
}

func (s *Influxd) post(t testing.TB, path string, params url.Values, body string) []byte {
	t.Helper()
	c := loopbackClient(30 * time.Second)
	defer c.CloseIdleConnections()
	resp, err := c.Post(s.URL+path+"?"+params.Encode(), "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatalf("influxd %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("influxd %s: %s: %s", path, resp.Status, b)
	}
	return b
}
