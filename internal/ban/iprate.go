package ban

import (
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// IPRate is a per-IP token bucket with a bounded number of tracked IPs:
// each IP may do events per period on average and burst at once.
// Allow-listed IPs are never limited. Safe for concurrent use.
type IPRate struct {
	limit rate.Limit
	burst int
	allow AllowList
	now   func() time.Time

	mu        sync.Mutex
	buckets   *lru[netip.Addr, *rate.Limiter]
	evictions atomic.Uint64
}

// NewIPRate limits each IP to events per period with the given burst,
// tracking at most maxIPs IPs (the least recently seen is forgotten past
// it). now is the clock (time.Now if nil).
func NewIPRate(events int, period time.Duration, burst, maxIPs int, allow AllowList, now func() time.Time) *IPRate {
	if now == nil {
		now = time.Now
	}
	return &IPRate{
		limit:   rate.Limit(float64(events) / period.Seconds()),
		burst:   max(burst, 1),
		allow:   allow,
		now:     now,
		buckets: newLRU[netip.Addr, *rate.Limiter](max(maxIPs, 1)),
	}
}

// Allow takes one token for ip. When there is none it returns false and
// how long until there is one (at least one second, for Retry-After).
func (r *IPRate) Allow(ip netip.Addr) (bool, time.Duration) {
	ip = canonical(ip)
	if r.allow.Contains(ip) {
		return true, 0
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	lim, ok := r.buckets.get(ip)
	if !ok {
		lim = rate.NewLimiter(r.limit, r.burst)
		if r.buckets.put(ip, lim) {
			r.evictions.Add(1)
		}
	}
	if lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - lim.TokensAt(now)
	wait := time.Duration(math.Ceil(missing/float64(r.limit))) * time.Second
	return false, max(wait, time.Second)
}

// Evictions counts IPs forgotten because max tracked IPs was reached.
func (r *IPRate) Evictions() uint64 { return r.evictions.Load() }

// Len is the number of IPs tracked now.
func (r *IPRate) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buckets.len()
}
