package alerts

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
)

// startRedis runs a throwaway redis-server on 127.0.0.1:port.
func startRedis(t *testing.T, port int) *testkit.Process { return testkit.StartRedis(t, port) }

func redisClient(t *testing.T, port int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func redisConfig(port int) RedisConfig {
	c := DefaultConfig().History.Redis
	c.Address = fmt.Sprintf("127.0.0.1:%d", port)
	return c
}

func TestRedisKey(t *testing.T) {
	a := alertAt(0, "sensor-001", t0.Add(999*time.Millisecond), telemetry.AlertFiring)
	a.Severity = "CRITICAL"
	k := RedisKey(&a)
	const prefix = "alert:critical:sensor-001:1700000000:firing:"
	if len(k) != len(prefix)+16 || k[:len(prefix)] != prefix {
		t.Fatalf("key %q, want %s<16 hex>", k, prefix)
	}
	r := a
	r.State = telemetry.AlertResolved
	b := alertAt(1, "sensor-001", a.Time, telemetry.AlertFiring)
	if RedisKey(&r) == k || RedisKey(&b) == k || RedisKey(&a) != k {
		t.Fatal("keys of different events collide, or the key of one event is not stable")
	}
}

// TestRedisHistory: keys with TTL in the seed's namespace, the stream,
// 100 same-second alerts of one device all kept, filters, and duplicate
// stream entries (a retried batch) answered once.
func TestRedisHistory(t *testing.T) {
	port := testkit.FreePort(t)
	startRedis(t, port)
	c := redisClient(t, port)
	h := NewRedisHistory(redisConfig(port), time.Hour, nil)
	defer h.Close()
	ctx := context.Background()

	batch := make([]entry, 100)
	for i := range batch {
		batch[i] = entry{at: time.Now(), alert: alertAt(i, "sensor-001", t0.Add(time.Duration(i)*time.Millisecond), telemetry.AlertFiring)}
	}
	for _, b := range [][]entry{batch[:40], batch[40:], batch[40:]} { // the last one is a retry
		if err := h.recordBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := c.Keys(ctx, "alert:critical:sensor-001:1700000000:*").Result()
	if err != nil || len(keys) != 100 {
		t.Fatalf("%d keys under the seed's prefix (%v), want 100", len(keys), err)
	}
	ttl, err := c.TTL(ctx, keys[0]).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Fatalf("TTL %v (%v), want (0, 1h]", ttl, err)
	}
	val, _ := c.Get(ctx, RedisKey(&batch[7].alert)).Result()
	if got, err := decodeAlert([]byte(val)); err != nil || got.ID != batch[7].alert.ID || got.Value != 87 {
		t.Fatalf("key value %s (%v)", val, err)
	}
	if n, _ := c.XLen(ctx, DefaultStream).Result(); n != 160 {
		t.Fatalf("stream length %d, want 160", n)
	}
	got, err := h.Query(ctx, Filter{DeviceID: "sensor-001"})
	if err != nil || len(got) != 100 || got[0].ID != batch[99].alert.ID || got[99].ID != batch[0].alert.ID {
		t.Fatalf("query: %d events (%v), want 100 newest first", len(got), err)
	}
	if got, _ := h.Query(ctx, Filter{Limit: 3}); len(got) != 3 {
		t.Fatalf("limit 3: %d events", len(got))
	}
}

// TestRedisFilters: the stream answers the same queries as the embedded
// history.
func TestRedisFilters(t *testing.T) {
	port := testkit.FreePort(t)
	startRedis(t, port)
	h := NewRedisHistory(redisConfig(port), time.Hour, nil)
	defer h.Close()
	record(t, h, nil, fixture(t))
	for _, tt := range filterCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Query(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Fatalf("got %v, want %v", ids(got), tt.want)
			}
		})
	}
}

// TestRedisPaging: a query reads the stream across XREVRANGE pages, in
// order, and stops at the limit.
func TestRedisPaging(t *testing.T) {
	port := testkit.FreePort(t)
	startRedis(t, port)
	h := NewRedisHistory(redisConfig(port), time.Hour, nil)
	defer h.Close()
	const n = 2*redisPage + 17
	batch := make([]entry, n)
	for i := range batch {
		batch[i] = entry{at: time.Now(), alert: alertAt(i, "s1", t0, telemetry.AlertFiring)}
	}
	for start := 0; start < n; start += maxBatch {
		if err := h.recordBatch(context.Background(), batch[start:min(start+maxBatch, n)]); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ limit, want int }{{0, n}, {redisPage + 1, redisPage + 1}, {1, 1}}
	for _, tt := range tests {
		got, err := h.Query(context.Background(), Filter{Limit: tt.limit})
		if err != nil || len(got) != tt.want {
			t.Fatalf("limit %d: %d events (%v), want %d", tt.limit, len(got), err, tt.want)
		}
		for i, a := range got {
			if a.ID != batch[n-1-i].alert.ID {
				t.Fatalf("limit %d: event %d is %s, want %s", tt.limit, i, a.ID, batch[n-1-i].alert.ID)
			}
		}
	}
}

// TestRedisTTL: entries recorded longer than the TTL ago are not returned
// (the clock is injected; Redis expires the keys itself).
func TestRedisTTL(t *testing.T) {
	port := testkit.FreePort(t)
	startRedis(t, port)
	clk := newClock(time.Now())
	h := NewRedisHistory(redisConfig(port), time.Hour, clk.Now)
	defer h.Close()
	record(t, h, nil, fixture(t)[:2])
	clk.Advance(61 * time.Minute)
	record(t, h, nil, fixture(t)[2:3])
	got, err := h.Query(context.Background(), Filter{})
	if err != nil || !slices.Equal(ids(got), []string{"a1/resolved"}) {
		t.Fatalf("got %v (%v), want only the recent event", ids(got), err)
	}
}

// TestRedisDown: Redis is killed while alerts keep coming. MQTT actions
// and the embedded history carry on; Redis writes are retried, the
// overflow is counted as dropped; a new Redis on the same port gets the
// retried events and new ones.
func TestRedisDown(t *testing.T) {
	port := testkit.FreePort(t)
	first := startRedis(t, port)
	cfg := DefaultConfig()
	cfg.HistoryQueue = 10
	cfg.History.Redis = redisConfig(port)
	cfg.History.Redis.Timeout = 200 * time.Millisecond
	d, pub, _ := testDispatcher(t, cfg, nil)
	stop := run(t, d)
	written := d.m.historyWritten.WithLabelValues(outRedis)
	dropped := d.m.droppedBy[outRedis]
	errs := d.m.historyErrors.WithLabelValues(outRedis)

	d.Notify(alertAt(0, "s1", t0, telemetry.AlertFiring))
	testkit.Eventually(t, 10*time.Second, "first event in redis", func() bool { return counter(written) == 1 })

	if err := syscall.Kill(first.Cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.WaitExit(t, 10*time.Second)
	const down = 300 // more than history_queue + one batch: some must be dropped
	for i := range down {
		d.Notify(alertAt(1+i, "s1", t0, telemetry.AlertFiring))
	}
	if n := len(pub.messages()); n != 1+down {
		t.Fatalf("%d MQTT publishes while Redis is down, want %d", n, 1+down)
	}
	testkit.Eventually(t, 10*time.Second, "redis write errors counted", func() bool { return counter(errs) > 0 })
	if counter(dropped) < float64(down-cfg.HistoryQueue-maxBatch) {
		t.Fatalf("dropped %v, want at least %d", counter(dropped), down-cfg.HistoryQueue-maxBatch)
	}

	startRedis(t, port)
	testkit.Eventually(t, 20*time.Second, "every event written or dropped", func() bool {
		return counter(written)+counter(dropped) == 1+down
	})
	d.Notify(alertAt(1000, "s1", t0, telemetry.AlertFiring))
	testkit.Eventually(t, 10*time.Second, "new event written", func() bool {
		return counter(written)+counter(dropped) == 2+down
	})
	c := redisClient(t, port)
	keys, err := c.Keys(context.Background(), "alert:critical:s1:*").Result()
	if err != nil || float64(len(keys)) != counter(written)-1 {
		t.Fatalf("%d keys in the new redis (%v), want %v (written after the restart)", len(keys), err, counter(written)-1)
	}
	embedded := counter(d.m.historyWritten.WithLabelValues(backendBolt)) + counter(d.m.droppedBy[outHistory])
	testkit.Eventually(t, 10*time.Second, "embedded history complete", func() bool {
		embedded = counter(d.m.historyWritten.WithLabelValues(backendBolt)) + counter(d.m.droppedBy[outHistory])
		return embedded == 2+down
	})
	t.Logf("redis: written %v, dropped %v, write errors %v", counter(written), counter(dropped), counter(errs))
	stop()
	// After failed dials go-redis probes the server from a goroutine that
	// sleeps 1s between probes; it ends at its next wake-up after Close.
	testkit.Eventually(t, 5*time.Second, "go-redis dial probe to end", func() bool {
		buf := make([]byte, 1<<20)
		return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*ConnPool).tryDial")
	})
}
