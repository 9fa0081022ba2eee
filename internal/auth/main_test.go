package auth

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testCost keeps bcrypt fast in tests; it is the minimum accepted.
const testCost = MinBcryptCost

// recorder is a Failures that remembers calls.
type recorder struct {
	mu    sync.Mutex
	calls []failure
}

type failure struct{ remote, username, reason string }

func (r *recorder) AuthFailed(remote, username, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, failure{remote, username, reason})
}

func (r *recorder) all() []failure {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]failure(nil), r.calls...)
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a hook with its registry, failure recorder and log.
type fixture struct {
	hook *Hook
	reg  *prometheus.Registry
	fail *recorder
	log  *syncBuffer
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{reg: prometheus.NewRegistry(), fail: &recorder{}, log: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})).With("component", "auth")
	h, err := New(cfg, Deps{Logger: logger, Registry: f.reg, Failures: f.fail})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.hook = h
	return f
}

// counter reads one labelled counter of the hook's metrics.
func (f *fixture) counter(t *testing.T, name, label string) float64 {
	t.Helper()
	var c prometheus.Collector
	switch name {
	case "failures":
		c = f.hook.metrics.failures.WithLabelValues(label)
	case "successes":
		c = f.hook.metrics.successes.WithLabelValues(label)
	case "denied":
		c = f.hook.metrics.denied.WithLabelValues(label)
	case "reloads":
		c = f.hook.metrics.reloads.WithLabelValues(label)
	default:
		t.Fatalf("unknown counter %s", name)
	}
	return testutil.ToFloat64(c)
}

// hashCache keeps tests from hashing the same password again (bcrypt
// is slow under the race detector).
var hashCache sync.Map

// hashOf hashes a password at the test cost.
func hashOf(t testing.TB, password string) string {
	t.Helper()
	if h, ok := hashCache.Load(password); ok {
		return h.(string)
	}
	h, err := HashPassword([]byte(password), testCost)
	if err != nil {
		t.Fatal(err)
	}
	hashCache.Store(password, h)
	return h
}

// writePasswd writes a password file with users (name, password, ...).
func writePasswd(t *testing.T, path string, pairs ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# test users\n")
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString(FormatEntry(pairs[i], hashOf(t, pairs[i+1])) + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// server is mochi-mqtt with the hook, on a free port.
type server struct {
	*mqtt.Server
	addr string
}

// startServer serves MQTT on address ("127.0.0.1:0" normally) with the
// hook as the only auth hook, optionally over TLS, and closes it at cleanup.
func startServer(t *testing.T, h mqtt.Hook, address string, tlsCfg *tls.Config) *server {
	t.Helper()
	s := mqtt.New(&mqtt.Options{InlineClient: true,
		Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelError + 1}))})
	if err := s.AddHook(h, nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", address)
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	if err := s.AddListener(listeners.NewNet("test", ln)); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &server{Server: s, addr: addr}
}

// tempPath is a file name in the test's temporary directory.
func tempPath(t *testing.T, name string) string { return filepath.Join(t.TempDir(), name) }
