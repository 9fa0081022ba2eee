// Package broker embeds the MQTT broker (mochi-mqtt, MQTT 3.1.1 and 5) with
// borda's limits, persistence, metrics and connection accounting.
package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"path/filepath"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	boltstore "github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"
)

// Deps are what the broker needs from its surroundings.
type Deps struct {
	Logger   *slog.Logger          // already carries component=broker
	Registry prometheus.Registerer // metrics are registered here
	DataDir  string                // broker.db lives here when persistence is on
	// Hooks are added after borda's own hooks, in order (ingest tap, auth, ...).
	Hooks []mqtt.Hook
	// WrapListener wraps each bound listener before TLS and MQTT see a
	// connection (ban and connection-rate checks at accept); nil: none.
	WrapListener func(l net.Listener, name string) net.Listener
}

// Broker is the embedded MQTT broker. Create it with New, then Run it.
type Broker struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	limited *slog.Logger // rate-limited, for per-message and per-connection lines
	server  *mqtt.Server
	origin  *mqtt.Client // inline client for PublishFrom
	metrics *metrics

	mu    sync.Mutex
	addrs map[string]net.Addr
	certs map[string]*certSource // TLS listeners
	ready chan struct{}
}

// New builds the broker; nothing is bound or opened until Run.
func New(cfg Config, d Deps, limited *slog.Logger) *Broker {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClients = int64(cfg.MaxConnections)
	caps.MaximumInflight = uint16(cfg.MaxQueuedMessages)
	caps.ReceiveMaximum = uint16(cfg.MaxInflightMessages)
	caps.MaximumPacketSize = uint32(cfg.packetSize())
	caps.MaximumClientWritesPending = int32(cfg.MaxClientWritesPending)
	caps.MaximumMessageExpiryInterval = int64(cfg.MessageExpiry / time.Second)
	caps.MaximumSessionExpiryInterval = math.MaxUint32
	if cfg.SessionExpiry > 0 {
		caps.MaximumSessionExpiryInterval = uint32(min(cfg.SessionExpiry/time.Second, math.MaxUint32))
	}
	server := mqtt.New(&mqtt.Options{
		Capabilities: caps,
		Logger:       newMochiLogger(limited),
		InlineClient: true,
	})
	return &Broker{
		cfg: cfg, deps: d, log: d.Logger, limited: limited, server: server,
		origin:  server.NewClient(nil, mqtt.LocalListener, "borda-uplink", true),
		metrics: newMetrics(d.Registry, server.Info, cfg.MaxConnections),
		addrs:   map[string]net.Addr{},
		certs:   map[string]*certSource{},
		ready:   make(chan struct{}),
	}
}

// Server gives in-process components (ingest tap, rule actions) the
// mochi-mqtt server for inline publish and subscribe.
func (b *Broker) Server() *mqtt.Server { return b.server }

// ReloadTLS reads every TLS listener's certificate, key and client CA
// file again (certificate rotation on SIGHUP). A listener whose files do
// not load keeps serving its previous material; the errors are joined.
func (b *Broker) ReloadTLS() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for name, src := range b.certs {
		if err := src.reload(); err != nil {
			errs = append(errs, fmt.Errorf("listener %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Ready is closed once every listener is accepting connections.
func (b *Broker) Ready() <-chan struct{} { return b.ready }

// Addr returns the bound address of a listener (useful with port 0).
func (b *Broker) Addr(listener string) net.Addr {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addrs[listener]
}

// Run binds the listeners, loads persisted state and serves until ctx is
// cancelled; then it disconnects clients and closes the store.
func (b *Broker) Run(ctx context.Context) error {
	if err := b.addHooks(); err != nil {
		return err
	}
	if err := b.addListeners(); err != nil {
		_ = b.server.Close()
		return err
	}
	if err := b.server.Serve(); err != nil {
		_ = b.server.Close()
		return fmt.Errorf("broker: start serving: %w", err)
	}
	if len(b.cfg.Listeners) == 0 {
		b.log.Info("no listeners: the embedded broker only routes borda's own messages (attach-only)")
	}
	for _, l := range b.cfg.Listeners {
		b.log.Info("listening", "listener", l.Name, "protocol", l.Protocol, "address", b.Addr(l.Name).String())
	}
	close(b.ready)
	<-ctx.Done()
	b.log.Info("stopping: disconnecting clients and syncing the session store")
	if err := b.server.Close(); err != nil {
		return fmt.Errorf("broker: close: %w", err)
	}
	return nil
}

func (b *Broker) addHooks() error {
	guard := &guardHook{cfg: b.cfg, metrics: b.metrics, log: b.limited, now: time.Now}
	if err := b.server.AddHook(guard, nil); err != nil {
		return fmt.Errorf("broker: add guard hook: %w", err)
	}
	if b.cfg.Persistence.Enabled {
		path := filepath.Join(b.deps.DataDir, "broker.db")
		opts := &boltstore.Options{Path: path, Options: &bbolt.Options{Timeout: time.Second, NoSync: !b.cfg.Persistence.Fsync}}
		if err := b.server.AddHook(sessionStore{new(boltstore.Hook)}, opts); err != nil {
			return fmt.Errorf("broker: open session store %s (is another borda using this data directory?): %w", path, err)
		}
	}
	for _, h := range b.deps.Hooks {
		if err := b.server.AddHook(h, nil); err != nil {
			return fmt.Errorf("broker: add hook %s: %w", h.ID(), err)
		}
	}
	if len(b.deps.Hooks) == 0 || !hasAuth(b.deps.Hooks) {
		// Until authentication is configured, anyone on the network may connect.
		if err := b.server.AddHook(new(auth.AllowHook), nil); err != nil {
			return fmt.Errorf("broker: add allow-all hook: %w", err)
		}
	}
	return nil
}

func hasAuth(hooks []mqtt.Hook) bool {
	for _, h := range hooks {
		if h.Provides(mqtt.OnConnectAuthenticate) {
			return true
		}
	}
	return false
}

func (b *Broker) addListeners() error {
	for _, lc := range b.cfg.Listeners {
		l, err := b.listen(lc)
		if err != nil {
			return err
		}
		acc := &accountedListener{Listener: l, name: lc.Name, errors: b.metrics.connErrors, log: b.limited}
		if err := b.server.AddListener(acc); err != nil {
			return fmt.Errorf("broker: listener %q: %w", lc.Name, err)
		}
	}
	return nil
}

func (b *Broker) listen(lc ListenerConfig) (listeners.Listener, error) {
	ln, err := net.Listen("tcp", lc.Addr())
	if err != nil {
		return nil, fmt.Errorf("broker: listener %q cannot listen on %s (port %d): %w", lc.Name, lc.Addr(), lc.Port, err)
	}
	if b.deps.WrapListener != nil {
		ln = b.deps.WrapListener(ln, lc.Name)
	}
	if lc.TLS != nil {
		src, err := newCertSource(*lc.TLS)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("broker: listener %q: %w", lc.Name, err)
		}
		ln = tls.NewListener(ln, src.config())
		b.mu.Lock()
		b.certs[lc.Name] = src
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.addrs[lc.Name] = ln.Addr()
	b.mu.Unlock()
	if lc.Protocol == ProtocolWebsocket {
		return newWSListener(lc.Name, ln), nil
	}
	return listeners.NewNet(lc.Name, ln), nil
}
