package netmon

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Interval != 5*time.Second || c.Timeout != time.Second || c.LatencyWarning != 100*time.Millisecond ||
		c.HoldTime != time.Minute || c.FailRounds != 3 {
		t.Fatalf("defaults: %+v", c)
	}
	us := c.normalized()
	if us[0].Interface != "eth0" || us[1].Interface != "wwan0" || us[0].Metric != 100 || us[1].Metric != 200 ||
		strings.Join(us[0].Targets, ",") != "8.8.8.8:53,1.1.1.1:53" {
		t.Fatalf("normalized: %+v", us)
	}
}

func TestValidateNamesKeys(t *testing.T) {
	c := DefaultConfig()
	c.Enabled = true
	c.Uplinks = []UplinkConfig{
		{Interface: "eth0", Targets: []string{"nope", "icmp:1.1.1.1"}, Gateway: "fe80::1"},
		{Interface: "eth0", Metric: 5},
		{Interface: "a-very-long-interface-name"},
	}
	c.Interval = 0
	c.FailRounds = 0
	c.Window = 0
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"uplinks[0].targets[0]", "uplinks[0].gateway", "uplinks[1].interface",
		"uplinks[1].name", "uplinks[1].metric", "uplinks[2].interface", "interval", "fail_rounds", "window"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "targets[1]") {
		t.Errorf("icmp target rejected: %v", err)
	}
}

func TestPrioritySortIsStable(t *testing.T) {
	c := DefaultConfig()
	c.Uplinks = []UplinkConfig{{Interface: "c", Priority: 2}, {Interface: "a", Priority: 1}, {Interface: "b", Priority: 1}}
	var got []string
	for _, u := range c.normalized() {
		got = append(got, u.Name)
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatal(got)
	}
}

func TestWindowStats(t *testing.T) {
	w := window{n: 4}
	for _, ms := range []int{100, 10, 20, 30} {
		w.add(time.Duration(ms)*time.Millisecond, true)
	}
	w.add(0, false) // pushes out 100 ms
	avg, p95, loss := w.stats()
	if avg != 20*time.Millisecond || p95 != 30*time.Millisecond || loss != 0.25 {
		t.Fatalf("avg %s p95 %s loss %v", avg, p95, loss)
	}
	w = window{n: 2}
	w.add(0, false)
	if avg, _, loss := w.stats(); avg != 0 || loss != 1 {
		t.Fatalf("all failed: %s %v", avg, loss)
	}
}

func TestWatchKeepsLatest(t *testing.T) {
	m, err := New(DefaultConfig(), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ch := m.Watch()
	if <-ch {
		t.Fatal("online before any probe")
	}
	m.setOnline(true)
	m.setOnline(false)
	m.setOnline(true)
	if v := <-ch; !v || len(ch) != 0 {
		t.Fatalf("got %v, %d more", v, len(ch))
	}
	if !m.Online() {
		t.Fatal("Online")
	}
}

// High latency is back to normal only below latency_warning - latency_hysteresis.
func TestLatencyHysteresis(t *testing.T) {
	var events []string
	cfg := DefaultConfig()
	cfg.Window = 1
	m, err := New(cfg, Deps{OnEvent: func(e Event) {
		if e.Kind == LatencyHigh || e.Kind == LatencyNormal {
			events = append(events, string(e.Kind))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ms := range []int{50, 120, 90, 101, 81, 79, 99} { // warning 100 ms, hysteresis 20 ms
		m.handleRound(roundResult{u: m.ups[0], at: time.Now(), rtts: []time.Duration{time.Duration(ms) * time.Millisecond},
			errs: []error{nil}})
	}
	if got := strings.Join(events, " "); got != "latency_high latency_normal" {
		t.Fatalf("events %q", got)
	}
}

func TestValidateGateway6(t *testing.T) {
	for _, tc := range []struct {
		u    UplinkConfig
		want string
	}{
		{UplinkConfig{Interface: "eth0", IPv6: true, Gateway6: "fe80::1"}, ""},
		{UplinkConfig{Interface: "eth0", IPv6: true}, ""},
		{UplinkConfig{Interface: "eth0", IPv6: true, Gateway6: "10.0.0.1"}, "not an IPv6 address"},
		{UplinkConfig{Interface: "eth0", Gateway6: "fe80::1"}, "needs ipv6: true"},
	} {
		c := DefaultConfig()
		c.Uplinks = []UplinkConfig{tc.u}
		err := c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: err %v, want %q", tc.u, err, tc.want)
		}
	}
}
