package bench

import (
	"fmt"
	"time"
)

// cpuReader is what settle watches: the CPU a process has used.
type cpuReader interface {
	cpu() (cpuTimes, error)
}

// A process is idle when it used at most idleTicks clock ticks of CPU
// over settleWindow polls settlePoll apart: at most 20 ms in 250 ms, 8%
// of one core (Go's garbage collector and timers of an idle server stay
// below that).
const (
	settlePoll   = 50 * time.Millisecond
	settleWindow = 5
	idleTicks    = 2
)

// settle waits until p is idle and returns when its idle window began:
// about when p finished its work (within settlePoll plus the 10 ms clock
// tick). After limit it gives up and returns an error with the time it
// gave up.
func settle(p cpuReader, limit time.Duration) (time.Time, error) {
	var d idleDetector
	deadline := time.Now().Add(limit)
	for {
		c, err := p.cpu()
		now := time.Now()
		if err != nil {
			return now, err
		}
		if since, idle := d.add(now, c.ticks()); idle {
			return since, nil
		}
		if now.After(deadline) {
			return now, fmt.Errorf("the server still used CPU after %s", limit)
		}
		time.Sleep(settlePoll)
	}
}

// idleDetector finds the first window of settleWindow+1 polls over which
// a process used at most idleTicks.
type idleDetector struct {
	at    []time.Time
	ticks []uint64
}

// add records a poll and reports whether the window ending with it is
// idle, and if so when the window began.
func (d *idleDetector) add(at time.Time, ticks uint64) (since time.Time, idle bool) {
	d.at, d.ticks = append(d.at, at), append(d.ticks, ticks)
	if len(d.at) > settleWindow+1 {
		d.at, d.ticks = d.at[1:], d.ticks[1:]
	}
	if len(d.at) < settleWindow+1 || d.ticks[settleWindow]-d.ticks[0] > idleTicks {
		return time.Time{}, false
	}
	return d.at[0], true
}
