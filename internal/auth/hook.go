package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
)

// Failures is told about every failed MQTT authentication (the ban
// component counts them per source IP). remote is the client's IP address
// without port; username is what the client sent (any bytes; quote it when
// logging); reason is one of the Reason constants. It is called on the
// connecting client's goroutine and must not block.
type Failures interface {
	AuthFailed(remote string, username, reason string)
}

// Deps are what the hook needs from its surroundings.
type Deps struct {
	Logger   *slog.Logger          // carries component=auth: start-up warnings, reloads, every auth failure
	Limited  *slog.Logger          // rate-limited, component=auth: ACL denials; nil uses Logger
	Registry prometheus.Registerer // metrics are registered here
	Failures Failures              // nil: nobody is told
}

// slotWait bounds how long a login waits for a password check slot.
const slotWait = 10 * time.Second

// Hook is the mochi-mqtt hook for authentication and ACLs. Pass it in
// broker Deps.Hooks; it must be the only hook providing
// OnConnectAuthenticate and OnACLCheck (mochi-mqtt allows when any hook does).
type Hook struct {
	mqtt.HookBase
	log      *slog.Logger
	limited  *slog.Logger
	failures Failures
	metrics  *metrics
	denials  map[string]prometheus.Counter
	slots    chan struct{} // bounds concurrent password checks
	slotWait time.Duration
	pending  pendingSubs

	mu    sync.Mutex // serializes Apply and Reload
	cfg   Config     // last applied; guarded by mu
	state atomic.Pointer[state]

	dmu     sync.Mutex
	dummies map[int]credential // by bcrypt cost, made on first use; guarded by dmu
}

// New validates cfg, reads the password file, registers the metrics and
// logs a warning when anonymous clients are allowed.
func New(cfg Config, d Deps) (*Hook, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Limited == nil {
		d.Limited = d.Logger
	}
	if d.Registry == nil {
		return nil, errors.New("auth: Deps.Registry is required")
	}
	st, err := load(cfg)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	h := &Hook{
		log: d.Logger, limited: d.Limited, failures: d.Failures, metrics: m, dummies: map[int]credential{},
		slots:    make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1)),
		slotWait: slotWait,
		denials:  map[string]prometheus.Counter{},
		cfg:      cfg,
	}
	for _, a := range []string{ActionPublish, ActionSubscribe, ActionRead} {
		h.denials[a] = m.denied.WithLabelValues(a)
	}
	h.install(st)
	return h, nil
}

// Reload re-reads the password file (SIGHUP). On error the previous users
// and rules stay in force and the error is returned (and logged).
func (h *Hook) Reload() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.apply(h.cfg)
}

// Apply replaces the whole configuration (users, password file, ACL,
// anonymous policy) atomically; on error nothing changes. Connected
// clients stay connected; their next ACL checks use the new rules.
func (h *Hook) Apply(cfg Config) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.apply(cfg)
}

func (h *Hook) apply(cfg Config) error {
	st, err := load(cfg)
	if err != nil {
		h.metrics.reloads.WithLabelValues("failure").Inc()
		h.log.Error("auth configuration not reloaded; the previous users and ACL stay in force", "error", err)
		return err
	}
	h.metrics.reloads.WithLabelValues("success").Inc()
	h.cfg = cfg
	h.install(st)
	return nil
}

// install makes st the state in force. Called with mu held (or from New).
func (h *Hook) install(st *state) {
	h.state.Store(st)
	h.metrics.users.Set(float64(len(st.users)))
	h.log.Info("auth configuration loaded", "users", len(st.users), "acl_rules", st.rules,
		"anonymous", st.policy, "cert_cn_as_username", st.certCN)
	switch {
	case st.policy == AnonymousLoopback && st.auto:
		h.log.Warn("no MQTT users are configured: anonymous clients are allowed from loopback only (127.0.0.0/8, ::1); " +
			"add users with `borda passwd FILE USER` and set auth.password_file to require passwords")
	case st.policy == AnonymousLoopback:
		h.log.Warn("anonymous MQTT clients are allowed from loopback (auth.anonymous: loopback)")
	case st.policy == AnonymousOn:
		h.log.Warn("anonymous MQTT clients are allowed from any address (auth.anonymous: on); this is not recommended")
	case len(st.users) == 0 && !st.certCN:
		h.log.Warn("no MQTT users are configured and anonymous clients are refused: no client can connect")
	}
	for _, u := range st.strangers {
		h.log.Warn("an ACL rule names a user that is not defined; the rule applies to nobody", "user", u)
	}
	if st.acl == nil && (len(st.users) > 0 || st.certCN) {
		h.log.Info("no ACL rules (auth.acl): every connected client may publish and subscribe to every topic")
	}
}

// dummy returns the hash checked for unknown users, made on first use.
// Should making it fail (no randomness), unknown users still fail, faster.
func (h *Hook) dummy(cost int) credential {
	h.dmu.Lock()
	defer h.dmu.Unlock()
	if d, ok := h.dummies[cost]; ok {
		return d
	}
	d, err := dummyCredential(cost)
	if err != nil {
		h.log.Error("auth: cannot make the hash checked for unknown users", "error", err)
		return d
	}
	h.dummies[cost] = d
	return d
}

// ID names the hook in mochi-mqtt.
func (h *Hook) ID() string { return "borda-auth" }

// Provides lists the mochi-mqtt events the hook handles.
func (h *Hook) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mqtt.OnConnectAuthenticate,
		mqtt.OnACLCheck,
		mqtt.OnPacketRead,
		mqtt.OnSubscribe,
		mqtt.OnSubscribed,
		mqtt.OnDisconnect,
	}, []byte{b})
}

// OnACLCheck decides publishes (write), SUBSCRIBE filters and deliveries.
// mochi-mqtt passes no QoS and does not say whether a read check is for a
// filter or a delivery: a shared or wildcard filter, or a filter of the
// SUBSCRIBE being processed, is a subscribe check; anything else is a
// delivery (read) check.
func (h *Hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if cl.Net.Inline {
		return true // borda's own in-process client
	}
	st := h.state.Load()
	if st.acl == nil {
		return true
	}
	id := identityOf(cl)
	var action string
	var ok bool
	switch {
	case write:
		action, ok = ActionPublish, st.acl.allowTopic(id, topic, canWrite)
	case h.pending.take(cl, topic) || isShared(topic) || hasWildcard(topic):
		action, ok = ActionSubscribe, st.acl.allowSubscribe(id, subscriptionFilter(topic))
	default:
		action, ok = ActionRead, st.acl.allowTopic(id, topic, canRead)
	}
	if !ok {
		h.denied(action, cl, topic)
	}
	return ok
}

func denialMessage(action string) string {
	switch action {
	case ActionPublish:
		return "mqtt publish denied by acl"
	case ActionSubscribe:
		return "mqtt subscribe denied by acl"
	}
	return "mqtt delivery denied by acl"
}

// denied counts a denial and logs it (rate-limited; deliveries at debug
// level, as they follow from a subscription that was allowed).
func (h *Hook) denied(action string, cl *mqtt.Client, topic string) {
	h.denials[action].Inc()
	lvl := slog.LevelWarn
	if action == ActionRead {
		lvl = slog.LevelDebug
	}
	h.limited.Log(context.Background(), lvl, denialMessage(action), "client", cl.ID,
		"username", string(cl.Properties.Username), "remote", cl.Net.Remote, "topic", topic,
		"protocol", cl.Properties.ProtocolVersion)
}

// OnPacketRead resolves the topic alias of an MQTT 5 PUBLISH that has no
// topic name, so that OnACLCheck sees the real topic: mochi-mqtt checks
// the ACL before it resolves aliases, and would check the empty name.
func (h *Hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Type == packets.Publish && pk.TopicName == "" && pk.Properties.TopicAliasFlag &&
		pk.Properties.TopicAlias > 0 && !cl.Net.Inline && h.state.Load().acl != nil {
		pk.TopicName = cl.State.TopicAliases.Inbound.Set(pk.Properties.TopicAlias, "") // a lookup when set
	}
	return pk, nil
}

// OnSubscribe notes the single-topic filters of a SUBSCRIBE (see pendingSubs).
func (h *Hook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if cl.Net.Inline || h.state.Load().acl == nil {
		return pk
	}
	var exact []string
	for _, f := range pk.Filters {
		if !hasWildcard(f.Filter) && !isShared(f.Filter) {
			exact = append(exact, f.Filter)
		}
	}
	h.pending.put(cl, exact)
	return pk
}

// OnSubscribed ends the SUBSCRIBE that OnSubscribe noted.
func (h *Hook) OnSubscribed(cl *mqtt.Client, _ packets.Packet, _ []byte) { h.pending.clear(cl) }

// OnDisconnect drops anything noted for the client.
func (h *Hook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) { h.pending.clear(cl) }

// String describes the hook for logs.
func (h *Hook) String() string {
	st := h.state.Load()
	return fmt.Sprintf("auth(users=%d, acl_rules=%d, anonymous=%s)", len(st.users), st.rules, st.policy)
}
