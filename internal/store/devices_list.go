package store

import (
	"math"
	"time"
)

// Device is one device's latest readings, as /api/v1/devices lists it, for
// in-process readers (the dashboard).
type Device struct {
	ID       string
	Type     string
	LastSeen time.Time
	Labels   map[string]string  // labels shared by all the device's series
	Metrics  map[string]Reading // by metric name
}

// Reading is the newest sample of one metric.
type Reading struct {
	Value float64
	Time  time.Time
}

// Devices returns every known device sorted by ID with its latest reading
// per metric, as GET /api/v1/devices does. ErrNotReady until Run opened the
// TSDB.
func (s *Store) Devices() ([]Device, error) {
	db, err := s.acquire()
	if err != nil {
		return nil, err
	}
	mint := dataMinTime(db)
	s.release()
	snaps, _ := s.devices.snapshot(&deviceFilter{after: math.MinInt64, before: math.MaxInt64}, mint)
	out := make([]Device, len(snaps))
	for i := range snaps {
		j := snaps[i].toJSON()
		d := Device{ID: j.DeviceID, Type: j.DeviceType, LastSeen: j.LastSeen, Labels: j.Labels,
			Metrics: make(map[string]Reading, len(j.Metrics))}
		for name, m := range j.Metrics {
			d.Metrics[name] = Reading{Value: float64(m.Value), Time: m.Timestamp}
		}
		out[i] = d
	}
	return out, nil
}
