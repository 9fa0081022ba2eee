package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// component is one long-lived part of the gateway.
type component struct {
	name  string
	run   func(context.Context) error
	ready <-chan struct{} // closed when started; run returns on failure instead
}

type running struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// runComponents starts parts one after the other, each once the previous
// one is ready (so a port in use stops start-up before later parts run),
// waits for ctx or a failure, then stops them in stopOrder.
func runComponents(ctx context.Context, parts []component, stopOrder []string, log *slog.Logger) error {
	started := map[string]*running{}
	failed := make(chan string, len(parts))
	var startErr error
startup:
	for _, p := range parts {
		r := start(p, failed)
		started[p.name] = r
		select {
		case <-p.ready:
		case <-r.done:
			startErr = fmt.Errorf("start %s: %w", p.name, r.err)
			break startup
		case <-ctx.Done():
			break startup
		}
	}
	if startErr == nil && ctx.Err() == nil {
		select {
		case <-ctx.Done():
			log.Info("shutting down", "cause", context.Cause(ctx))
		case name := <-failed:
			startErr = fmt.Errorf("%s: %w", name, started[name].err)
		}
	}
	return errors.Join(startErr, stopAll(started, stopOrder, log))
}

func start(p component, failed chan<- string) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = p.run(ctx)
		if r.err == nil && ctx.Err() == nil {
			r.err = errors.New("stopped unexpectedly")
		}
		if ctx.Err() == nil {
			failed <- p.name
		}
	}()
	return r
}

// stopAll stops started components in order and collects errors from
// components that failed while stopping.
func stopAll(started map[string]*running, order []string, log *slog.Logger) error {
	var errs []error
	for _, name := range order {
		r, ok := started[name]
		if !ok {
			continue
		}
		log.Debug("stopping", "part", name)
		alreadyDone := isDone(r.done)
		r.cancel()
		<-r.done
		if r.err != nil && !alreadyDone {
			errs = append(errs, fmt.Errorf("stop %s: %w", name, r.err))
		}
	}
	return errors.Join(errs...)
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
