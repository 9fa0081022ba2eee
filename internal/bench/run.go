package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/borda-edge/borda/internal/simulate"
)

// Bounds of the phases of a scenario after the load.
const (
	idleLimit    = 5 * time.Second  // before the load: server CPU back to idle after its start
	settleLimit  = 30 * time.Second // after the load: server CPU back to idle
	deliverIdle  = 3 * time.Second  // subscriber: stop waiting after this long without a new message
	deliverLimit = 60 * time.Second // subscriber: stop waiting after this long in any case
	verifyLimit  = 60 * time.Second // counting borda's stored readings
)

// runner runs scenarios with one set of options.
type runner struct {
	opts     Options
	log      io.Writer // never nil
	progress io.Writer // the simulator's progress lines; nil = none
}

func (r *runner) logf(format string, args ...any) { fmt.Fprintf(r.log, format+"\n", args...) }

// runScenario starts the scenario's server, measures it under the load
// and stops it again; whatever fails is in the result.
func (r *runner) runScenario(ctx context.Context, sc Scenario) (res Result) {
	res = newResult(sc)
	var undo cleanups
	defer func() {
		res.fail(undo.run())
		res.finish()
		r.logf("== %s: %s", sc.Name, res.Status())
	}()
	srv, err := r.startServer(sc, &undo)
	if err != nil {
		res.fail(err)
		return res
	}
	m := &measurement{r: r, sc: sc, srv: srv, p: srv.proc(), res: &res}
	m.run(ctx)
	return res
}

// startServer creates the scenario's fresh directory and starts its
// server there, pushing their removal and stop onto undo at once.
func (r *runner) startServer(sc Scenario, undo *cleanups) (server, error) {
	srv, err := newServer(sc, r.opts)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "borda-bench-"+sc.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	undo.push(func() error {
		if r.opts.Keep {
			r.logf("   kept %s", dir)
			return nil
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove data directory: %w", err)
		}
		return nil
	})
	err = srv.start(dir, sc, r.opts.Load)
	if u, ok := srv.(uplinked); ok && u.cloudProc() != nil {
		cp := u.cloudProc()
		r.logf("   cloud broker pid %d, MQTT %s", cp.pid(), u.cloudAddr())
		undo.push(func() error { return cp.stop(stopGrace) })
	}
	if p := srv.proc(); p != nil {
		r.logf("   %s pid %d, MQTT %s, dir %s", p.name, p.pid(), srv.mqttAddr(), dir)
		undo.push(func() error {
			if err := p.stop(stopGrace); err != nil {
				return fmt.Errorf("%w\n%s", err, indent(lastLines(p.output(), 20)))
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	return srv, nil
}

// measurement is one scenario's load against a started server.
type measurement struct {
	r    *runner
	sc   Scenario
	srv  server
	p    *proc
	res  *Result
	cfg  simulate.Config
	sub  *simulate.Counter
	rep  simulate.Report
	cpu0 cpuTimes
	// pubEnd is when the publishers finished, when that was before
	// publish returned (alert scenarios wait for late alerts); zero: when
	// publish returned.
	pubEnd time.Time
}

func (m *measurement) run(ctx context.Context) {
	if err := m.prepare(ctx); err != nil {
		m.res.fail(err)
		return
	}
	if m.sub != nil {
		defer m.sub.Close()
	}
	if m.sc.Alerts {
		m.publishAlerts(ctx)
	} else {
		m.publish(ctx)
	}
	m.drain()
	if err := m.account(); err != nil {
		m.res.fail(err)
		return
	}
	if m.sc.Store {
		m.verify(ctx)
	}
	if m.sc.CloudDown {
		m.verifyQueued()
	}
}

// verifyQueued reads borda_uplink_queue_entries from borda's /metrics.
func (m *measurement) verifyQueued() {
	st, ok := m.srv.(store)
	if !ok {
		m.res.fail(fmt.Errorf("%s has no uplink queue to verify", m.sc.Server))
		return
	}
	n, err := scrapeSum(st.queryURL()+"/metrics", "borda_uplink_queue_entries")
	if err != nil {
		m.res.fail(fmt.Errorf("uplink queue: %w", err))
		return
	}
	m.res.setQueued(int64(n))
}

// prepare waits for the started server to be idle, takes its idle
// resident size, connects the subscriber and takes the CPU start mark.
func (m *measurement) prepare(ctx context.Context) error {
	if _, err := settle(m.p, idleLimit); err != nil {
		m.res.note("before the load: %v", err)
	}
	mem, err := m.p.mem()
	if err != nil {
		return fmt.Errorf("%s idle memory: %w", m.p.name, err)
	}
	m.res.IdleRSS = mem.RSS
	m.cfg = m.r.opts.simConfig(m.srv.mqttAddr(), m.sc.QoS)
	if m.sc.Subscribe {
		// The subscriber outlives a Ctrl-C so that a cut-short run is
		// still counted; it is closed when the measurement ends.
		subCfg := m.cfg
		if u, ok := m.srv.(uplinked); ok && u.cloudAddr() != "" {
			subCfg = m.r.opts.simConfig(u.cloudAddr(), m.sc.QoS) // count what reached the cloud
		}
		if m.sub, err = simulate.Subscribe(context.WithoutCancel(ctx), subCfg, "#"); err != nil {
			return fmt.Errorf("subscriber: %w", err)
		}
	}
	if m.cpu0, err = m.p.cpu(); err != nil {
		return fmt.Errorf("%s CPU: %w", m.p.name, err)
	}
	return nil
}

// publish runs the simulator with the run's load.
func (m *measurement) publish(ctx context.Context) {
	rep, err := simulate.Run(ctx, m.cfg, m.r.progress)
	m.rep = rep
	if err != nil {
		m.res.fail(err)
	}
	if ctx.Err() != nil {
		m.res.fail(fmt.Errorf("interrupted after %.1fs of %s", rep.Elapsed.Seconds(), m.cfg.Duration))
	}
	m.res.Sent = rep.Sent
	m.res.PublishS = rep.Elapsed.Seconds()
	m.res.SimErrors = rep.Errors
	m.res.SimCPU = rep.ProcessCPU
	if m.sc.QoS == 1 {
		lat := rep.AckLatency
		m.res.AckLatency = &lat
	}
}

// drain waits, bounded, until the server has handled what was published
// and records how long that took after the publisher finished: until the
// subscriber had every message; for QoS 0 ingest and the alert scenarios
// until the server's CPU went idle; for QoS 1 ingest no time (borda
// acknowledges a reading once it is stored).
func (m *measurement) drain() {
	end := time.Now()
	if !m.pubEnd.IsZero() {
		end = m.pubEnd
	}
	done := end
	if m.sub != nil {
		done = m.awaitDelivery()
		m.res.setDelivered(m.sub.Received())
		lat := m.sub.Latency()
		m.res.DeliveryLatency = &lat
	}
	idleAt, err := settle(m.p, settleLimit)
	if err != nil {
		m.res.note("after the load: %v (its CPU figure includes that time)", err)
	}
	if m.sc.Store && !m.sc.Subscribe && m.sc.QoS == 0 || m.sc.Alerts {
		done = idleAt
	}
	m.res.DrainS = max(0, done.Sub(end).Seconds())
}

// awaitDelivery waits until the subscriber has received every message
// sent, it fails, or no message arrived for deliverIdle (bounded by
// deliverLimit). It returns when the last message it waited for arrived.
func (m *measurement) awaitDelivery() time.Time {
	deadline := time.Now().Add(deliverLimit)
	last, lastAt := m.sub.Received(), time.Now()
	for {
		n, now := m.sub.Received(), time.Now()
		if n != last {
			last, lastAt = n, now
		}
		if n >= m.rep.Sent {
			return now
		}
		if err := m.sub.Err(); err != nil {
			m.res.fail(fmt.Errorf("subscriber: %w", err))
			return lastAt
		}
		if now.Sub(lastAt) > deliverIdle || now.After(deadline) {
			return lastAt
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// account takes the server's CPU and peak memory after the load.
func (m *measurement) account() error {
	if m.p.exited() {
		return fmt.Errorf("%s exited during the load: %v\n%s", m.p.name, m.p.cmd.ProcessState, indent(lastLines(m.p.output(), 20)))
	}
	cpu1, err := m.p.cpu()
	if err != nil {
		return fmt.Errorf("%s CPU: %w", m.p.name, err)
	}
	m.res.ServerCPU = float64(cpu1.ticks()-m.cpu0.ticks()) / clkTck
	mem, err := m.p.mem()
	if err != nil {
		return fmt.Errorf("%s memory: %w", m.p.name, err)
	}
	m.res.PeakRSS = mem.Peak
	return nil
}

// verify counts through borda's query API what it stored of the
// readings sent, then measures its time series on disk.
func (m *measurement) verify(ctx context.Context) {
	st, ok := m.srv.(store)
	if !ok {
		m.res.fail(fmt.Errorf("%s has no store to verify", m.sc.Server))
		return
	}
	if m.rep.Readings == 0 {
		return // nothing was sent: finish reports it
	}
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), verifyLimit)
	defer cancel()
	vr, err := simulate.Verify(vctx, st.queryURL(), m.rep, 0)
	if err != nil {
		m.res.fail(fmt.Errorf("verify: %w", err))
		return
	}
	m.res.setStored(vr)
	n, err := dirBytes(st.tsdbDir())
	if err != nil {
		m.res.fail(err)
		return
	}
	m.res.DiskBytes = &n
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
