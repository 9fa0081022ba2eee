package simulate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
)

// fakeBroker accepts connections, answers CONNECT with CONNACK return code
// rc, then hands the connection to serve (nil: read until EOF).
func fakeBroker(t *testing.T, rc byte, serve func(net.Conn, *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				var buf []byte
				if p, err := readPacket(br, &buf); err != nil || p.Type != pktConnect {
					return
				}
				if _, err := c.Write([]byte{pktConnack << 4, 2, 0, rc}); err != nil || rc != 0 {
					return
				}
				if serve != nil {
					serve(c, br)
					return
				}
				for {
					if _, err := readPacket(br, &buf); err != nil {
						return
					}
				}
			})
		}
	})
	return "tcp://" + ln.Addr().String()
}

func TestRunConnectFailures(t *testing.T) {
	refused := fakeBroker(t, 5, nil)
	closed := fmt.Sprintf("tcp://127.0.0.1:%d", testkit.FreePort(t)) // nobody listens there
	tests := []struct {
		name, broker, want string
	}{
		{"not authorized", refused, "not authorized (5)"},
		{"nobody listening", closed, "connection refused"},
		{"bad CA file", "ssl://127.0.0.1:1", "CA file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Broker: tt.broker, Devices: 4, Count: 10, CAFile: "/nonexistent.pem"}
			if !strings.HasPrefix(tt.broker, "ssl") {
				cfg.CAFile = ""
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := Run(ctx, cfg, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run: %v, want %q", err, tt.want)
			}
			if _, err := Subscribe(ctx, cfg, "#"); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Subscribe: %v, want %q", err, tt.want)
			}
		})
	}
}

// TestRunConnectionLost: the broker drops a QoS 1 connection mid-run. Run
// ends with an error and a report that counts the unacknowledged messages.
func TestRunConnectionLost(t *testing.T) {
	broker := fakeBroker(t, 0, func(c net.Conn, br *bufio.Reader) {
		var buf []byte
		for i := 0; ; i++ {
			p, err := readPacket(br, &buf)
			if err != nil || i == 35 {
				return // closes the connection without acknowledging
			}
			if p.Type == pktPublish && i < 30 {
				ack := pubackPacket(p.ID)
				if _, err := c.Write(ack[:]); err != nil {
					return
				}
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := Run(ctx, Config{Broker: broker, Devices: 2, Conns: 1, QoS: 1, Duration: 10 * time.Second, MaxInflight: 10}, nil)
	if err == nil || !strings.Contains(err.Error(), "connection 0") {
		t.Fatalf("Run: %v", err)
	}
	if rep.Acked != 30 || rep.Errors != rep.Sent-rep.Acked+1 {
		t.Fatalf("report: sent %d, acked %d, errors %d", rep.Sent, rep.Acked, rep.Errors)
	}
}

// TestRunCancel: cancelling ctx stops an unlimited run early; the report
// is complete and nothing is left running.
func TestRunCancel(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	for _, qos := range []byte{0, 1} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		rep, err := Run(ctx, Config{Broker: "tcp://" + m.Addr, Devices: 10, QoS: qos, Duration: time.Hour, Rate: 5000}, nil)
		cancel()
		if err != nil {
			t.Fatalf("qos %d: %v", qos, err)
		}
		if rep.Sent == 0 || rep.Errors != 0 || (qos == 1 && rep.Acked != rep.Sent) {
			t.Fatalf("qos %d: %+v", qos, rep)
		}
	}
}

// TestSubscribeEndsWithContext: a Counter stops when its ctx is done.
func TestSubscribeEndsWithContext(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	k, err := Subscribe(ctx, Config{Broker: "tcp://" + m.Addr, QoS: 1}, "sensors/#")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := k.Wait(wctx, 1); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait after cancel: %v", err)
	}
	if err := k.Close(); err != nil || k.Err() != nil {
		t.Fatalf("Close: %v, Err: %v", err, k.Err())
	}
}
