package store

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestQueryRangeConcurrent: responses of concurrent range queries are
// encoded intact. The engine hands out pooled points that go back to the
// pool when the query is closed; closing before the response was encoded
// let another query overwrite them (seen as a data race under -race and as
// wrong values without it).
func TestQueryRangeConcurrent(t *testing.T) {
	s, _, _ := startStore(t, DefaultConfig(), t.TempDir())
	base := time.Now().Truncate(time.Minute).Add(-30 * time.Minute)
	for dev := range 4 {
		for i := range 60 {
			mustAppend(t, s, point("sensors_temperature", base.Add(time.Duration(i)*15*time.Second),
				tags("device_id", fmt.Sprintf("d%d", dev)), "value", dev*1000+i))
		}
	}
	h := s.Handler()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 20 {
				dev := g % 4
				checkRange(t, h, dev, base)
			}
		})
	}
	wg.Wait()
}

// checkRange queries one device's 60 samples and checks every value.
func checkRange(t *testing.T, h http.Handler, dev int, base time.Time) {
	q := url.Values{"query": {fmt.Sprintf(`sensors_temperature{device_id="d%d"}`, dev)},
		"start": {strconv.FormatInt(base.Unix(), 10)}, "end": {strconv.FormatInt(base.Add(59*15*time.Second).Unix(), 10)},
		"step": {"15"}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/query_range?"+q.Encode(), nil))
	var resp struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Data.Result) != 1 {
		t.Errorf("d%d: %v %s", dev, err, rec.Body)
		return
	}
	vals := resp.Data.Result[0].Values
	if len(vals) != 60 {
		t.Errorf("d%d: %d values", dev, len(vals))
		return
	}
	for i, v := range vals {
		if want := strconv.Itoa(dev*1000 + i); v[1] != want {
			t.Errorf("d%d value %d = %v, want %s", dev, i, v[1], want)
			return
		}
	}
}
