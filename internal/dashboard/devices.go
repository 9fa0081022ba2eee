package dashboard

import (
	"cmp"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Device is one device's latest readings, as the store knows them.
type Device struct {
	ID       string
	Type     string
	LastSeen time.Time
	Labels   map[string]string
	Metrics  map[string]Reading // by metric name
}

// Reading is the newest sample of one metric.
type Reading struct {
	Value float64
	Time  time.Time
}

// DeviceSource lists every known device, sorted by ID.
type DeviceSource interface {
	Devices() ([]Device, error)
}

// devicePage is the data of GET /api/v1/dashboard/devices.
type devicePage struct {
	Total   int          `json:"total"`   // devices known
	Matched int          `json:"matched"` // devices passing the filter
	Offset  int          `json:"offset"`
	Limit   int          `json:"limit"`
	Devices []deviceJSON `json:"devices"`
}

type deviceJSON struct {
	ID       string                 `json:"device_id"`
	Type     string                 `json:"device_type,omitempty"`
	LastSeen time.Time              `json:"last_seen"`
	Labels   map[string]string      `json:"labels,omitempty"`
	Metrics  map[string]readingJSON `json:"metrics"`
}

type readingJSON struct {
	Value jsonFloat `json:"value"`
	Time  time.Time `json:"timestamp"`
}

// jsonFloat spells NaN and ±Inf as Prometheus does ("NaN", "+Inf").
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte(`"` + strconv.FormatFloat(x, 'f', -1, 64) + `"`), nil
	}
	return json.Marshal(x)
}

// serveDevices answers one page of the filtered device list.
func (d *Dashboard) serveDevices(w http.ResponseWriter, r *http.Request) {
	q, err := parseDeviceQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	all, err := d.deps.Devices.Devices()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	writeData(w, pageOf(all, q))
}

// pageOf filters, sorts and cuts out one page.
func pageOf(all []Device, q deviceQuery) devicePage {
	matched := make([]*Device, 0, len(all))
	for i := range all {
		if q.matches(&all[i]) {
			matched = append(matched, &all[i])
		}
	}
	if q.sort == "last_seen" {
		slices.SortStableFunc(matched, func(a, b *Device) int { return b.LastSeen.Compare(a.LastSeen) })
	} else {
		slices.SortStableFunc(matched, func(a, b *Device) int { return cmp.Compare(a.ID, b.ID) })
	}
	p := devicePage{Total: len(all), Matched: len(matched), Offset: q.offset, Limit: q.limit, Devices: []deviceJSON{}}
	lo := min(q.offset, len(matched))
	hi := min(lo+q.limit, len(matched))
	for _, dev := range matched[lo:hi] {
		p.Devices = append(p.Devices, toJSON(dev))
	}
	return p
}

func (q deviceQuery) matches(d *Device) bool {
	if (q.id != "" && d.ID != q.id) || (q.typ != "" && d.Type != q.typ) {
		return false
	}
	if q.search == "" || contains(d.ID, q.search) || contains(d.Type, q.search) {
		return true
	}
	for _, v := range d.Labels {
		if contains(v, q.search) {
			return true
		}
	}
	for name := range d.Metrics {
		if contains(name, q.search) {
			return true
		}
	}
	return false
}

// contains is a case-insensitive substring test; needle is lower case.
func contains(s, needle string) bool {
	return strings.Contains(strings.ToLower(s), needle)
}

func toJSON(d *Device) deviceJSON {
	out := deviceJSON{ID: d.ID, Type: d.Type, LastSeen: d.LastSeen.UTC(), Labels: d.Labels,
		Metrics: make(map[string]readingJSON, len(d.Metrics))}
	for name, m := range d.Metrics {
		out.Metrics[name] = readingJSON{Value: jsonFloat(m.Value), Time: m.Time.UTC()}
	}
	return out
}
