package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sampleDevices returns n devices d00000.. with one temperature reading;
// even ones are sensors in the hall, odd ones pumps in the yard, and later
// ones were seen later.
func sampleDevices(n int) []Device {
	out := make([]Device, n)
	for i := range out {
		typ, loc := "sensors", "hall"
		if i%2 == 1 {
			typ, loc = "pumps", "yard"
		}
		at := t0.Add(time.Duration(i) * time.Second)
		out[i] = Device{ID: fmt.Sprintf("d%05d", i), Type: typ, LastSeen: at, Labels: map[string]string{"location": loc},
			Metrics: map[string]Reading{typ + "_temperature": {Value: float64(i), Time: at}}}
	}
	return out
}

type fakeDevices struct {
	list []Device
	err  error
}

func (f fakeDevices) Devices() ([]Device, error) { return f.list, f.err }

func TestPageOf(t *testing.T) {
	all := sampleDevices(10)
	tests := []struct {
		name           string
		q              deviceQuery
		matched        int
		first, last    string
		wantPageLength int
	}{
		{"first page", deviceQuery{sort: "id", limit: 3}, 10, "d00000", "d00002", 3},
		{"second page", deviceQuery{sort: "id", offset: 3, limit: 3}, 10, "d00003", "d00005", 3},
		{"past the end", deviceQuery{sort: "id", offset: 20, limit: 3}, 10, "", "", 0},
		{"search type", deviceQuery{search: "pump", sort: "id", limit: 50}, 5, "d00001", "d00009", 5},
		{"search label value", deviceQuery{search: "yard", sort: "id", limit: 50}, 5, "d00001", "d00009", 5},
		{"search metric name", deviceQuery{search: "sensors_temp", sort: "id", limit: 50}, 5, "d00000", "d00008", 5},
		{"search id", deviceQuery{search: "d00007", sort: "id", limit: 50}, 1, "d00007", "d00007", 1},
		{"exact id", deviceQuery{id: "d00004", sort: "id", limit: 50}, 1, "d00004", "d00004", 1},
		{"exact type", deviceQuery{typ: "sensors", sort: "id", limit: 2}, 5, "d00000", "d00002", 2},
		{"newest first", deviceQuery{sort: "last_seen", limit: 2}, 10, "d00009", "d00008", 2},
		{"no match", deviceQuery{search: "nothing", sort: "id", limit: 50}, 0, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pageOf(all, tt.q)
			if p.Total != 10 || p.Matched != tt.matched || len(p.Devices) != tt.wantPageLength {
				t.Fatalf("total %d matched %d page %d, want 10 %d %d", p.Total, p.Matched, len(p.Devices), tt.matched, tt.wantPageLength)
			}
			if len(p.Devices) > 0 && (p.Devices[0].ID != tt.first || p.Devices[len(p.Devices)-1].ID != tt.last) {
				t.Errorf("page %s..%s, want %s..%s", p.Devices[0].ID, p.Devices[len(p.Devices)-1].ID, tt.first, tt.last)
			}
		})
	}
}

func newTestDashboard(t *testing.T, deps Deps) *Dashboard {
	t.Helper()
	if deps.Gatherer == nil {
		deps.Gatherer = newTestRegistry(t)
	}
	d, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func serve(t *testing.T, d *Dashboard, target string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	d.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestDevicesAPI(t *testing.T) {
	list := sampleDevices(3)
	list[0].Metrics["x"] = Reading{Value: math.NaN(), Time: t0}
	d := newTestDashboard(t, Deps{Devices: fakeDevices{list: list}})
	rec := serve(t, d, "/api/v1/dashboard/devices?limit=2")
	var body struct {
		Status string
		Data   struct {
			Total, Matched int
			Devices        []map[string]any
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if body.Data.Total != 3 || body.Data.Matched != 3 || len(body.Data.Devices) != 2 {
		t.Fatalf("%s", rec.Body)
	}
	if v := body.Data.Devices[0]["metrics"].(map[string]any)["x"].(map[string]any)["value"]; v != "NaN" {
		t.Errorf("NaN value encoded as %v", v)
	}

	for target, code := range map[string]int{"/api/v1/dashboard/devices?limit=0": 400} {
		if rec := serve(t, d, target); rec.Code != code {
			t.Errorf("%s: %d, want %d: %s", target, rec.Code, code, rec.Body)
		}
	}
	broken := newTestDashboard(t, Deps{Devices: fakeDevices{err: errors.New("store is not ready")}})
	if rec := serve(t, broken, "/api/v1/dashboard/devices"); rec.Code != 503 || !json.Valid(rec.Body.Bytes()) {
		t.Errorf("store error: %d %s", rec.Code, rec.Body)
	}
}

// TestDevicesAPI10k: a search over 10,000 devices answers one page,
// quickly enough for a page that refreshes every second.
func TestDevicesAPI10k(t *testing.T) {
	d := newTestDashboard(t, Deps{Devices: fakeDevices{list: sampleDevices(10000)}})
	start := time.Now()
	rec := serve(t, d, "/api/v1/dashboard/devices?q=yard&offset=50&limit=50&sort=last_seen")
	took := time.Since(start)
	var body struct{ Data devicePage }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Data.Matched != 5000 || len(body.Data.Devices) != 50 || body.Data.Devices[0].ID != "d09899" {
		t.Fatalf("matched %d, page %d, first %v", body.Data.Matched, len(body.Data.Devices), body.Data.Devices[0].ID)
	}
	if len(rec.Body.Bytes()) > 64<<10 {
		t.Errorf("page of 50 is %d bytes", len(rec.Body.Bytes()))
	}
	if took > time.Second { // -race on a loaded CI machine; typically a few ms
		t.Errorf("10,000 devices took %s", took)
	}
}

func BenchmarkDevicesPage10k(b *testing.B) {
	all := sampleDevices(10000)
	q := deviceQuery{search: "yard", sort: "id", offset: 100, limit: 50}
	for b.Loop() {
		_ = pageOf(all, q)
	}
}
