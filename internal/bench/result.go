package bench

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/borda-edge/borda/internal/simulate"
)

// Result is what one scenario measured. A scenario that lost messages or
// readings, or hit an error, is not OK; its figures are still reported,
// and nothing is averaged across runs.
type Result struct {
	Scenario string   `json:"scenario"`
	Server   string   `json:"server"`
	QoS      byte     `json:"qos"`
	OK       bool     `json:"ok"`
	Errors   []string `json:"errors,omitempty"` // why the scenario failed (besides Lost)
	Notes    []string `json:"notes,omitempty"`  // caveats of a figure; not failures

	Sent      int64  `json:"sent"`                // messages the simulator published
	Delivered *int64 `json:"delivered,omitempty"` // received by the subscriber (publish -> subscribe scenarios)
	Stored    *int64 `json:"stored,omitempty"`    // readings found in borda's store (ingest scenarios)
	Queued    *int64 `json:"queued,omitempty"`    // messages in borda's uplink queue (cloud-down scenarios)
	Lost      int64  `json:"lost"`                // not delivered plus not stored: > 0 is a failure
	SimErrors int64  `json:"sim_errors"`          // simulator: broken connections, QoS 1 publishes never acknowledged

	PublishS float64 `json:"publish_s"` // first publish to last flush (QoS 0) or PUBACK (QoS 1)
	DrainS   float64 `json:"drain_s"`   // then until the server had handled the last message
	Rate     float64 `json:"rate"`      // msgs/s: Sent / (PublishS + DrainS)
	SendRate float64 `json:"send_rate"` // the simulator's publish rate: Sent / PublishS

	AckLatency      *simulate.Percentiles `json:"ack_latency,omitempty"`      // QoS 1: publish -> PUBACK
	DeliveryLatency *simulate.Percentiles `json:"delivery_latency,omitempty"` // publish -> delivery to the subscriber
	// Alerts is what the alert probe matched (alert scenarios): expected,
	// received, missing and unexpected events, publish -> alert latency.
	Alerts *simulate.AlertReport `json:"alerts,omitempty"`

	ServerCPU     float64  `json:"server_cpu_s"`                    // user+system CPU of the server during the load
	CPUPer100k    float64  `json:"server_cpu_s_per_100k"`           // ServerCPU per 100,000 messages sent
	IdleRSS       int64    `json:"idle_rss_bytes"`                  // resident size after start, before the load
	PeakRSS       int64    `json:"peak_rss_bytes"`                  // highest resident size (VmHWM)
	DiskBytes     *int64   `json:"disk_bytes,omitempty"`            // borda: data_dir/tsdb after the run (WAL + head chunks)
	DiskPerSample *float64 `json:"disk_bytes_per_sample,omitempty"` // DiskBytes / Stored, before compaction
	SimCPU        float64  `json:"sim_cpu_s"`                       // the harness's own CPU during the load (simulator + subscriber)

	VsMosquitto *Ratio `json:"vs_mosquitto,omitempty"` // borda scenarios: compared with Mosquitto at the same QoS
}

// Ratio compares a borda scenario with the Mosquitto scenario of the same
// QoS in the same run.
type Ratio struct {
	Baseline   string  `json:"baseline"`    // the Mosquitto scenario
	Throughput float64 `json:"throughput"`  // Rate / baseline Rate: above 1 is faster
	CPUPerMsg  float64 `json:"cpu_per_msg"` // CPUPer100k / baseline's: above 1 costs more CPU per message
}

func newResult(sc Scenario) Result {
	return Result{Scenario: sc.Name, Server: sc.Server, QoS: sc.QoS}
}

// fail records why the scenario failed.
func (r *Result) fail(err error) {
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
	}
}

// note records a caveat that does not fail the scenario.
func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// setDelivered records what the subscriber received of Sent; every
// message it did not receive is lost.
func (r *Result) setDelivered(n int64) {
	r.Delivered = &n
	if miss := r.Sent - n; miss > 0 {
		r.Lost += miss
		r.fail(fmt.Errorf("lost %d of %d messages: never delivered to the subscriber", miss, r.Sent))
	} else if miss < 0 {
		r.note("the subscriber received %d messages more than were sent (duplicates?)", -miss)
	}
}

// setStored records what borda stored of the expected readings; every
// missing reading is lost.
func (r *Result) setStored(v simulate.VerifyReport) {
	r.Stored = &v.Stored
	if v.Missing > 0 {
		r.Lost += v.Missing
		r.fail(fmt.Errorf("lost %d of %d readings: missing from borda's store (devices affected: %d)",
			v.Missing, v.Expected, len(v.MissingByDevice)))
	}
	if v.Extra > 0 {
		r.note("%d samples in the store that this run did not send", v.Extra)
	}
}

// setQueued records how many messages borda's uplink queue holds; every
// message sent but not queued is lost.
func (r *Result) setQueued(n int64) {
	r.Queued = &n
	if miss := r.Sent - n; miss > 0 {
		r.Lost += miss
		r.fail(fmt.Errorf("lost %d of %d messages: not in the uplink queue", miss, r.Sent))
	}
	r.note("uplink queue holds %d messages (cloud unreachable)", n)
}

// setAlerts records what the alert probe matched; every alert (firing or
// resolved) that never arrived is lost.
func (r *Result) setAlerts(a simulate.AlertReport) {
	r.Alerts = &a
	if miss := a.Missing + a.Resolved.Missing; miss > 0 {
		r.Lost += miss
		r.fail(fmt.Errorf("lost %d of %d alerts and %d of %d resolved events: never received on %s (by type: %s)",
			a.Missing, a.Expected, a.Resolved.Missing, a.Resolved.Expected, a.Filter, byType(a.MissingByType)))
	}
	if a.Expected == 0 {
		r.fail(errors.New("no reading was expected to raise an alert: nothing measured"))
	}
	if n := a.Unexpected + a.Resolved.Unexpected; n > 0 {
		r.note("%d alert events matched no reading that should raise them (duplicates or rules other than the seed's)", n)
	}
	if a.WrongValue > 0 {
		r.note("%d alerts carried a value other than their reading's", a.WrongValue)
	}
}

func byType(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// finish derives the rates and ratios per message and decides OK: a
// result is OK only without errors, without lost messages and without
// simulator errors.
func (r *Result) finish() {
	if t := r.PublishS + r.DrainS; t > 0 {
		r.Rate = float64(r.Sent) / t
	}
	if r.PublishS > 0 {
		r.SendRate = float64(r.Sent) / r.PublishS
	}
	if r.Sent > 0 {
		r.CPUPer100k = r.ServerCPU / float64(r.Sent) * 100_000
	}
	if r.DiskBytes != nil && r.Stored != nil && *r.Stored > 0 {
		per := float64(*r.DiskBytes) / float64(*r.Stored)
		r.DiskPerSample = &per
	}
	if r.Sent == 0 && len(r.Errors) == 0 {
		r.fail(errors.New("no message was sent"))
	}
	if r.SimErrors > 0 {
		r.fail(fmt.Errorf("the simulator counted %d errors (broken connections or unacknowledged QoS 1 publishes)", r.SimErrors))
	}
	r.OK = len(r.Errors) == 0 && r.Lost == 0 && r.SimErrors == 0
}

// Status is the result column of the table: ok, LOST <n> or FAIL.
func (r *Result) Status() string {
	switch {
	case r.Lost > 0:
		return fmt.Sprintf("LOST %d", r.Lost)
	case !r.OK:
		return "FAIL"
	}
	return "ok"
}

// addRatios compares every borda result with the Mosquitto result of the
// same QoS, when both ran.
func addRatios(rs []Result) {
	byName := map[string]*Result{}
	for i := range rs {
		byName[rs[i].Scenario] = &rs[i]
	}
	for i := range rs {
		r := &rs[i]
		if r.Server != ServerBorda || isAlertScenario(r.Scenario) {
			continue // Mosquitto has no rules: nothing to compare alerts with
		}
		base := byName[fmt.Sprintf("mosquitto-qos%d", r.QoS)]
		if base == nil || base.Rate <= 0 || r.Rate <= 0 {
			continue
		}
		ratio := &Ratio{Baseline: base.Scenario, Throughput: r.Rate / base.Rate}
		if base.CPUPer100k > 0 {
			ratio.CPUPerMsg = r.CPUPer100k / base.CPUPer100k
		}
		r.VsMosquitto = ratio
	}
}

func isAlertScenario(name string) bool {
	return slices.ContainsFunc(Scenarios(), func(s Scenario) bool { return s.Name == name && s.Alerts })
}
