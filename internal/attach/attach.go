// Package attach ingests from an existing MQTT broker (Mosquitto, EMQX,
// HiveMQ, VerneMQ, NanoMQ) as an MQTT 5 client: persistent session, shared
// subscriptions, QoS 1 acknowledged only after the readings are stored.
package attach

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/pipeline"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// Ingester is the ingest pipeline as an attachment uses it: decode,
// evaluate rules and queue in the caller's order, then report the store's
// result on the returned channel.
type Ingester interface {
	IngestAsync(topic string, payload []byte, received time.Time) <-chan error
}

// Forwarder takes messages for the uplink's MQTT bridges (the same as
// for the embedded broker's publishes): it returns once the message is
// durably queued, and counts its own failures.
type Forwarder interface {
	Wants(topic string) bool
	Forward(ctx context.Context, topic string, payload []byte, retain bool, origin string) error
}

// Deps are the client's collaborators.
type Deps struct {
	Logger   *slog.Logger
	Limited  *slog.Logger // rate-limited; nil uses Logger
	Registry prometheus.Registerer
	Ingest   Ingester
	Node     string    // for the default client id
	DataDir  string    // where the rule actions' queue lives ("" = not queued)
	Forward  Forwarder // nil: no MQTT bridge takes attached messages
}

// Client is one attachment.
type Client struct {
	cfg    Config
	d      Deps
	met    *metrics
	ready  chan struct{}
	sem    chan struct{} // one slot per message being stored
	stored sync.WaitGroup

	actions *queue.Queue // rule actions waiting for the broker (nil: not queued)
	roster  *roster      // peers' presence (nil without peers)
	adopt   *adopter     // sessions adopted from offline peers (nil without peers)

	mu       sync.Mutex
	cm       *autopaho.ConnectionManager
	up       bool
	stopping bool
}

// New checks cfg; Run connects.
func New(cfg Config, d Deps) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Limited == nil {
		d.Limited = d.Logger
	}
	if d.Ingest == nil {
		return nil, fmt.Errorf("attach %s: Deps.Ingest is required", cfg.Name)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "borda-" + d.Node + "-" + cfg.Name
		if err := errors.Join(cfg.Peers.validate(cfg.SessionExpiry, cfg.ClientID)...); err != nil {
			return nil, fmt.Errorf("attach %s: %w", cfg.Name, err)
		}
	}
	c := &Client{cfg: cfg, d: d, met: newMetrics(cfg.Name), ready: make(chan struct{}),
		sem: make(chan struct{}, int(cfg.ReceiveMaximum))}
	if cfg.Peers.enabled() {
		c.roster = newRoster(cfg.Peers.ClientIDs, cfg.ClientID)
		c.adopt = newAdopter(c)
	}
	if err := c.openActions(); err != nil {
		return nil, err
	}
	return c, nil
}

// Ready is closed once Run has started connecting: like the cloud link, a
// broker that is down is waited for, not a start-up failure.
func (c *Client) Ready() <-chan struct{} { return c.ready }

// Connected reports whether the session is up.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

// Run connects (again and again, with backoff) until ctx ends, then stops
// taking messages, waits for those being stored, lets their
// acknowledgements go out and disconnects. Messages not yet stored are not
// acknowledged: the broker sends them again to this session.
func (c *Client) Run(ctx context.Context) error {
	if err := c.met.register(c.d.Registry); err != nil {
		return fmt.Errorf("attach %s: %w", c.cfg.Name, err)
	}
	defer c.met.group.Unregister()
	pc, err := c.pahoConfig()
	if err != nil {
		return fmt.Errorf("attach %s: %w", c.cfg.Name, err)
	}
	connCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cm, err := autopaho.NewConnection(connCtx, pc)
	if err != nil {
		return fmt.Errorf("attach %s: %w", c.cfg.Name, err)
	}
	c.mu.Lock()
	c.cm = cm
	c.mu.Unlock()
	var sender sync.WaitGroup
	if c.actions != nil {
		defer c.actions.Close()
		sender.Go(func() { c.sendActions(ctx, cm) })
	}
	close(c.ready)
	<-ctx.Done()
	sender.Wait()

	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	c.stored.Wait()
	time.Sleep(2 * ackInterval) // let the last acknowledgements go out
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	c.leaveGroup(dctx, cm)
	_ = cm.Disconnect(dctx)
	cancel()
	<-cm.Done()
	return nil
}

const ackInterval = 20 * time.Millisecond

func (c *Client) pahoConfig() (autopaho.ClientConfig, error) {
	u, secure, _ := brokerURL(c.cfg.Address) // validated
	pc := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     uint16(c.cfg.Keepalive / time.Second),
		CleanStartOnInitialConnection: c.cfg.SessionExpiry == 0,
		SessionExpiryInterval:         uint32(c.cfg.SessionExpiry / time.Second),
		ConnectTimeout:                10 * time.Second,
		OnConnectionUp:                c.onUp,
		OnConnectionDown:              c.onDown,
		OnConnectError:                c.onConnectError,
		WillMessage:                   c.will(),
		WillProperties:                &paho.WillProperties{},
		ClientConfig: paho.ClientConfig{
			ClientID:                   c.cfg.ClientID,
			OnPublishReceived:          []func(paho.PublishReceived) (bool, error){c.onPublish},
			EnableManualAcknowledgment: true,
			SendAcksInterval:           ackInterval,
			OnClientError:              func(err error) { c.d.Limited.Warn("attach: client error", "broker", c.cfg.Name, "err", err) },
		},
	}
	retry := c.cfg.Backoff.Start()
	pc.ReconnectBackoff = func(attempt int) time.Duration {
		if attempt == 0 {
			retry.Reset()
			return 0
		}
		return retry.Next()
	}
	if secure {
		tc, err := c.cfg.TLS.Load()
		if err != nil {
			return pc, err
		}
		tc.ServerName = u.Hostname()
		pc.TlsCfg = tc
	}
	user, pass, err := c.credentials()
	if err != nil {
		return pc, err
	}
	pc.ConnectUsername, pc.ConnectPassword = user, pass
	pc.ConnectPacketBuilder = func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
		if cp.Properties == nil {
			cp.Properties = &paho.ConnectProperties{}
		}
		rm := c.cfg.ReceiveMaximum
		cp.Properties.ReceiveMaximum = &rm
		return cp, nil
	}
	return pc, nil
}

func (c *Client) credentials() (string, []byte, error) {
	if c.cfg.PasswordFile == "" {
		if c.cfg.Password == "" {
			return c.cfg.Username, nil, nil
		}
		return c.cfg.Username, []byte(c.cfg.Password), nil
	}
	b, err := os.ReadFile(c.cfg.PasswordFile)
	if err != nil {
		return "", nil, fmt.Errorf("password_file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return c.cfg.Username, []byte(strings.TrimRight(line, "\r")), nil
}

// onUp subscribes (again: a broker that lost the session has none).
func (c *Client) onUp(cm *autopaho.ConnectionManager, ack *paho.Connack) {
	subs := make([]paho.SubscribeOptions, len(c.cfg.Subscriptions))
	for i, f := range c.cfg.Subscriptions {
		subs[i] = paho.SubscribeOptions{Topic: f, QoS: c.cfg.QoS}
	}
	if c.roster != nil {
		for _, f := range c.cfg.Peers.presenceFilters(c.cfg.ClientID) {
			subs = append(subs, paho.SubscribeOptions{Topic: f, QoS: 1})
		}
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sa, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs})
		if err != nil {
			c.d.Limited.Warn("attach: subscribe failed", "broker", c.cfg.Name, "err", err)
			return
		}
		for i, code := range sa.Reasons {
			if code >= 0x80 && i < len(subs) {
				c.d.Logger.Error("attach: subscription refused by the broker", "broker", c.cfg.Name,
					"filter", subs[i].Topic, "reason_code", code)
			}
		}
		c.announce(ctx, cm)
	}()
	c.mu.Lock()
	c.up = true
	c.mu.Unlock()
	c.met.connected.Set(1)
	c.d.Logger.Info("attach: connected", "broker", c.cfg.Name, "address", c.cfg.Address,
		"session_present", ack.SessionPresent, "client_id", c.cfg.ClientID)
}

func (c *Client) onDown() bool {
	c.mu.Lock()
	c.up = false
	stopping := c.stopping
	c.mu.Unlock()
	if c.roster != nil {
		c.roster.setSelf(false)
	}
	c.met.connected.Set(0)
	c.met.disconnects.Inc()
	if !stopping {
		c.d.Logger.Warn("attach: connection lost; reconnecting", "broker", c.cfg.Name)
	}
	return true
}

func (c *Client) onConnectError(err error) {
	c.met.connectErrors.Inc()
	c.d.Limited.Warn("attach: cannot connect; retrying with backoff", "broker", c.cfg.Name, "err", err)
}

// onPublish runs on paho's receive goroutine, one message after the
// other: decoding, rules and queueing happen here in arrival order (the
// queue applies backpressure by blocking); waiting for the store and the
// acknowledgement happen in a goroutine, at most receive_maximum at once.
func (c *Client) onPublish(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	if c.presence(pr) {
		return true, nil
	}
	c.met.received.Inc()
	c.mu.Lock()
	stopping := c.stopping
	if !stopping {
		c.stored.Add(1)
	}
	c.mu.Unlock()
	if stopping { // not acknowledged: the broker keeps it for this session
		return true, nil
	}
	c.forward(p)
	c.sem <- struct{}{}
	done := c.d.Ingest.IngestAsync(p.Topic, p.Payload, time.Now())
	go func() {
		defer c.stored.Done()
		defer func() { <-c.sem }()
		if err := <-done; err != nil {
			if errors.Is(err, pipeline.ErrStopped) {
				// Shutting down: not acknowledged, so the broker sends it
				// again to this session at the next start.
				return
			}
			// The store refused the batch (disk full, ...): counted and
			// logged here and by the pipeline, then acknowledged, so one
			// bad batch does not stop the stream.
			c.met.failed.Inc()
			c.d.Limited.Warn("attach: reading not stored", "broker", c.cfg.Name, "topic", p.Topic, "err", err)
		}
		if p.QoS > 0 {
			if err := pr.Client.Ack(p); err != nil {
				c.d.Limited.Debug("attach: acknowledge", "broker", c.cfg.Name, "err", err)
			}
		}
	}()
	return true, nil
}

// forward queues p for the uplink's MQTT bridges, in arrival order, before
// it is acknowledged. A failure does not hold the stream up: the uplink
// counted it, the reading is still stored locally.
func (c *Client) forward(p *paho.Publish) {
	if c.d.Forward == nil || !c.d.Forward.Wants(p.Topic) {
		return
	}
	if err := c.d.Forward.Forward(context.Background(), p.Topic, p.Payload, p.Retain, ""); err != nil {
		c.d.Limited.Warn("attach: uplink could not queue a message; stored locally only", "broker", c.cfg.Name,
			"topic", p.Topic, "err", err)
	}
}
