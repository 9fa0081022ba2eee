// Package ban bans IPs that fail to authenticate too often (fail2ban
// semantics: max_retry failures within find_time ban the IP for ban_time),
// refuses banned IPs and connection floods at accept time, keeps bans in
// <data_dir>/bans.db across restarts and logs every failure and ban in one
// stable format for fail2ban and SIEMs.
package ban

import (
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
)

// FileName is the bans file in the data directory.
const FileName = "bans.db"

// Sources of failures.
const (
	SourceMQTT = "mqtt"
	SourceHTTP = "http"
)

// Ban is one banned IP.
type Ban struct {
	IP       netip.Addr `json:"ip"`
	Since    time.Time  `json:"since"`
	Until    time.Time  `json:"until"`
	Source   string     `json:"source"`   // source of the failure that caused the ban
	Reason   string     `json:"reason"`   // reason of that failure
	Failures int        `json:"failures"` // failures within find_time when banned
}

// Deps are what the Banner needs from the gateway.
type Deps struct {
	// Logger writes the stable lines ("auth failed", "ip banned", "ip
	// unbanned", "ban expired"); it must be the base logger with only
	// component=ban added, and never rate-limited (fail2ban counts lines).
	Logger *slog.Logger
	// Limited is rate-limited, for refused connections and for failures
	// of allow-listed IPs past max_retry.
	Limited  *slog.Logger
	Registry prometheus.Registerer // nil registers nothing
	DataDir  string                // the bans file is <DataDir>/bans.db
	Now      func() time.Time      // clock; time.Now if nil
	// SweepInterval is how often expired bans and stale failures are
	// removed; 0 means one second. Expired bans are never enforced, even
	// before a sweep removes them.
	SweepInterval time.Duration
	// OnBan, if set, is called after an IP is banned (outside any lock),
	// for example to disconnect the clients it has connected already:
	// WrapListener only refuses new connections.
	OnBan func(Ban)
}

// Banner counts authentication failures per IP and bans IPs. All methods
// are safe for concurrent use, before, during and after Run.
type Banner struct {
	cfg   Config
	allow AllowList
	log   *slog.Logger
	lim   *slog.Logger
	now   func() time.Time
	path  string
	sweep time.Duration
	onBan func(Ban)
	m     *metrics
	rate  *IPRate // nil when connection_rate is disabled
	ready chan struct{}

	fmu   sync.Mutex // guards fails
	fails *lru[netip.Addr, *failState]

	// Lock order: bmu, then dbmu (hand over hand: the file is written in
	// the order the map changed, without blocking readers on disk I/O).
	bmu  sync.RWMutex
	bans map[netip.Addr]Ban
	dbmu sync.Mutex
	db   *bolt.DB // nil when not open
}

// failState holds the times of an IP's most recent failures, oldest first.
type failState struct {
	times []time.Time
}

// New builds a Banner from a validated configuration. Nothing is opened
// until Run; bans made before Run are kept in memory and written then.
func New(cfg Config, deps Deps) (*Banner, error) {
	allow, err := ParseAllowList(cfg.AllowList)
	if err != nil {
		return nil, fmt.Errorf("ban: allow_list: %w", err)
	}
	b := &Banner{
		cfg: cfg, allow: allow, log: deps.Logger, lim: deps.Limited, now: deps.Now,
		path: filepath.Join(deps.DataDir, FileName), sweep: deps.SweepInterval, onBan: deps.OnBan,
		ready: make(chan struct{}), fails: newLRU[netip.Addr, *failState](max(cfg.MaxTrackedIPs, 1)),
		bans: map[netip.Addr]Ban{},
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.lim == nil {
		b.lim = b.log
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.sweep <= 0 {
		b.sweep = time.Second
	}
	if cr := cfg.ConnectionRate; cr.Enabled {
		b.rate = NewIPRate(cr.Connections, cr.Period, cr.Burst, cr.MaxTrackedIPs, allow, b.now)
	}
	if b.m, err = newMetrics(deps.Registry, b.ConnRate); err != nil {
		return nil, fmt.Errorf("ban: %w", err)
	}
	return b, nil
}

// ConnRate is the per-IP connection limiter configured by
// connection_rate, shared by every wrapped listener; nil when disabled.
func (b *Banner) ConnRate() *IPRate { return b.rate }

// AllowList is the parsed allow_list.
func (b *Banner) AllowList() AllowList { return b.allow }

// Ready is closed once Run has loaded the bans file.
func (b *Banner) Ready() <-chan struct{} { return b.ready }

// Failure reports a failed authentication from ip. source is where it
// happened (SourceMQTT, SourceHTTP) and reason a short code such as
// bad_password; both are reduced to [a-z0-9_] (at most 32 bytes). Every
// failure is logged as
//
//	msg="auth failed" component=ban ip=IP source=SOURCE reason=REASON
//
// and the max_retry-th failure within find_time bans the IP unless it is
// allow-listed or already banned.
func (b *Banner) Failure(ip netip.Addr, source, reason string) {
	ip = canonical(ip)
	if !ip.IsValid() {
		return
	}
	source, reason = label(source), label(reason)
	b.m.failures.WithLabelValues(source, reason).Inc()
	now := b.now()
	allowed := b.allow.Contains(ip)
	n, banNow := b.track(ip, now, allowed)
	attrs := []any{"ip", ip.String(), "source", source, "reason", reason}
	log := b.log
	if allowed {
		attrs = append(attrs, "allow_listed", true)
		if n > b.cfg.MaxRetry {
			log = b.lim // a local client looping on a wrong password must not flood the log
		}
	}
	log.Warn("auth failed", attrs...)
	if banNow {
		b.ban(ip, now, source, reason, n)
	}
}

// track records a failure and returns the failures of ip within find_time
// (capped at max_retry+1) and whether this one bans it.
func (b *Banner) track(ip netip.Addr, now time.Time, allowed bool) (int, bool) {
	if !b.cfg.Enabled {
		return 0, false
	}
	b.fmu.Lock()
	defer b.fmu.Unlock()
	st, ok := b.fails.get(ip)
	if !ok {
		st = &failState{times: make([]time.Time, 0, 2)}
		if b.fails.put(ip, st) {
			b.m.evictions.Inc()
		}
	}
	keep := st.times[:0]
	for _, t := range st.times {
		if now.Sub(t) < b.cfg.FindTime {
			keep = append(keep, t)
		}
	}
	st.times = append(keep, now)
	if len(st.times) > b.cfg.MaxRetry+1 {
		st.times = st.times[len(st.times)-b.cfg.MaxRetry-1:]
	}
	n := len(st.times)
	if allowed || n < b.cfg.MaxRetry {
		return n, false
	}
	if _, banned := b.Banned(ip); banned {
		return n, false
	}
	b.fails.remove(ip) // a new count starts after the ban, as in fail2ban
	return n, true
}

func (b *Banner) ban(ip netip.Addr, now time.Time, source, reason string, failures int) {
	nb := Ban{IP: ip, Since: now, Until: now.Add(b.cfg.BanTime), Source: source, Reason: reason, Failures: failures}
	ops := []storeOp{{put: nb}}
	b.bmu.Lock()
	var evicted *Ban
	if _, exists := b.bans[ip]; !exists && len(b.bans) >= b.cfg.MaxBans {
		evicted = b.soonestExpiring()
		delete(b.bans, evicted.IP)
		ops = append([]storeOp{{del: evicted.IP}}, ops...)
	}
	b.bans[ip] = nb
	b.m.active.Set(float64(len(b.bans)))
	b.dbmu.Lock()
	b.bmu.Unlock()
	err := applyStore(b.db, ops)
	b.dbmu.Unlock()
	b.storeError(err)
	b.m.bans.WithLabelValues(source).Inc()
	if evicted != nil {
		b.logLifted(*evicted, causeMaxBans)
	}
	b.log.Warn("ip banned", "ip", ip.String(), "source", source, "reason", reason, "failures", failures,
		"ban_seconds", int64(b.cfg.BanTime/time.Second), "until", nb.Until.UTC().Format(time.RFC3339))
	if b.onBan != nil {
		b.onBan(nb)
	}
}

// soonestExpiring is the ban that ends first; bmu must be held and the
// map must not be empty.
func (b *Banner) soonestExpiring() *Ban {
	var first *Ban
	for _, v := range b.bans {
		if first == nil || v.Until.Before(first.Until) {
			first = &v
		}
	}
	return first
}

func (b *Banner) logLifted(v Ban, cause string) {
	b.m.removed.WithLabelValues(cause).Inc()
	msg := "ip unbanned"
	if cause == causeExpired {
		msg = "ban expired"
	}
	b.log.Info(msg, "ip", v.IP.String(), "source", v.Source, "reason", v.Reason, "cause", cause,
		"banned_seconds", int64(b.now().Sub(v.Since)/time.Second))
}

func (b *Banner) storeError(err error) {
	if err == nil {
		return
	}
	b.m.storeErrs.Inc()
	b.lim.Error("cannot write the bans file; bans still hold until restart", "path", b.path, "error", err)
}

// label reduces s to a log- and metric-safe code: lower case letters,
// digits and underscores, at most 32 bytes, "unknown" when empty.
func label(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s) && sb.Len() < 32; i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			sb.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			sb.WriteByte(c + 'a' - 'A')
		case c == '-' || c == ' ' || c == '.':
			sb.WriteByte('_')
		}
	}
	if sb.Len() == 0 {
		return "unknown"
	}
	return sb.String()
}

// Reporter reports the failures of one source; its AuthFailed method is
// the form internal/auth's Failures interface expects.
type Reporter struct {
	b      *Banner
	source string
}

// Reporter returns a Reporter for source (SourceMQTT, SourceHTTP).
func (b *Banner) Reporter(source string) Reporter { return Reporter{b: b, source: source} }

// AuthFailed reports a failure from remote (an IP address, with or without
// port). The user name is not used: it is client-supplied, and the
// reporting component logs it in its own line.
func (r Reporter) AuthFailed(remote, _ string, reason string) {
	r.b.Failure(ParseIP(remote), r.source, reason)
}
