package remotewrite

import (
	"fmt"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/httpout/httpouttest"
)

// BenchmarkAppend: points/s (each point has 2 fields: 2 samples) into the
// queue with the server unreachable (see httpouttest.BenchmarkAppend).
func BenchmarkAppend(b *testing.B) {
	httpouttest.BenchmarkAppend(b, func(fsync bool, d Deps) (*Output, error) {
		cfg := DefaultConfig()
		cfg.Name, cfg.URL = "bench", fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", testkit.FreePort(b))
		cfg.Queue.Fsync = fsync
		cfg.Backoff.Min, cfg.Backoff.Max = time.Hour, time.Hour
		return New(cfg, d)
	})
}
