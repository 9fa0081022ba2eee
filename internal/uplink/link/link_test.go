package link

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRetryDoublesWithinJitterAndResets(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: 400 * time.Millisecond}
	r := b.Start()
	for i, nominal := range []time.Duration{100, 200, 400, 400} {
		nominal *= time.Millisecond
		if d := r.Next(); d < nominal/2 || d > nominal {
			t.Errorf("attempt %d: delay %v outside [%v, %v]", i, d, nominal/2, nominal)
		}
	}
	r.Reset()
	if d := r.Next(); d > b.Min {
		t.Errorf("after Reset: %v > min %v", d, b.Min)
	}
}

func TestBackoffValidate(t *testing.T) {
	for _, c := range []struct {
		b  Backoff
		ok bool
	}{
		{DefaultBackoff(), true},
		{Backoff{Min: time.Second, Max: time.Second}, true},
		{Backoff{Min: 0, Max: time.Second}, false},
		{Backoff{Min: 2 * time.Second, Max: time.Second}, false},
	} {
		if err := c.b.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: err %v, want ok=%v", c.b, err, c.ok)
		}
	}
}

// The cap is measured by the limiter's own accounting, not the wall clock:
// after the burst, asking for more than is available must wait, and a
// request larger than the burst is split instead of refused.
func TestBandwidth(t *testing.T) {
	if NewBandwidth(0) != nil {
		t.Fatal("0 should be unlimited (nil)")
	}
	var unlimited *Bandwidth
	if err := unlimited.Wait(context.Background(), 1<<40); err != nil {
		t.Fatal(err)
	}
	bw := NewBandwidth(1000)
	if err := bw.Wait(context.Background(), 1000); err != nil { // the burst
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := bw.Wait(ctx, 1500); err == nil { // needs 1.5 s more
		t.Fatal("a request beyond the cap did not wait")
	}
}

func TestStatusPublishesChangesOnly(t *testing.T) {
	var got []string
	pub := publisherFunc(func(topic string, payload []byte, retain bool, qos byte) error {
		if topic != "borda/uplink/cloud/status" || !retain || qos != 1 {
			t.Errorf("publish %s retain=%v qos=%d", topic, retain, qos)
		}
		got = append(got, string(payload))
		return nil
	})
	m := NewMetrics("cloud")
	if err := m.Register(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	defer m.Unregister()
	s := NewStatus(StatusTopic("cloud", ""), pub, m, nil)
	for _, st := range []string{Offline, Offline, Online, Online, Offline} {
		s.Set(st)
	}
	if len(got) != 3 || got[0] != Offline || got[1] != Online || got[2] != Offline {
		t.Fatalf("published %v", got)
	}
	if v := testutil.ToFloat64(m.Connected); v != 0 {
		t.Fatalf("connected = %v", v)
	}
}

type publisherFunc func(string, []byte, bool, byte) error

func (f publisherFunc) Publish(t string, p []byte, r bool, q byte) error { return f(t, p, r, q) }

func TestGate(t *testing.T) {
	g := NewGate()
	if err := g.Wait(context.Background()); err != nil || g.Paused() {
		t.Fatal("a new gate is not open")
	}
	if !g.Pause() || g.Pause() {
		t.Fatal("Pause did not report the change once")
	}
	select {
	case <-g.PausedC():
	default:
		t.Fatal("PausedC not closed while paused")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.Wait(ctx); err == nil {
		t.Fatal("Wait passed a paused gate")
	}
	done := make(chan error, 1)
	go func() { done <- g.Wait(context.Background()) }()
	if !g.Resume() || g.Resume() {
		t.Fatal("Resume did not report the change once")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.PausedC():
		t.Fatal("PausedC closed while open")
	default:
	}
}
