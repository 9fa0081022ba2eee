// Package promreg registers a group of Prometheus collectors all at once
// or not at all, and unregisters them together, for components that can be
// rebuilt on the same registry (an uplink output reopened after a reload).
package promreg

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Group is a set of collectors registered together.
type Group struct {
	reg prometheus.Registerer
	cs  []prometheus.Collector
}

// Register registers cs on reg; if one fails, those already registered are
// unregistered again and the error is returned. A nil reg registers nothing.
func Register(reg prometheus.Registerer, cs ...prometheus.Collector) (*Group, error) {
	if reg == nil {
		return &Group{}, nil
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, d := range cs[:i] {
				reg.Unregister(d)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return &Group{reg: reg, cs: cs}, nil
}

// Unregister removes the group's collectors; calling it again does nothing.
func (g *Group) Unregister() {
	if g == nil || g.reg == nil {
		return
	}
	for _, c := range g.cs {
		g.reg.Unregister(c)
	}
	g.reg = nil
}
