package httpout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lineFormat is a minimal Format for the core's tests: "<measurement>
// <value>\n" per point, "alert <value>\n" per alert.
type lineFormat struct{ url string }

func (lineFormat) Group() string { return "g" }

func (lineFormat) AppendPoints(dst []byte, pts []telemetry.Point, keep func(string) bool) ([]byte, int, int) {
	n := 0
	for _, p := range pts {
		if keep(p.Measurement) {
			dst = fmt.Appendf(dst, "%s %g\n", p.Measurement, p.Fields[0].Value)
			n++
		}
	}
	return dst, n, 0
}

func (lineFormat) AppendAlert(dst []byte, a telemetry.Alert) ([]byte, int) {
	return fmt.Appendf(dst, "alert %g\n", a.Value), 1
}

func (lineFormat) Split(payload []byte) ([][]byte, error) {
	return bytes.SplitAfter(bytes.TrimSuffix(payload, []byte("\n")), []byte("\n")), nil
}

func (f lineFormat) Request(group string, payload []byte) (Request, error) {
	if group != "g" {
		return Request{}, fmt.Errorf("unknown group %q", group)
	}
	return Request{URL: f.url, Body: payload, Header: http.Header{"Content-Type": {"text/plain"}}}, nil
}

func testCommon(url string) Common {
	c := DefaultCommon()
	c.Name, c.URL = "t1", url
	c.FlushInterval = 10 * time.Millisecond
	c.Backoff.Min, c.Backoff.Max = 10*time.Millisecond, 50*time.Millisecond
	c.Queue.Fsync = false
	return c
}

func point(m string, v float64) telemetry.Point {
	return telemetry.Point{Measurement: m, Fields: []telemetry.Field{{Key: "value", Value: v}}, Time: time.Now()}
}

// runOutput runs o until the test ends.
func runOutput(t *testing.T, o *Output) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	<-o.Ready()
}

// server records request bodies; answer picks the status per request.
type server struct {
	mu     sync.Mutex
	bodies []string
	times  []time.Time
	answer func(n int, body string, w http.ResponseWriter) // n: 0-based request number
	srv    *httptest.Server
}

func newServer(t *testing.T, answer func(int, string, http.ResponseWriter)) *server {
	s := &server{answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.bodies)
		s.bodies, s.times = append(s.bodies, string(b)), append(s.times, time.Now())
		s.mu.Unlock()
		s.answer(n, string(b), w)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) requests() ([]string, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...), append([]time.Time(nil), s.times...)
}

// TestRetryAfter: 429 and 503 with Retry-After delay the next attempt by
// at least that long (1 s here; the backoff alone would be ≤ 50 ms).
func TestRetryAfter(t *testing.T) {
	for _, code := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			s := newServer(t, func(n int, _ string, w http.ResponseWriter) {
				if n == 0 {
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(code)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			reg := prometheus.NewRegistry()
			o, err := New(testCommon(s.srv.URL), lineFormat{s.srv.URL}, Deps{DataDir: t.TempDir(), Registry: reg})
			if err != nil {
				t.Fatal(err)
			}
			runOutput(t, o)
			if err := o.Append(context.Background(), []telemetry.Point{point("m", 1)}); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, 10*time.Second, "delivery", func() bool {
				return testkit.MetricValue(t, reg, "borda_uplink_sent_total") == 1
			})
			bodies, times := s.requests()
			if len(bodies) != 2 || bodies[0] != bodies[1] || times[1].Sub(times[0]) < 900*time.Millisecond {
				t.Fatalf("requests %q at %v", bodies, times)
			}
			if testkit.MetricValue(t, reg, "borda_uplink_retries_total") != 1 {
				t.Error("retry not counted")
			}
		})
	}
}

// TestTooLarge: 413 for a body with more than 2 lines splits the batch
// until every request fits; nothing is dead-lettered.
func TestTooLarge(t *testing.T) {
	s := newServer(t, func(_ int, body string, w http.ResponseWriter) {
		if strings.Count(body, "\n") > 2 {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	reg := prometheus.NewRegistry()
	c := testCommon(s.srv.URL)
	c.FlushInterval = time.Second
	o, err := New(c, lineFormat{s.srv.URL}, Deps{DataDir: t.TempDir(), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	runOutput(t, o)
	for i := range 3 {
		pts := []telemetry.Point{point("m", float64(3*i)), point("m", float64(3*i+1)), point("m", float64(3*i+2))}
		if err := o.Append(context.Background(), pts); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, 10*time.Second, "3 entries sent", func() bool {
		return testkit.MetricValue(t, reg, "borda_uplink_sent_total") == 3
	})
	var got []string
	bodies, _ := s.requests()
	for _, b := range bodies {
		if strings.Count(b, "\n") <= 2 {
			got = append(got, strings.Fields(b)...)
		}
	}
	if want := "[m 0 m 1 m 2 m 3 m 4 m 5 m 6 m 7 m 8]"; fmt.Sprint(got) != want {
		t.Errorf("accepted %v, want %s", got, want)
	}
	if n := testkit.MetricValue(t, reg, "borda_uplink_http_points_total", "result", "dead_letter"); n != 0 {
		t.Errorf("%v dead-lettered", n)
	}
}

// TestCorruptEntry: an entry that does not decode (left by a newer
// version, say) is dropped, one the format cannot send (another group)
// is dead-lettered, both counted as corrupt; the other entries are sent.
func TestCorruptEntry(t *testing.T) {
	dir := t.TempDir()
	q, err := queue.Open(QueuePath(dir, "t1"), queue.DefaultConfig(), queue.Deps{Name: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	es := []queue.Entry{{Data: []byte{9, 9}}, {Data: EncodeEntry(Entry{Group: "zz", Points: 1, Payload: []byte("m 0\n")})},
		{Data: EncodeEntry(Entry{Group: "g", Points: 1, Payload: []byte("m 1\n")})}}
	if err := q.Append(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, func(_ int, _ string, w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) })
	reg := prometheus.NewRegistry()
	o, err := New(testCommon(s.srv.URL), lineFormat{s.srv.URL}, Deps{DataDir: dir, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	runOutput(t, o)
	testkit.Eventually(t, 10*time.Second, "1 sent, 2 corrupt", func() bool {
		return testkit.MetricValue(t, reg, "borda_uplink_sent_total") == 1 &&
			testkit.MetricValue(t, reg, "borda_uplink_dropped_total", "reason", "corrupt") == 2
	})
	if bodies, _ := s.requests(); fmt.Sprint(bodies) != "[m 1\n]" {
		t.Errorf("requests %q", bodies)
	}
}

// TestAppendLifecycle: Append without selected points (or an alert with
// alerts off) returns at once, even before Run; with points it waits for
// Run (or ctx); after Run it is ErrClosed; Run twice is an error.
func TestAppendLifecycle(t *testing.T) {
	c := testCommon("http://127.0.0.1:9")
	c.Measurements, c.Alerts = []string{"sensors_*"}, false
	o, err := New(c, lineFormat{c.URL}, Deps{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Append(context.Background(), []telemetry.Point{point("other", 1)}); err != nil {
		t.Fatalf("unselected: %v", err)
	}
	if err := o.AppendAlert(context.Background(), telemetry.Alert{}); err != nil {
		t.Fatalf("alerts off: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := o.Append(ctx, []telemetry.Point{point("sensors_a", 1)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("before Run: %v", err)
	}
	rctx, stop := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- o.Run(rctx) }()
	<-o.Ready()
	if err := o.Append(context.Background(), []telemetry.Point{point("sensors_a", 1)}); err != nil {
		t.Fatal(err)
	}
	if err := o.Run(rctx); err == nil {
		t.Error("second Run accepted")
	}
	stop()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := o.Append(context.Background(), []telemetry.Point{point("sensors_a", 1)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Run: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	c := testCommon("http://x")
	c.TLS.CAFile = "/nonexistent/ca.pem"
	if _, err := New(c, lineFormat{}, Deps{DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Errorf("missing CA file: %v", err)
	}
	if _, err := New(testCommon("http://x"), lineFormat{}, Deps{}); err == nil {
		t.Error("no data dir accepted")
	}
}
