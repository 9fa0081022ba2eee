package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/testkit"
)

// readEvents collects "overview" events from the stream until ctx ends.
func readEvents(ctx context.Context, t *testing.T, url string) <-chan Overview {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
	}
	out := make(chan Overview, 1000)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "overview":
				var o Overview
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &o) == nil {
					out <- o
				}
			}
		}
	}()
	return out
}

// TestStreamThrottles: however fast data arrives, a page gets at most one
// update per interval, and none while nothing changes.
func TestStreamThrottles(t *testing.T) {
	reg := newTestRegistry(t)
	metrics := prometheus.NewRegistry()
	const interval = 100 * time.Millisecond
	d := newTestDashboard(t, Deps{Gatherer: reg, Registry: metrics, Interval: interval})
	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	events := readEvents(ctx, t, srv.URL+"/api/v1/dashboard/stream")
	first := <-events
	if first.Changes.Samples != 0 {
		t.Fatalf("first event %+v", first.Changes)
	}
	testkit.Eventually(t, 2*time.Second, "one stream client", func() bool {
		return testkit.MetricValue(t, metrics, "borda_dashboard_stream_clients") == 1
	})

	// Quiet: no event for a few intervals (the clock alone is no change).
	select {
	case o := <-events:
		t.Fatalf("event without a change: %+v", o.Changes)
	case <-time.After(4 * interval):
	}

	// Busy: 1000 changes in one second give about 10 events, not 1000.
	const busy = time.Second
	stop := time.Now().Add(busy)
	for time.Now().Before(stop) {
		reg.samples.Inc()
		time.Sleep(time.Millisecond)
	}
	time.Sleep(2 * interval)
	n, last := 0, 0.0
	for len(events) > 0 {
		o := <-events
		n++
		last = o.Changes.Samples
	}
	if n < 3 || n > int(busy/interval)+3 {
		t.Errorf("%d events in %s at interval %s", n, busy, interval)
	}
	if last == 0 {
		t.Error("the last event did not carry the changes")
	}

	cancel()
	testkit.Eventually(t, 2*time.Second, "stream closed", func() bool {
		return testkit.MetricValue(t, metrics, "borda_dashboard_stream_clients") == 0
	})
}

func TestStreamLimit(t *testing.T) {
	d := newTestDashboard(t, Deps{})
	d.streams.Store(maxStreams)
	if rec := serve(t, d, "/api/v1/dashboard/stream"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d over the limit", rec.Code)
	}
}

// TestStreamEndsWithRun: stopping the dashboard ends open streams, so the
// HTTP server's graceful shutdown does not wait for them.
func TestStreamEndsWithRun(t *testing.T) {
	d := newTestDashboard(t, Deps{Interval: 50 * time.Millisecond})
	run := testkit.RunComponent(t, d.Run, d.Ready(), 5*time.Second)
	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	events := readEvents(context.Background(), t, srv.URL+"/api/v1/dashboard/stream")
	<-events
	run.Stop(t)
	deadline := time.After(2 * time.Second)
	for {
		select {
		case _, open := <-events:
			if !open {
				return
			}
		case <-deadline:
			t.Fatal("stream still open after the dashboard stopped")
		}
	}
}
