package mqttbridge

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/uplink/mqttmsg"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// drainBacklog is the backlog drained per benchmark iteration: five
// minutes of 10 sensors reporting 100 readings/s each (the issue's
// "5-minute backlog" at a busy site).
const drainBacklog = 5 * 60 * 10 * 100

// BenchmarkDrain measures how fast a backlog left by an outage reaches a
// local Mosquitto (PUBACKed at QoS 1), fsync on (the default) and off.
//
//	go test -run '^$' -bench Drain -benchtime 1x ./internal/uplink/mqttbridge
func BenchmarkDrain(b *testing.B) {
	for _, fsync := range []bool{true, false} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			c := simtest.StartMosquitto(b, simtest.Options{})
			cfg := testConfig(c.Addr)
			cfg.In = nil
			cfg.Queue.Fsync = fsync
			var rate float64
			for b.Loop() {
				dir := b.TempDir()
				fillQueue(b, dir, cfg.Name, drainBacklog)
				r := startBridge(b, cfg, dir, nil)
				start := time.Now()
				for testutil.ToFloat64(r.b.met.Sent) < drainBacklog {
					if time.Since(start) > 10*time.Minute {
						b.Fatal("backlog not drained in 10 minutes")
					}
					time.Sleep(5 * time.Millisecond)
				}
				rate = drainBacklog / time.Since(start).Seconds()
				r.close(b)
			}
			b.ReportMetric(rate, "msgs/s")
		})
	}
}

// fillQueue writes n JSON readings on 10 topics into the bridge's queue
// file, as Offer would, in batches and without fsync (fast setup).
func fillQueue(b *testing.B, dir, name string, n int) {
	b.Helper()
	qc := queue.DefaultConfig()
	qc.Fsync = false
	q, err := queue.Open(filepath.Join(dir, "uplink-"+name+".db"), qc, queue.Deps{Name: name})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	batch := make([]queue.Entry, 0, 1000)
	for i := range n {
		topic := "sensors/dev" + strconv.Itoa(i%10) + "/temperature"
		payload := fmt.Appendf(nil, `{"device_id":"dev%d","value":%d,"timestamp":%d}`, i%10, i, time.Now().Unix())
		batch = append(batch, queue.Entry{Key: topic, Data: mqttmsg.Encode(mqttmsg.Message{Topic: topic, Payload: payload})})
		if len(batch) == cap(batch) || i == n-1 {
			if err := q.Append(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}
