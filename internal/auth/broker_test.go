package auth

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/broker"
)

// TestWithBordaBroker: the hook in broker Deps.Hooks replaces the
// broker's allow-all default (wrong passwords are refused) and enforces
// the ACL, next to borda's own hooks.
func TestWithBordaBroker(t *testing.T) {
	file := tempPath(t, "passwd")
	writePasswd(t, file, "alice", "alice-pw")
	f := newFixture(t, Config{PasswordFile: file, ACL: []Rule{{UserAny, "sensors/%u/#", AccessReadWrite}}})

	cfg := broker.DefaultConfig()
	cfg.Listeners = []broker.ListenerConfig{{Name: "mqtt", Protocol: broker.ProtocolMQTT, Address: "127.0.0.1"}}
	cfg.Persistence.Enabled = false
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := broker.New(cfg, broker.Deps{Logger: discard, Registry: prometheus.NewRegistry(), DataDir: t.TempDir(),
		Hooks: []mqtt.Hook{f.hook}}, discard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("broker: %v", err)
		}
	})
	select {
	case <-b.Ready():
	case err := <-done:
		t.Fatalf("broker: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("broker not ready")
	}
	host, port := hostPort(t, b.Addr("mqtt").String())
	pub := func(user, pass, topic string) (int, string) {
		return mosquitto(t, "mosquitto_pub", "-h", host, "-p", port, "-V", "mqttv5", "-q", "1",
			"-u", user, "-P", pass, "-t", topic, "-m", "x")
	}
	if code, out := pub("alice", "wrong", "sensors/alice/t"); code == 0 || !strings.Contains(out, "Bad User Name or Password") {
		t.Fatalf("wrong password: exit %d: %s", code, out)
	}
	if code, out := pub("alice", "alice-pw", "sensors/alice/t"); code != 0 || out != "" {
		t.Fatalf("right password: exit %d: %s", code, out)
	}
	if code, out := pub("alice", "alice-pw", "sensors/bob/t"); !strings.Contains(out, "Not authorized") {
		t.Fatalf("denied publish: exit %d: %s", code, out)
	}
	if f.counter(t, "failures", ReasonBadPassword) != 1 || f.counter(t, "denied", ActionPublish) != 1 {
		t.Fatal("not counted")
	}
}
