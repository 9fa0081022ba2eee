package testkit

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Prometheus is a Prometheus server (Debian package prometheus) that
// scrapes nothing and takes remote_write on /api/v1/write
// (--web.enable-remote-write-receiver), with its TSDB in a temp dir on a
// free loopback port.
type Prometheus struct {
	*Server
}

// NewPrometheus writes a minimal configuration and picks the port without
// starting the server.
func NewPrometheus(t testing.TB) *Prometheus {
	t.Helper()
	dir, port := t.TempDir(), FreePort(t)
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, []byte("global:\n  scrape_interval: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Prometheus{NewServer(t, "prometheus", "prometheus", "/-/ready", port, dir,
		"--config.file", conf, "--storage.tsdb.path", filepath.Join(dir, "data"),
		"--web.listen-address", "127.0.0.1:"+strconv.Itoa(port), "--web.enable-remote-write-receiver",
		"--log.level", "warn")}
}

// StartPrometheus runs a new Prometheus and waits until /-/ready answers.
func StartPrometheus(t testing.TB) *Prometheus {
	t.Helper()
	s := NewPrometheus(t)
	s.Start(t)
	return s
}

// RangeSeries is one series of a range-vector query: every raw sample.
type RangeSeries struct {
	Metric map[string]string
	Values []float64
	Times  []int64 // Unix milliseconds
}

// Samples returns the raw samples of the series selector matches within
// the window before now (an instant query of selector[window]).
func (s *Prometheus) Samples(selector string, window time.Duration) ([]RangeSeries, error) {
	c := loopbackClient(30 * time.Second)
	defer c.CloseIdleConnections()
	form := url.Values{"query": {selector + "[" + strconv.FormatInt(int64(window/time.Second), 10) + "s]"}}
	resp, err := c.PostForm(s.URL+"/api/v1/query", form)
	if err != nil {
		return nil, err //nolint:wrapcheck // test helper
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, &httpError{resp.Status, body, err}
	}
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err //nolint:wrapcheck
	}
	out := make([]RangeSeries, 0, len(r.Data.Result))
	for _, res := range r.Data.Result {
		rs := RangeSeries{Metric: res.Metric}
		for _, v := range res.Values {
			ts, _ := v[0].(float64)
			str, _ := v[1].(string)
			f, _ := strconv.ParseFloat(str, 64)
			rs.Times = append(rs.Times, int64(ts*1000+0.5))
			rs.Values = append(rs.Values, f)
		}
		out = append(out, rs)
	}
	return out, nil
}
