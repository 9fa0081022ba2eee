package remotewrite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

// BenchmarkAppend measures Append (encode + one durable queue entry) in
// points/s (each point has 2 fields: 2 samples) with the server
// unreachable (the sender backs off for an hour, so only Append runs):
// one caller, and 4 in parallel (their commits are grouped).
func BenchmarkAppend(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		for _, per := range []int{100, 1000} {
			b.Run(fmt.Sprintf("fsync=%v/points=%d", fsync, per), func(b *testing.B) { benchAppend(b, fsync, per, false) })
		}
		b.Run(fmt.Sprintf("fsync=%v/points=100/parallel", fsync), func(b *testing.B) { benchAppend(b, fsync, 100, true) })
	}
}

func benchAppend(b *testing.B, fsync bool, per int, parallel bool) {
	cfg := DefaultConfig()
	cfg.Name, cfg.URL = "bench", fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", testkit.FreePort(b))
	cfg.Queue.Fsync = fsync
	cfg.Backoff.Min, cfg.Backoff.Max = time.Hour, time.Hour
	o, err := New(cfg, Deps{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = o.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	<-o.Ready()
	pts := readings("sensors_temperature", 0, per, time.Now())
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		b.SetParallelism(2) // 4 goroutines on 2 CPUs
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := o.Append(ctx, pts); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		for b.Loop() {
			if err := o.Append(ctx, pts); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "points/s")
}
