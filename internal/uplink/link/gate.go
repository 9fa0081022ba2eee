package link

import (
	"context"
	"sync"
)

// Gate pauses an output while the connectivity monitor says its network is
// down (no connection attempts, no sends; the queue keeps filling) and
// resumes it when the network is back. A new Gate is open. Safe for
// concurrent use.
type Gate struct {
	mu      sync.Mutex
	paused  bool
	resumed chan struct{} // closed while open
	pausedC chan struct{} // closed while paused
}

// NewGate returns an open gate.
func NewGate() *Gate {
	g := &Gate{resumed: make(chan struct{}), pausedC: make(chan struct{})}
	close(g.resumed)
	return g
}

// Pause closes the gate; it reports whether that changed anything.
func (g *Gate) Pause() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused {
		return false
	}
	g.paused = true
	close(g.pausedC)
	g.resumed = make(chan struct{})
	return true
}

// Resume opens the gate; it reports whether that changed anything.
func (g *Gate) Resume() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.paused {
		return false
	}
	g.paused = false
	close(g.resumed)
	g.pausedC = make(chan struct{})
	return true
}

// Paused reports whether the gate is closed.
func (g *Gate) Paused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// Wait returns nil once the gate is open, or ctx's error.
func (g *Gate) Wait(ctx context.Context) error {
	g.mu.Lock()
	c := g.resumed
	g.mu.Unlock()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err() //nolint:wrapcheck // the caller's own context
	}
}

// PausedC is closed when the gate is (or gets) paused: a connected output
// selects on it to disconnect.
func (g *Gate) PausedC() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pausedC
}
