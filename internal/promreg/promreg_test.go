package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterAllOrNothing(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := prometheus.NewCounter(prometheus.CounterOpts{Name: "a_total", Help: "a"})
	b := prometheus.NewCounter(prometheus.CounterOpts{Name: "b_total", Help: "b"})
	if _, err := Register(reg, b); err != nil {
		t.Fatal(err)
	}
	// a would register, b collides: a must be unregistered again.
	if _, err := Register(reg, a, prometheus.NewCounter(prometheus.CounterOpts{Name: "b_total", Help: "b"})); err == nil {
		t.Fatal("duplicate registration accepted")
	}
	g, err := Register(reg, a) // a is free again
	if err != nil {
		t.Fatalf("a was left registered after the failed group: %v", err)
	}
	g.Unregister()
	g.Unregister() // idempotent
	if _, err := Register(reg, a); err != nil {
		t.Fatalf("a still registered after Unregister: %v", err)
	}
	if g, err := Register(nil, a); err != nil || g == nil {
		t.Fatalf("nil registry: %v %v", g, err)
	}
}
