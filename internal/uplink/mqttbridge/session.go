package mqttbridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/borda-edge/borda/internal/uplink/link"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

var errLost = errors.New("connection lost")

// loop connects and drains until ctx ends, backing off between attempts.
func (b *Bridge) loop(ctx context.Context, q *queue.Queue) {
	retry := b.cfg.Backoff.Start()
	for ctx.Err() == nil {
		if b.gate.Paused() {
			retry.Reset()
		}
		if err := b.gate.Wait(ctx); err != nil {
			return
		}
		connected, err := b.session(ctx, q)
		if ctx.Err() != nil {
			return
		}
		if connected {
			retry.Reset() // the link worked: start over
		} else {
			b.met.ConnectFailures.Inc()
		}
		wait := retry.Next()
		b.deps.Limited.Warn("uplink disconnected, retrying", "output", b.cfg.Name, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// session runs one connection: connect, subscribe In, drain until the
// connection is lost or ctx ends. connected reports whether CONNACK came.
func (b *Bridge) session(ctx context.Context, q *queue.Queue) (connected bool, err error) {
	lost := make(chan struct{})
	var once sync.Once
	opts, err := b.clientOptions(func() { once.Do(func() { close(lost) }) })
	if err != nil {
		return false, err
	}
	c := mqtt.NewClient(opts)
	if err := waitToken(ctx, c.Connect(), lost); err != nil {
		c.Disconnect(0)
		return false, fmt.Errorf("connect %s: %w", b.cfg.Address, err)
	}
	defer c.Disconnect(250)
	if err := b.subscribeIn(ctx, c, lost); err != nil {
		return true, err
	}
	if err := b.remoteStatus(ctx, c, link.Online); err != nil {
		return true, err
	}
	defer func() { // also when paused; best effort (ctx may be over): the will says it otherwise
		octx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = b.remoteStatus(octx, c, link.Offline)
	}()
	b.status.Set(link.Online)
	b.log.Info("uplink connected", "address", b.cfg.Address)
	defer b.status.Set(link.Offline)
	paused := b.gate.PausedC()
	defer once.Do(func() { close(lost) }) // ends the watcher below
	go func() {                           // Pause ends the session like a lost connection
		select {
		case <-paused:
			once.Do(func() { close(lost) })
		case <-lost:
		}
	}()
	return true, b.drain(ctx, q, c, lost)
}

func (b *Bridge) clientOptions(onLost func()) (*mqtt.ClientOptions, error) {
	addr := b.cfg.Address
	if rest, ok := strings.CutPrefix(addr, "mqtts://"); ok {
		addr = "ssl://" + rest
	}
	o := mqtt.NewClientOptions().AddBroker(addr).SetClientID(b.cfg.clientID()).
		SetUsername(b.cfg.Username).SetPassword(b.cfg.Password).
		SetCleanSession(b.cfg.CleanSession).SetKeepAlive(b.cfg.Keepalive).
		SetAutoReconnect(false).SetConnectRetry(false).SetProtocolVersion(4).
		SetOrderMatters(true).SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { b.handleIn(m) }).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			b.log.Warn("uplink connection lost", "err", err)
			onLost()
		})
	if t := b.cfg.remoteStatusTopic(); t != "" {
		o.SetBinaryWill(t, []byte(link.Offline), 1, true)
	}
	if strings.HasPrefix(addr, "ssl://") || strings.HasPrefix(addr, "tls://") {
		tc, err := b.cfg.TLS.Load()
		if err != nil {
			return nil, err
		}
		o.SetTLSConfig(tc)
	}
	return o, nil
}

// waitToken waits for tok, the connection loss or ctx.
func waitToken(ctx context.Context, tok mqtt.Token, lost <-chan struct{}) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-lost:
		return errLost
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Bridge) subscribeIn(ctx context.Context, c mqtt.Client, lost <-chan struct{}) error {
	if len(b.cfg.In) == 0 {
		return nil
	}
	filters := make(map[string]byte, len(b.cfg.In))
	for _, m := range b.cfg.In {
		filters[m.Filter] = min(m.QoS, 1)
	}
	if err := waitToken(ctx, c.SubscribeMultiple(filters, nil), lost); err != nil {
		return fmt.Errorf("subscribe in mappings: %w", err)
	}
	return nil
}

// handleIn republishes a cloud message locally through its In mapping.
func (b *Bridge) handleIn(m mqtt.Message) {
	mp, ok := findMapping(b.cfg.In, m.Topic())
	if !ok || b.deps.Local == nil {
		return
	}
	topic := mp.apply(m.Topic())
	if err := b.deps.Local.PublishFrom(b.cfg.Name, topic, m.Payload(), m.Retained(), min(mp.QoS, m.Qos())); err != nil {
		b.deps.Limited.Warn("republish in message", "output", b.cfg.Name, "topic", topic, "err", err)
		return
	}
	b.met.inMessages.Inc()
}

// remoteStatus sets this gateway's retained status on the cloud broker.
func (b *Bridge) remoteStatus(ctx context.Context, c mqtt.Client, state string) error {
	t := b.cfg.remoteStatusTopic()
	if t == "" || !c.IsConnectionOpen() {
		return nil
	}
	if err := waitToken(ctx, c.Publish(t, 1, true, state), nil); err != nil {
		return fmt.Errorf("publish remote status %s: %w", t, err)
	}
	return nil
}
