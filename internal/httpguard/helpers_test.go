package httpguard

import (
	"bytes"
	"context"
	"errors"
	"github.com/borda-edge/borda/internal/testkit"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/ban"
	"github.com/borda-edge/borda/internal/logging"
)

type frozen = testkit.Clock
type syncBuffer = testkit.SyncBuffer

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testToken    = "tok-0123456789abcdef"
	testUser     = "telegraf"
	testPassword = "pa55word-xyz"
)

// testConfig is the default with credentials, public reads (auto would
// close them; TestPublicReadModes covers that) and no rate-limit allow
// list (tests come from loopback).
func testConfig() Config {
	c := DefaultConfig()
	c.RateLimit.AllowList = nil
	c.Auth.Tokens = []Secret{testToken}
	c.Auth.Users = []User{{Username: testUser, Password: testPassword}}
	c.Auth.PublicRead = PublicReadOn
	return c
}

// env is a Guard with a Banner (no allow list), a clock and captured logs.
type env struct {
	g     *Guard
	b     *ban.Banner
	clock *frozen
	log   *syncBuffer
	reg   *prometheus.Registry
	calls atomic.Int64 // requests that reached the inner handler
}

// newEnv builds the env; static are Deps.Static.
func newEnv(t *testing.T, cfg Config, static ...string) *env {
	t.Helper()
	e := &env{clock: testkit.NewClock(time.Unix(1700000000, 0)), log: &syncBuffer{}, reg: prometheus.NewRegistry()}
	base := logging.New(logging.DefaultConfig(), e.log)
	bcfg := ban.DefaultConfig()
	bcfg.AllowList = nil
	var err error
	e.b, err = ban.New(bcfg, ban.Deps{Logger: base.With("component", "ban"), Registry: e.reg,
		DataDir: t.TempDir(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	lim := slog.New(logging.NewRateLimited(base.Handler(), 10*time.Second)).With("component", "http")
	e.g, err = New(cfg, Deps{Logger: base.With("component", "http"), Limited: lim, Registry: e.reg,
		Banner: e.b, Now: e.clock.Now, Static: static})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// handler is the inner handler: it counts calls and echoes the body.
func (e *env) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(r.Body); err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(buf.Bytes())
	})
}

// serve runs an http.Server configured like borda's (cfg.Timeouts) with
// the guarded handler on a loopback port until the test ends.
func (e *env) serve(t *testing.T, cfg Config, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e.g.Wrap(h), ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelDebug)}
	cfg.Timeouts.Apply(srv)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// clientFrom is an HTTP client whose connections come from src (any
// address of 127/8 works on Linux loopback).
func clientFrom(t *testing.T, src string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 2}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}
