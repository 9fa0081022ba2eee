package influx

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/httpout/httpouttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitLong = 30 * time.Second

func testConfig(url string) Config {
	c := DefaultConfig()
	c.Name, c.URL, c.Database = "influx1", url, "borda"
	c.FlushInterval = 20 * time.Millisecond
	c.Backoff.Min, c.Backoff.Max = 20*time.Millisecond, 200*time.Millisecond
	c.Timeout = 5 * time.Second
	c.Queue.Fsync = false
	return c
}

// running is an output whose Run goroutine the test owns.
type running = httpouttest.Running

func start(t *testing.T, cfg Config, dir string) *running {
	t.Helper()
	return httpouttest.Start(t, func(d Deps) (*Output, error) { return New(cfg, d) }, dir, waitLong)
}

var (
	readings  = httpouttest.Readings
	appendAll = httpouttest.AppendAll
)

// values returns value → times seen for measurement m in the 1.x database.
func values(t *testing.T, s *testkit.Influxd, db, m string) map[int]int {
	t.Helper()
	got := map[int]int{}
	for _, ser := range s.Query(t, db, fmt.Sprintf("SELECT value FROM %q", m)) {
		for _, row := range ser.Values {
			v, err := row[1].(json.Number).Float64()
			if err != nil {
				t.Fatalf("value %v: %v", row[1], err)
			}
			got[int(v)]++
		}
	}
	return got
}

// waitValues waits until m holds exactly the values 0..n-1 (each once).
func waitValues(t *testing.T, s *testkit.Influxd, db, m string, n int) {
	t.Helper()
	var got map[int]int
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		if got = values(t, s, db, m); len(got) >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	missing := 0
	for i := range n {
		if got[i] == 0 {
			missing++
		}
	}
	if missing > 0 || len(got) != n {
		t.Fatalf("%s: %d distinct values, %d of 0..%d missing", m, len(got), missing, n-1)
	}
}
