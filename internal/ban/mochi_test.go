package ban

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/borda-edge/borda/internal/testkit"
)

// connack sends a minimal MQTT 3.1.1 CONNECT (client id "a") from src
// and reports whether the accepting CONNACK came back.
func connack(t *testing.T, src, addr string) bool {
	t.Helper()
	c := dialFrom(t, src, addr)
	if c == nil {
		return false
	}
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, _ = c.Write([]byte{0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 1, 'a'})
	got := make([]byte, 4)
	_, err := io.ReadFull(c, got)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("no answer and no close within 3s for %s", src)
	}
	return err == nil && bytes.Equal(got, []byte{0x20, 2, 0, 0})
}

// TestMochiKeepsServingThroughRefusals: mochi-mqtt's TCP listener stops
// for good when Accept returns an error; refused connections must not.
func TestMochiKeepsServingThroughRefusals(t *testing.T) {
	cfg := testConfig()
	cfg.ConnectionRate.Burst, cfg.ConnectionRate.Connections = 2, 2
	f := newFixture(t, cfg, t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := mqtt.New(&mqtt.Options{Logger: f.b.log})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddListener(listeners.NewNet("mqtt", WrapListener(ln, f.b, "mqtt", f.b.ConnRate()))); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := ln.Addr().String()

	f.fail("127.0.0.2", 5)
	for range 5 {
		if connack(t, "127.0.0.2", addr) {
			t.Fatal("a banned IP got CONNACK")
		}
	}
	served := 0
	for range 4 {
		if connack(t, "127.0.0.3", addr) {
			served++
		}
	}
	if served != 2 {
		t.Errorf("127.0.0.3 got %d CONNACKs of 4, want its burst of 2", served)
	}
	if !connack(t, "127.0.0.1", addr) {
		t.Fatal("the broker stopped serving other clients after refusals")
	}
	if got := testkit.MetricValue(t, f.reg, "borda_connections_refused_total"); got != 7 {
		t.Errorf("refused = %v, want 7", got)
	}
}
