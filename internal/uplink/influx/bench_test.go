package influx

import (
	"fmt"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/httpout/httpouttest"
)

// BenchmarkAppend: points/s into the queue with the server unreachable
// (see httpouttest.BenchmarkAppend).
func BenchmarkAppend(b *testing.B) {
	httpouttest.BenchmarkAppend(b, func(fsync bool, d Deps) (*Output, error) {
		cfg := DefaultConfig()
		cfg.Name, cfg.URL, cfg.Database = "bench", fmt.Sprintf("http://127.0.0.1:%d", testkit.FreePort(b)), "db"
		cfg.Queue.Fsync = fsync
		cfg.Backoff.Min, cfg.Backoff.Max = time.Hour, time.Hour
		return New(cfg, d)
	})
}
