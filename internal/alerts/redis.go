package alerts

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/borda-edge/borda/internal/telemetry"
)

// redisPage is how many stream entries one XREVRANGE fetches.
const redisPage = 256

// RedisHistory writes alert events to Redis: one key per event, with the
// TTL (the seed's cache, see RedisKey), and an entry in a capped stream
// for ordered history, which Query reads.
type RedisHistory struct {
	c      *redis.Client
	ttl    time.Duration
	stream string
	maxLen int64
	now    func() time.Time
}

// NewRedisHistory makes a client for cfg; it connects on first use.
// Commands fail after cfg.Timeout instead of waiting for a Redis that is
// down, and are not retried by the client (the dispatcher retries).
func NewRedisHistory(cfg RedisConfig, ttl time.Duration, now func() time.Time) *RedisHistory {
	if now == nil {
		now = time.Now
	}
	c := redis.NewClient(&redis.Options{
		Addr:                     cfg.Address,
		Username:                 cfg.Username,
		Password:                 cfg.Password,
		DB:                       cfg.DB,
		Protocol:                 2, // RESP2: any Redis ≥ 5, no push notifications
		DialTimeout:              cfg.Timeout,
		ReadTimeout:              cfg.Timeout,
		WriteTimeout:             cfg.Timeout,
		PoolTimeout:              cfg.Timeout,
		DialerRetries:            1,
		MaxRetries:               -1,
		PoolSize:                 4,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	return &RedisHistory{c: c, ttl: ttl, stream: cfg.Stream, maxLen: cfg.StreamMaxLen, now: now}
}

// RedisKey is the key of one alert event:
//
//	alert:<severity>:<device_id>:<unix_seconds>:<state>:<id_hash>
//
// e.g. alert:critical:s1:1700000000:firing:5c0d2d8f4c9b1e7a. The first
// four parts are the seed's key (severity lower-cased), so its tools
// scanning alert:critical:* still find the alerts; unix_seconds is the
// event's (reading's) time. state and id_hash (FNV-1a 64 of the alert ID,
// 16 hex digits) make the key unique per event, so alerts in the same
// second never overwrite each other, while a retried write of the same
// event overwrites itself instead of duplicating.
func RedisKey(a *telemetry.Alert) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(a.ID))
	var b strings.Builder
	b.Grow(48 + len(a.DeviceID))
	b.WriteString("alert:")
	b.WriteString(strings.ToLower(a.Severity))
	b.WriteByte(':')
	b.WriteString(a.DeviceID)
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(a.Time.Unix(), 10))
	b.WriteByte(':')
	b.WriteString(a.State)
	b.WriteByte(':')
	b.WriteString(fmt.Sprintf("%016x", h.Sum64()))
	return b.String()
}

// RedisLogger adapts a slog logger (best the rate-limited one) to the
// go-redis client's logger, which is process-wide: the wiring calls
// redis.SetLogger(alerts.RedisLogger{L: limited}) once, or go-redis writes
// a line to stderr for every failed connection attempt.
type RedisLogger struct{ L *slog.Logger }

// Printf logs one go-redis message as a warning.
func (r RedisLogger) Printf(_ context.Context, format string, v ...any) {
	r.L.Warn("redis client", "detail", fmt.Sprintf(format, v...))
}

// Close closes the client's connections.
func (r *RedisHistory) Close() error {
	if err := r.c.Close(); err != nil {
		return fmt.Errorf("close redis: %w", err)
	}
	return nil
}

// Record stores one event, recorded now.
func (r *RedisHistory) Record(ctx context.Context, a telemetry.Alert) error {
	return r.recordBatch(ctx, []entry{{at: r.now(), alert: a}})
}

// recordBatch writes events in one pipeline: SET key json EX ttl, and
// XADD stream MAXLEN ~ max_len * alert json at ns key name. A retried
// batch may add stream entries twice; Query drops the duplicates.
func (r *RedisHistory) recordBatch(ctx context.Context, es []entry) error {
	pipe := r.c.Pipeline()
	for i := range es {
		a := &es[i].alert
		v, err := es[i].json()
		if err != nil {
			return err
		}
		key := RedisKey(a)
		pipe.Set(ctx, key, v, r.ttl)
		pipe.XAdd(ctx, &redis.XAddArgs{
			Stream: r.stream, MaxLen: r.maxLen, Approx: true,
			Values: []any{"alert", v, "at", es[i].at.UnixNano(), "key", key},
		})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis: record %d alerts: %w", len(es), err)
	}
	return nil
}

// Purge trims stream entries older than the TTL (XTRIM MINID ~, Redis
// 6.2 and later); the keys expire by themselves.
func (r *RedisHistory) Purge(ctx context.Context) (int, error) {
	minID := strconv.FormatInt(r.now().Add(-r.ttl).UnixMilli(), 10)
	n, err := r.c.XTrimMinIDApprox(ctx, r.stream, minID, 0).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: trim %s: %w", r.stream, err)
	}
	return int(n), nil
}

// Query reads the stream newest first (XREVRANGE, in pages), stopping at
// entries recorded longer than the TTL ago.
func (r *RedisHistory) Query(ctx context.Context, f Filter) ([]telemetry.Alert, error) {
	if !validState(f.State) {
		return nil, fmt.Errorf("redis: state %q is not firing, resolved or active", f.State)
	}
	col := newCollector(f)
	cutoff := r.now().Add(-r.ttl).UnixNano()
	end := "+"
	for {
		msgs, err := r.c.XRevRangeN(ctx, r.stream, end, "-", redisPage).Result()
		if err != nil {
			return nil, fmt.Errorf("redis: read %s: %w", r.stream, err)
		}
		for _, m := range msgs {
			at, a, err := parseStreamEntry(m.Values)
			if err != nil {
				continue // not written by borda: skip
			}
			if at < cutoff {
				return col.result(), nil
			}
			if col.add(a) {
				return col.result(), nil
			}
		}
		var more bool
		if end, more = prevStreamID(msgs[len(msgs)-1].ID); !more || len(msgs) < redisPage {
			return col.result(), nil
		}
	}
}

func parseStreamEntry(vals map[string]any) (int64, telemetry.Alert, error) {
	js, _ := vals["alert"].(string)
	ats, _ := vals["at"].(string)
	at, err := strconv.ParseInt(ats, 10, 64)
	if err != nil {
		return 0, telemetry.Alert{}, fmt.Errorf("stream entry: at: %w", err)
	}
	a, err := decodeAlert([]byte(js))
	return at, a, err
}

// prevStreamID is the largest stream ID smaller than id ("ms-seq"), for
// paging with XREVRANGE on any Redis version (exclusive ranges need 6.2).
// It reports false at the start of the stream or for a malformed id.
func prevStreamID(id string) (string, bool) {
	msS, seqS, ok := strings.Cut(id, "-")
	ms, err1 := strconv.ParseUint(msS, 10, 64)
	seq, err2 := strconv.ParseUint(seqS, 10, 64)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return "", false
	case seq > 0:
		return fmt.Sprintf("%d-%d", ms, seq-1), true
	case ms > 0:
		return fmt.Sprintf("%d-%d", ms-1, uint64(1<<64-1)), true
	}
	return "", false
}
