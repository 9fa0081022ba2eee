package dashboard

import (
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Overview is the node summary behind the Overview page and the live
// stream. Sections whose component is not running are nil (JSON null) and
// the page shows them as "off".
type Overview struct {
	Node      string            `json:"node"`
	Site      string            `json:"site,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"` // the node's labels
	Version   string            `json:"version"`
	Started   time.Time         `json:"started"`
	Uptime    float64           `json:"uptime_seconds"`
	Time      time.Time         `json:"time"`
	Broker    BrokerStats       `json:"broker"`
	Ingest    IngestStats       `json:"ingest"`
	Devices   float64           `json:"devices"`
	Alerts    AlertStats        `json:"alerts"`
	Uplink    []Output          `json:"uplink"` // nil: no uplink outputs
	Links     []Link            `json:"links"`  // nil: netmon off
	Online    *float64          `json:"online"` // netmon's verdict, nil when off
	Resources Resources         `json:"resources"`
	Vision    *VisionStatus     `json:"vision"` // nil: vision not configured
	// Cameras are the vision pipeline's figures from its metrics (nil
	// without vision).
	Cameras []Camera `json:"cameras"`
	// Changes move whenever stored readings or alert events do: the
	// pages refetch their lists when these change.
	Changes Changes `json:"changes"`
}

// BrokerStats are the embedded MQTT broker's figures.
type BrokerStats struct {
	Clients       float64 `json:"clients"`
	Subscriptions float64 `json:"subscriptions"`
	Retained      float64 `json:"retained"`
	ReceivedRate  float64 `json:"received_per_second"`
	SentRate      float64 `json:"sent_per_second"`
	Dropped       float64 `json:"dropped_total"`
}

// IngestStats are the telemetry pipeline's figures.
type IngestStats struct {
	PointsRate   float64 `json:"points_per_second"`
	MessagesRate float64 `json:"messages_per_second"`
	Rejected     float64 `json:"rejected_total"`
	Dropped      float64 `json:"dropped_total"`
	Queue        float64 `json:"queue_length"`
}

// AlertStats count alerts.
type AlertStats struct {
	Firing float64 `json:"firing"`
	Events float64 `json:"events_total"`
}

// Output is one uplink output.
type Output struct {
	Name      string  `json:"name"`
	Connected bool    `json:"connected"`
	Backlog   float64 `json:"backlog_entries"`
	Bytes     float64 `json:"backlog_bytes"`
	OldestAge float64 `json:"oldest_age_seconds"`
}

// Link is one network uplink watched by netmon.
type Link struct {
	Name      string  `json:"name"`
	Up        bool    `json:"up"`
	Reachable bool    `json:"reachable"`
	Active    bool    `json:"active"`
	Latency   float64 `json:"latency_avg_seconds"`
	Loss      float64 `json:"loss_ratio"`
}

// Resources are host and process figures; ratios are 0..1, nil when
// unknown.
type Resources struct {
	CPU        *float64 `json:"cpu_ratio"`
	Memory     *float64 `json:"memory_ratio"`
	Disk       *float64 `json:"disk_ratio"`
	RSS        float64  `json:"process_rss_bytes"`
	Goroutines float64  `json:"goroutines"`
}

// Changes are counters that move with new data.
type Changes struct {
	Samples     float64 `json:"samples"`
	AlertEvents float64 `json:"alert_events"`
}

// rateWindow is how far back rates look.
const rateWindow = 10 * time.Second

// Counters the overview shows as rates.
var rateCounters = []string{"borda_mqtt_messages_received_total", "borda_mqtt_messages_sent_total",
	"borda_ingest_points_total", "borda_ingest_messages_total", "process_cpu_seconds_total"}

type counterPoint struct {
	at   time.Time
	vals []float64 // in rateCounters order
}

// collector builds Overviews from the registry, at most once per interval
// however many pages ask (the stream's throttle).
type collector struct {
	gatherer prometheus.Gatherer
	vision   VisionSource // nil: vision's health from its metrics only
	info     Info
	dataDir  string
	now      func() time.Time
	interval time.Duration

	mu     sync.Mutex
	last   *Overview
	lastAt time.Time
	hist   []counterPoint // oldest first, within rateWindow
	cams   cameraRates
}

// get returns the current overview, rebuilt when older than interval.
func (c *collector) get() *Overview {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.last != nil && now.Sub(c.lastAt) < c.interval {
		return c.last
	}
	s := gather(c.gatherer)
	rates := c.rates(now, s)
	o := &Overview{Node: c.info.Node, Site: c.info.Site, Labels: c.info.Labels, Version: c.info.Version, Started: c.info.Started,
		Uptime: now.Sub(c.info.Started).Seconds(), Time: now.UTC()}
	fillOverview(o, s, rates)
	o.Resources = c.resources(s, rates[4])
	var vs *VisionState
	if c.vision != nil {
		v := c.vision.VisionState()
		vs = &v
	}
	o.Vision = visionStatus(s, vs)
	o.Cameras = c.cams.update(now, s)
	cameraHealth(o.Cameras, s, vs)
	c.last, c.lastAt = o, now
	return o
}

// rates records the counters and returns their per-second rates over the
// window (0 until two points exist).
func (c *collector) rates(now time.Time, s snapshot) []float64 {
	p := counterPoint{at: now, vals: make([]float64, len(rateCounters))}
	for i, n := range rateCounters {
		p.vals[i] = s.sum(n)
	}
	for len(c.hist) > 1 && now.Sub(c.hist[1].at) >= rateWindow {
		c.hist = c.hist[1:]
	}
	c.hist = append(c.hist, p)
	out := make([]float64, len(rateCounters))
	first := c.hist[0]
	if dt := now.Sub(first.at).Seconds(); dt > 0 {
		for i := range out {
			out[i] = max(p.vals[i]-first.vals[i], 0) / dt // a reset reads as 0
		}
	}
	return out
}

func fillOverview(o *Overview, s snapshot, rates []float64) {
	o.Broker = BrokerStats{Clients: s.sum("borda_mqtt_clients_connected"),
		Subscriptions: s.sum("borda_mqtt_subscriptions"), Retained: s.sum("borda_mqtt_retained_messages"),
		ReceivedRate: rates[0], SentRate: rates[1], Dropped: s.sum("borda_mqtt_messages_dropped_total")}
	o.Ingest = IngestStats{PointsRate: rates[2], MessagesRate: rates[3],
		Rejected: s.sum("borda_ingest_rejected_total"), Dropped: s.sum("borda_ingest_dropped_points_total"),
		Queue: s.sum("borda_ingest_queue_length")}
	o.Devices = s.sum("borda_store_devices")
	o.Alerts = AlertStats{Firing: s.sum("borda_rules_alerts_firing"), Events: s.sum("borda_alerts_events_total")}
	o.Changes = Changes{Samples: s.sum("borda_store_samples_appended_total"), AlertEvents: o.Alerts.Events}
	o.Uplink = outputs(s)
	o.Links = links(s)
	o.Online = s.opt("borda_netmon_online")
}

func outputs(s snapshot) []Output {
	names := s.labelValues("output", "borda_uplink_connected", "borda_uplink_queue_entries")
	if len(names) == 0 {
		return nil
	}
	conn, entries := s.by("borda_uplink_connected", "output"), s.by("borda_uplink_queue_entries", "output")
	bytes, age := s.by("borda_uplink_queue_bytes", "output"), s.by("borda_uplink_queue_oldest_age_seconds", "output")
	out := make([]Output, len(names))
	for i, n := range names {
		out[i] = Output{Name: n, Connected: conn[n] > 0, Backlog: entries[n], Bytes: bytes[n], OldestAge: age[n]}
	}
	return out
}

func links(s snapshot) []Link {
	names := s.labelValues("uplink", "borda_netmon_link_up")
	if len(names) == 0 {
		return nil
	}
	up, reach := s.by("borda_netmon_link_up", "uplink"), s.by("borda_netmon_reachable", "uplink")
	act, lat := s.by("borda_netmon_active", "uplink"), s.by("borda_netmon_latency_avg_seconds", "uplink")
	loss := s.by("borda_netmon_probe_loss_ratio", "uplink")
	out := make([]Link, len(names))
	for i, n := range names {
		out[i] = Link{Name: n, Up: up[n] > 0, Reachable: reach[n] > 0, Active: act[n] > 0, Latency: lat[n], Loss: loss[n]}
	}
	return out
}

// resources prefers netmon's host figures; without netmon, CPU is this
// process's share of all cores and disk is the data directory's file
// system.
func (c *collector) resources(s snapshot, cpuSecondsRate float64) Resources {
	r := Resources{CPU: s.opt("borda_netmon_cpu_usage_ratio"), Memory: s.opt("borda_netmon_memory_usage_ratio"),
		RSS: s.sum("process_resident_memory_bytes"), Goroutines: s.sum("go_goroutines")}
	if r.CPU == nil && s.has("process_cpu_seconds_total") {
		v := cpuSecondsRate / float64(runtime.NumCPU())
		r.CPU = &v
	}
	if d := s.by("borda_netmon_disk_usage_ratio", "path"); len(d) > 0 {
		var worst float64
		for _, v := range d {
			worst = max(worst, v)
		}
		r.Disk = &worst
	} else if v, ok := diskUsage(c.dataDir); ok {
		r.Disk = &v
	}
	return r
}

// diskUsage is the used share of the file system holding dir.
func diskUsage(dir string) (float64, bool) {
	if dir == "" {
		return 0, false
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Blocks == 0 {
		return 0, false
	}
	return 1 - float64(st.Bavail)/float64(st.Blocks), true
}
