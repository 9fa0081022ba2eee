package simulate

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// VerifyReport compares what a run sent with what borda stored.
type VerifyReport struct {
	Expected        int64            `json:"expected"` // readings the run sent
	Stored          int64            `json:"stored"`   // of those found in the store (at most Expected per series)
	Missing         int64            `json:"missing"`  // Expected - Stored: readings lost
	Extra           int64            `json:"extra"`    // samples beyond the expected ones (another run with the same device ids?)
	MissingByDevice map[string]int64 `json:"missing_by_device,omitempty"`
}

// OK reports whether every reading was stored.
func (v VerifyReport) OK() bool { return v.Missing == 0 }

const (
	verifyChunk  = time.Minute            // one query covers at most this much data time
	settleEvery  = 500 * time.Millisecond // re-query while the store is still catching up
	settleRounds = 120
)

// Verify counts, through the Prometheus query API at queryURL (borda's
// HTTP address, e.g. http://127.0.0.1:8888), the samples stored for every
// device and metric of rep, and reports the readings that are missing.
// It counts over the readings' time range rep.DataStart..rep.DataEnd,
// widened by slack on both sides (0 = exactly the range; the simulator's
// readings have distinct timestamps per series, so borda never shifts
// them). While readings are missing and the stored count is still growing
// (borda's pipeline catching up), Verify queries again every 500 ms,
// bounded by ctx.
func Verify(ctx context.Context, queryURL string, rep Report, slack time.Duration) (VerifyReport, error) {
	if slack < 0 {
		return VerifyReport{}, fmt.Errorf("verify: negative slack %v", slack)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client, err := promapi.NewClient(promapi.Config{Address: queryURL, Client: &http.Client{Transport: tr}})
	if err != nil {
		return VerifyReport{}, fmt.Errorf("verify: %w", err)
	}
	v := verifier{api: promv1.NewAPI(client), rep: &rep, slack: slack}
	var prev VerifyReport
	for round := 0; ; round++ {
		vr, err := v.once(ctx)
		if err != nil || vr.Missing == 0 || round == settleRounds || (round > 0 && vr.Stored <= prev.Stored) {
			return vr, err
		}
		prev = vr
		select {
		case <-ctx.Done():
			return vr, nil
		case <-time.After(settleEvery):
		}
	}
}

type verifier struct {
	api   promv1.API
	rep   *Report
	slack time.Duration
}

// once queries every metric of the report once and compares.
func (v *verifier) once(ctx context.Context) (VerifyReport, error) {
	expected := map[string]map[string]int64{} // metric -> device -> readings
	for id, dc := range v.rep.Devices {
		for m, n := range dc.Series {
			if expected[m] == nil {
				expected[m] = map[string]int64{}
			}
			expected[m][id] = n
		}
	}
	vr := VerifyReport{MissingByDevice: map[string]int64{}}
	for _, m := range slices.Sorted(maps.Keys(expected)) {
		stored, err := v.count(ctx, m)
		if err != nil {
			return vr, err
		}
		for id, want := range expected[m] {
			got := stored[id]
			delete(stored, id)
			vr.Expected += want
			vr.Stored += min(got, want)
			vr.Extra += max(got-want, 0)
			if got < want {
				vr.MissingByDevice[id] += want - got
			}
		}
		for _, n := range stored {
			vr.Extra += n
		}
	}
	vr.Missing = vr.Expected - vr.Stored
	if len(vr.MissingByDevice) == 0 {
		vr.MissingByDevice = nil
	}
	return vr, nil
}

// count returns the number of stored samples of metric per device id, over
// the report's data range in chunks of verifyChunk: each chunk (t0, t1] is
// count_over_time(...[t1-t0]) evaluated at t1.
func (v *verifier) count(ctx context.Context, metric string) (map[string]int64, error) {
	out := map[string]int64{}
	if v.rep.DataEnd.IsZero() {
		return out, nil
	}
	end := v.rep.DataEnd.Add(v.slack)
	start := v.rep.DataStart.Add(-v.slack - time.Millisecond)
	sel := fmt.Sprintf(`{__name__=%q,device_id=~%q}`, metric, regexp.QuoteMeta(v.rep.DevicePrefix)+"-.*")
	for t0 := start; t0.Before(end); {
		t1 := t0.Add(verifyChunk)
		if t1.After(end) {
			t1 = end
		}
		q := fmt.Sprintf("sum by (device_id) (count_over_time(%s[%dms]))", sel, t1.Sub(t0).Milliseconds())
		res, _, _, err := v.api.Query(ctx, q, t1)
		if err != nil {
			return nil, fmt.Errorf("verify: query %s at %s: %w", q, t1.Format(time.RFC3339Nano), err)
		}
		vec, ok := res.(model.Vector)
		if !ok {
			return nil, fmt.Errorf("verify: query %s returned %s, want a vector", q, res.Type())
		}
		for _, s := range vec {
			out[string(s.Metric["device_id"])] += int64(s.Value)
		}
		t0 = t1
	}
	return out, nil
}
