package alerts

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
)

// hookServer answers with statuses[i] for the i-th request (the last one
// repeats); a status of 0 means: never answer (until the client gives up).
type hookServer struct {
	*httptest.Server
	hits    atomic.Int64
	mu      sync.Mutex
	bodies  []string
	headers []http.Header
}

func newHookServer(t *testing.T, statuses ...int) *hookServer {
	t.Helper()
	release := make(chan struct{})
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(h.hits.Add(1))
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, string(body))
		h.headers = append(h.headers, r.Header.Clone())
		h.mu.Unlock()
		status := statuses[min(n, len(statuses))-1]
		if status == 0 {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(func() { close(release); h.Close() })
	return h
}

func TestWebhook(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		timeout  time.Duration
		result   string
		attempts map[string]float64
	}{
		{"success", []int{200}, 0, resultOK, map[string]float64{resultOK: 1, resultError: 0}},
		{"retries on 500 then succeeds", []int{500, 503, 204}, 0, resultOK, map[string]float64{resultOK: 1, resultError: 2}},
		{"429 is retried", []int{429, 200}, 0, resultOK, map[string]float64{resultOK: 1, resultError: 1}},
		{"gives up after attempts", []int{500}, 0, resultGaveUp, map[string]float64{resultOK: 0, resultError: 3}},
		{"4xx is not retried", []int{400}, 0, resultError, map[string]float64{resultOK: 0, resultError: 1}},
		{"redirect is not followed", []int{302}, 0, resultError, map[string]float64{resultOK: 0, resultError: 1}},
		{"timeout", []int{0}, 50 * time.Millisecond, resultGaveUp, map[string]float64{resultOK: 0, resultError: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHookServer(t, tt.statuses...)
			cfg := fastConfig()
			cfg.WebhookAttempts = 3
			d, _, _ := testDispatcher(t, cfg, nil)
			act := mustCompile(t, ActionSpec{Type: ActionWebhook, URL: srv.URL + "/hook", Timeout: tt.timeout,
				Headers: map[string]string{"Authorization": "Bearer x"}})[0]
			a := alertAt(0, "s1", t0, telemetry.AlertFiring)
			d.deliver(context.Background(), webhookJob{act, a})
			for _, r := range []string{resultOK, resultError, resultGaveUp} {
				want := 0.0
				if r == tt.result {
					want = 1
				}
				if got := counter(d.m.actions.WithLabelValues(ActionWebhook, r)); got != want {
					t.Errorf("actions_total{result=%s} = %v, want %v", r, got, want)
				}
			}
			for r, want := range tt.attempts {
				if got := counter(d.m.attempts.WithLabelValues(r)); got != want {
					t.Errorf("webhook_attempts_total{result=%s} = %v, want %v", r, got, want)
				}
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			want := string(appendDefaultPayload(nil, &a))
			if srv.bodies[0] != want || srv.headers[0].Get("Content-Type") != "application/json" ||
				srv.headers[0].Get("Authorization") != "Bearer x" {
				t.Errorf("request body %s headers %v; want %s", srv.bodies[0], srv.headers[0], want)
			}
		})
	}
}

// TestWebhookThroughNotify: Notify queues the webhook; a worker of Run
// delivers it with the rendered custom payload.
func TestWebhookThroughNotify(t *testing.T) {
	srv := newHookServer(t, 500, 200)
	d, pub, _ := testDispatcher(t, fastConfig(), nil)
	d.SetDefaultActions(mustCompile(t, ActionSpec{Type: ActionWebhook, URL: srv.URL,
		Payload: `{"text":"{{.Type}} on {{.DeviceID}}"}`}))
	run(t, d)
	d.Notify(alertAt(0, "s1", t0, telemetry.AlertFiring))
	ok := d.m.actions.WithLabelValues(ActionWebhook, resultOK)
	testkit.Eventually(t, 10*time.Second, "webhook delivered", func() bool { return counter(ok) == 1 })
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.bodies) != 2 || srv.bodies[1] != `{"text":"HIGH_TEMPERATURE on s1"}` || len(pub.messages()) != 0 {
		t.Fatalf("bodies %q, publishes %d", srv.bodies, len(pub.messages()))
	}
}
