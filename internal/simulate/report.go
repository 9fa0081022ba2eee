package simulate

import (
	"encoding/json"
	"math"
	"time"
)

// Report is what a run sent. Readings is what borda should store; Verify
// checks it series by series.
type Report struct {
	Profile      string `json:"profile"`
	QoS          byte   `json:"qos"`
	Conns        int    `json:"conns"`
	DevicePrefix string `json:"device_prefix"`

	Sent      int64 `json:"sent"`      // PUBLISH packets written: readings + malformed
	Readings  int64 `json:"readings"`  // well-formed readings (anomalies included)
	Malformed int64 `json:"malformed"` // payloads borda must reject
	Anomalies int64 `json:"anomalies"` // readings that are spikes, drifts or stuck values
	Acked     int64 `json:"acked"`     // QoS 1: PUBACKs received
	Errors    int64 `json:"errors"`    // broken connections + QoS 1 PUBLISHes never acknowledged + unexpected PUBACKs
	Silent    int   `json:"silent_devices"`

	Elapsed    time.Duration `json:"-"`             // first send to last flush / acknowledgement (JSON: elapsed_s)
	Rate       float64       `json:"rate"`          // achieved messages/s (Sent / Elapsed)
	ProcessCPU float64       `json:"process_cpu_s"` // user+system CPU of this process during the run
	AckLatency Percentiles   `json:"ack_latency"`   // QoS 1: publish -> PUBACK

	// DataStart and DataEnd are the reading timestamps ("ts", millisecond
	// precision) of the first and last reading. They run ahead of the wall
	// clock when one series is sent faster than 1000 readings/s.
	DataStart time.Time `json:"data_start"`
	DataEnd   time.Time `json:"data_end"`

	Devices map[string]DeviceCount `json:"devices"` // by device id

	// Alerts is what arrived on the alert topic (Config.ExpectAlerts; nil
	// without): publish -> alert latency, missing and unexpected alerts.
	Alerts *AlertReport `json:"alerts,omitempty"`
}

// DeviceCount is what one device sent.
type DeviceCount struct {
	Kind     string           `json:"kind"`     // machine, environment, vehicle, status, camera
	Sent     int64            `json:"sent"`     // messages, malformed ones included
	Readings int64            `json:"readings"` // well-formed readings
	Series   map[string]int64 `json:"series"`   // metric name borda stores the readings under -> readings
}

type reportJSON Report

// MarshalJSON adds elapsed_s (seconds, float) for Elapsed.
func (r Report) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		reportJSON
		ElapsedS float64 `json:"elapsed_s"`
	}{reportJSON(r), r.Elapsed.Seconds()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Report) UnmarshalJSON(b []byte) error {
	var v struct {
		reportJSON
		ElapsedS float64 `json:"elapsed_s"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Report(v.reportJSON)
	r.Elapsed = time.Duration(math.Round(v.ElapsedS * float64(time.Second)))
	return nil
}

func buildReport(cfg *Config, workers []*worker, results []workerResult, elapsed time.Duration) Report {
	rep := Report{Profile: cfg.Profile, QoS: cfg.QoS, Conns: cfg.Conns, DevicePrefix: cfg.DevicePrefix,
		Elapsed: elapsed, Devices: make(map[string]DeviceCount, cfg.Devices)}
	var acks histogram
	for i, w := range workers {
		rep.Sent += w.sent.Load()
		rep.Malformed += w.malformed
		rep.Anomalies += w.anomalies
		rep.Acked += w.pub.acked.Load()
		rep.Errors += results[i].unacked + w.pub.unexpected.Load()
		if results[i].err != nil {
			rep.Errors++
		}
		rep.Silent += len(w.devs) - len(w.active)
		acks.merge(&w.pub.acks)
		rep.addDevices(w.devs)
	}
	rep.AckLatency = acks.percentiles()
	if elapsed > 0 {
		rep.Rate = float64(rep.Sent) / elapsed.Seconds()
	}
	return rep
}

// addDevices adds the devices' counts and widens the data time range.
func (rep *Report) addDevices(devs []*device) {
	first, last := int64(math.MaxInt64), int64(0)
	if !rep.DataEnd.IsZero() {
		first, last = rep.DataStart.UnixMilli(), rep.DataEnd.UnixMilli()
	}
	for _, d := range devs {
		dc := d.count()
		rep.Readings += dc.Readings
		rep.Devices[d.id] = dc
		if dc.Readings == 0 {
			continue
		}
		first = min(first, d.firstTS)
		for _, s := range d.series {
			last = max(last, s.lastTS)
		}
	}
	if last > 0 {
		rep.DataStart, rep.DataEnd = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
	}
}

func (d *device) count() DeviceCount {
	dc := DeviceCount{Kind: d.kind.String(), Sent: d.sent, Series: make(map[string]int64, len(d.series))}
	for _, s := range d.series {
		dc.Readings += s.good
		dc.Series[s.metric] += s.good
	}
	return dc
}
