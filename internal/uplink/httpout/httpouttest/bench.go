package httpouttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// BenchmarkAppend measures Append (encode + one durable queue entry) in
// points/s with the server unreachable (newOutput must configure a long
// backoff, so only Append runs): 100 and 1000 points per call, fsync off
// and on, one caller and 4 in parallel (their commits are grouped).
// newOutput gets the fsync setting to put into the output's config.
func BenchmarkAppend(b *testing.B, newOutput func(fsync bool, d httpout.Deps) (*httpout.Output, error)) {
	for _, fsync := range []bool{false, true} {
		for _, per := range []int{100, 1000} {
			b.Run(fmt.Sprintf("fsync=%v/points=%d", fsync, per), func(b *testing.B) { benchAppend(b, newOutput, fsync, per, false) })
		}
		b.Run(fmt.Sprintf("fsync=%v/points=100/parallel", fsync), func(b *testing.B) { benchAppend(b, newOutput, fsync, 100, true) })
	}
}

func benchAppend(b *testing.B, newOutput func(bool, httpout.Deps) (*httpout.Output, error), fsync bool, per int, parallel bool) {
	o, err := newOutput(fsync, httpout.Deps{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = o.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	<-o.Ready()
	pts := Readings("sensors_temperature", 0, per, time.Now())
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
