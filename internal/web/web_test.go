package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/httpguard"
)

func TestReadyzWaitsForEveryComponent(t *testing.T) {
	storeReady := make(chan struct{})
	reg := prometheus.NewRegistry()
	s := New(Config{Address: "127.0.0.1", Guard: httpguard.DefaultConfig()}, slog.New(slog.DiscardHandler), reg,
		[]ReadyCheck{{Name: "store", Ready: storeReady}}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	base := "http://" + s.Addr().String()

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"store"`) {
		t.Fatalf("/readyz before ready = %d %s", code, body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	close(storeReady)
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after ready = %d %s", code, body)
	}
	if code, _ := get("/metrics"); code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{DefaultConfig(), ""},
		{Config{Port: 65536, Guard: httpguard.DefaultConfig()}, "port: 65536 is not a valid port"},
		{Config{Address: "localhost", Port: 1, Guard: httpguard.DefaultConfig()}, `address: "localhost" is not an IP address`},
		{Config{Port: 1, Guard: func() httpguard.Config { g := httpguard.DefaultConfig(); g.MaxBodyBytes = 1; return g }()},
			"guard.max_body_bytes: 1 must be at least 1024"},
	} {
		got := ""
		if err := tt.cfg.Validate(); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Validate(%+v) = %q, want %q", tt.cfg, got, tt.want)
		}
	}
}
