package store

import (
	"errors"
	"testing"
	"time"
)

// TestDevicesList: the in-process list matches what /api/v1/devices shows.
func TestDevicesList(t *testing.T) {
	s, _, _ := startStore(t, DefaultConfig(), t.TempDir())
	base := time.Now().Truncate(time.Second).Add(-time.Minute)
	mustAppend(t, s,
		point("sensors_temperature", base, tags("device_id", "s2", "device_type", "sensors", "location", "hall"), "value", 18),
		point("sensors_temperature", base.Add(time.Second), tags("device_id", "s1", "device_type", "sensors", "location", "lab"), "value", 21),
		point("gateway_cpu", base, tags("host", "gw"), "value", 5), // not a device
	)
	got, err := s.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "s1" || got[1].ID != "s2" {
		t.Fatalf("devices %+v", got)
	}
	d := got[0]
	r, ok := d.Metrics["sensors_temperature"]
	if d.Type != "sensors" || d.Labels["location"] != "lab" || !ok || r.Value != 21 ||
		!r.Time.Equal(base.Add(time.Second)) || !d.LastSeen.Equal(r.Time) {
		t.Errorf("s1: %+v", d)
	}
}

func TestDevicesListNotReady(t *testing.T) {
	s := New(DefaultConfig(), Deps{Dir: t.TempDir()})
	if _, err := s.Devices(); !errors.Is(err, ErrNotReady) {
		t.Errorf("error %v, want ErrNotReady", err)
	}
}
