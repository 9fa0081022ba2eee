package testkit

import (
	"context"
	"testing"
	"time"
)

// Running is a component's Run(ctx) started by a test.
type Running struct {
	stop    context.CancelFunc
	errc    chan error
	timeout time.Duration
}

// RunComponent starts run in a goroutine and waits (up to timeout) until
// ready is closed; Run failing first fails the test. The component is
// stopped at cleanup, or earlier with Stop.
func RunComponent(t testing.TB, run func(context.Context) error, ready <-chan struct{}, timeout time.Duration) *Running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{stop: cancel, errc: make(chan error, 1), timeout: timeout}
	go func() { r.errc <- run(ctx) }()
	select {
	case <-ready:
	case err := <-r.errc:
		cancel()
		t.Fatalf("run: %v", err)
	case <-time.After(timeout):
		cancel()
		t.Fatal("not ready in time")
	}
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Stop cancels Run's context and waits for it to return; an error from Run
// fails the test. Calling it again does nothing.
func (r *Running) Stop(t testing.TB) {
	t.Helper()
	if r.errc == nil {
		return
	}
	r.stop()
	select {
	case err := <-r.errc:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(r.timeout):
		t.Error("run did not end")
	}
	r.errc = nil
}
