package broker

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

// mqttConnect is a minimal MQTT 3.1.1 CONNECT (clean session, keepalive
// 10 s) for client id "f".
var mqttConnect = []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 10, 0, 1, 'f'}

// mqtt5Connect is the same for MQTT 5 (no properties).
var mqtt5Connect = []byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 10, 0, 0, 1, 'f'}

// FuzzBrokerPackets writes arbitrary bytes to a running broker over real
// TCP, after a valid CONNECT (3.1.1 or 5) or none, and checks that the
// broker neither crashes nor stops serving: after every input a fresh
// client still gets its CONNACK. The seed corpus (testdata/fuzz) holds
// malformed publishes, subscribes, properties and lengths; `go test`
// runs it, `go test -fuzz FuzzBrokerPackets ./internal/broker` explores.
func FuzzBrokerPackets(f *testing.F) {
	defer goleak.VerifyNone(f, goleak.IgnoreCurrent())
	addr, stop := startFuzzBroker(f)
	defer stop()
	f.Add(byte(1), []byte{0x30, 0x05, 0x00, 0x01, 'a', 'x', 'y'})
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		switch mode % 3 {
		case 1:
			_, _ = c.Write(mqttConnect)
		case 2:
			_, _ = c.Write(mqtt5Connect)
		}
		_, _ = c.Write(data)
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, _ = io.Copy(io.Discard, c)
		c.Close()
		if err := connack(addr); err != nil {
			t.Fatalf("broker stopped serving after input %x: %v", data, err)
		}
	})
}

// connack connects a fresh client and waits for its CONNACK.
func connack(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(mqttConnect); err != nil {
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	if b[0] != 0x20 || b[3] != 0 {
		return &net.OpError{Op: "connack", Err: io.ErrUnexpectedEOF}
	}
	return nil
}

func startFuzzBroker(f *testing.F) (addr string, stop func()) {
	cfg := DefaultConfig()
	cfg.Listeners = []ListenerConfig{{Name: "mqtt", Protocol: ProtocolMQTT, Address: "127.0.0.1"}}
	cfg.Persistence.Enabled = false
	log := slog.New(slog.DiscardHandler)
	b := New(cfg, Deps{Logger: log, Registry: prometheus.NewRegistry(), DataDir: f.TempDir()}, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	select {
	case <-b.Ready():
	case err := <-done:
		f.Fatalf("broker: %v", err)
	}
	return b.Addr("mqtt").String(), func() {
		cancel()
		if err := <-done; err != nil {
			f.Errorf("broker: %v", err)
		}
	}
}
