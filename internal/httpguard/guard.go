package httpguard

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/ban"
)

// Deps are what the Guard needs from the gateway.
type Deps struct {
	Logger   *slog.Logger          // component=http
	Limited  *slog.Logger          // rate-limited, for per-request refusals
	Registry prometheus.Registerer // nil registers nothing
	// Banner refuses banned IPs and receives failed authentications
	// (source "http"); nil disables both.
	Banner *ban.Banner
	Now    func() time.Time // clock of the rate limiter; time.Now if nil
	// Static lists requests for static content without data (the
	// dashboard's page and embedded assets), as "METHOD /path" rules:
	// they are always public and do not count against the per-IP request
	// rate. Bans still apply.
	Static []string
}

// Guard is the HTTP protection middleware.
type Guard struct {
	cfg       Config
	log, lim  *slog.Logger
	banner    *ban.Banner
	rate      *ban.IPRate // nil when rate limiting is off
	creds     credentials
	protected []rule
	public    []rule
	static    []rule
	openReads bool // requests not protected need no credentials (auth.public_read resolved)
	m         *metrics
}

// New builds the Guard from a validated configuration.
func New(cfg Config, deps Deps) (*Guard, error) {
	g := &Guard{cfg: cfg, log: deps.Logger, lim: deps.Limited, banner: deps.Banner, creds: newCredentials(cfg.Auth)}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.lim == nil {
		g.lim = g.log
	}
	var errs []error
	g.protected, errs = parseRules(cfg.Auth.Protected)
	if len(errs) > 0 {
		return nil, fmt.Errorf("httpguard: auth.protected: %w", errs[0])
	}
	g.public, errs = parseRules(cfg.Auth.Public)
	if len(errs) > 0 {
		return nil, fmt.Errorf("httpguard: auth.public: %w", errs[0])
	}
	g.static, errs = parseRules(deps.Static)
	if len(errs) > 0 {
		return nil, fmt.Errorf("httpguard: static routes: %w", errs[0])
	}
	if rl := cfg.RateLimit; rl.Enabled {
		allow, err := ban.ParseAllowList(rl.AllowList)
		if err != nil {
			return nil, fmt.Errorf("httpguard: rate_limit.allow_list: %w", err)
		}
		g.rate = ban.NewIPRate(rl.Requests, rl.Period, rl.Burst, rl.MaxTrackedIPs, allow, deps.Now)
	}
	m, err := newMetrics(deps.Registry, g.rate)
	if err != nil {
		return nil, fmt.Errorf("httpguard: %w", err)
	}
	g.m = m
	g.openReads = cfg.Auth.PublicRead.public(!g.creds.empty())
	if !g.openReads {
		g.log.Info("HTTP reads need credentials except health checks and the dashboard's page",
			"public_read", string(cfg.Auth.PublicRead), "public", cfg.Auth.Public)
	}
	if g.creds.empty() {
		where := "from nowhere"
		if cfg.Auth.LoopbackWithoutCredentials {
			where = "from loopback only"
		}
		g.log.Warn("no HTTP tokens or users configured: protected endpoints are served "+where+
			"; set http.guard.auth.tokens or users", "protected", cfg.Auth.Protected)
	}
	return g, nil
}

// Wrap returns next behind the guard. Checks, cheapest first: banned IP
// (403), request rate (429), declared body size (413), credentials (401);
// then the body is limited while next reads it.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := ban.ParseIP(r.RemoteAddr)
		if !g.admit(w, r, ip) {
			return
		}
		if r.ContentLength == -1 && r.Body != nil && r.Body != http.NoBody {
			lw := newLimitWriter(w, r, g.cfg.MaxBodyBytes, g.bodyTooLarge)
			next.ServeHTTP(lw, r)
			lw.finish()
			return
		}
		next.ServeHTTP(w, r)
	})
}

// admit runs the checks that need no body, answering the request itself
// when one fails. Static content skips the rate limit and credentials.
func (g *Guard) admit(w http.ResponseWriter, r *http.Request, ip netip.Addr) bool {
	static := anyMatches(g.static, r.Method, requestPath(r))
	g.m.count(static)
	if g.banner != nil {
		if until, banned := g.banner.Banned(ip); banned {
			g.m.banned.Inc()
			g.lim.Info("http request refused: banned", "ip", ip.String())
			w.Header().Set("Retry-After", strconv.FormatInt(max(int64(time.Until(until)/time.Second), 1), 10))
			writeError(w, http.StatusForbidden, "forbidden", "this address is banned after repeated authentication failures")
			return false
		}
	}
	if static {
		return true
	}
	if g.rate != nil {
		if ok, wait := g.rate.Allow(ip); !ok {
			g.m.limited.Inc()
			g.lim.Info("http request refused: rate limited", "ip", ip.String())
			w.Header().Set("Retry-After", strconv.FormatInt(int64(wait/time.Second), 10))
			writeError(w, http.StatusTooManyRequests, "too_many_requests",
				fmt.Sprintf("more than %d requests per %s", g.cfg.RateLimit.Requests, g.cfg.RateLimit.Period))
			return false
		}
	}
	if r.ContentLength > g.cfg.MaxBodyBytes {
		g.bodyTooLarge()
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
			fmt.Sprintf("request body exceeds max_body_bytes (%d bytes)", g.cfg.MaxBodyBytes))
		return false
	}
	return g.authorize(w, r, ip)
}

// authorize checks credentials where the rules require them.
func (g *Guard) authorize(w http.ResponseWriter, r *http.Request, ip netip.Addr) bool {
	p := requestPath(r)
	needed := anyMatches(g.protected, r.Method, p) || (!g.openReads && !anyMatches(g.public, r.Method, p))
	if !needed {
		return true
	}
	var reason string
	switch {
	case !g.creds.empty():
		reason = g.creds.check(r)
	case g.cfg.Auth.LoopbackWithoutCredentials && ip.IsLoopback():
		reason = ""
	default:
		reason = authNotConfigured
	}
	if reason == "" {
		return true
	}
	g.m.authFails.WithLabelValues(reason).Inc()
	if reason != authMissing && reason != authNotConfigured && g.banner != nil {
		g.banner.Failure(ip, ban.SourceHTTP, reason) // logs "auth failed"
	} else {
		g.lim.Info("http request refused: "+reason+" credentials", "ip", ip.String(), "method", r.Method, "path", p)
	}
	w.Header().Add("WWW-Authenticate", `Bearer realm="borda"`)
	w.Header().Add("WWW-Authenticate", `Basic realm="borda", charset="UTF-8"`)
	writeError(w, http.StatusUnauthorized, "unauthorized", "valid credentials are required: Authorization: Bearer TOKEN or basic auth")
	return false
}

func (g *Guard) bodyTooLarge() { g.m.tooLarge.Inc() }

// apiError is the error form of borda's JSON APIs (Prometheus envelope).
type apiError struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(apiError{Status: "error", ErrorType: typ, Error: msg})
}
