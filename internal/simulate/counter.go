package simulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Counter is an MQTT subscriber that counts the messages it receives and
// measures publish -> delivery latency from the "sent" send time the
// simulator embeds in every reading. Use it to benchmark plain
// publish -> subscribe delivery of the same load on any broker.
type Counter struct {
	c        *conn
	wmu      sync.Mutex // guards c.bw (PUBACKs, PINGREQ, DISCONNECT)
	received atomic.Int64
	lat      histogram
	done     chan struct{} // closed when the reader stops
	err      error         // why the reader stopped; written before done is closed
	closing  atomic.Bool
	stopPing chan struct{}
	pinger   sync.WaitGroup
	once     sync.Once
	stopCtx  func() bool
}

// Subscribe connects with cfg's broker, credentials, TLS settings and
// ClientIDPrefix (client id <prefix>-sub) and subscribes to filter with
// QoS min(cfg.QoS, 1). Only those fields of cfg are used. The Counter runs
// until Close or until ctx is done.
func Subscribe(ctx context.Context, cfg Config, filter string) (*Counter, error) {
	cfg.applyDefaults()
	if cfg.QoS > 1 {
		return nil, fmt.Errorf("subscribe: qos %d is not supported (0 or 1)", cfg.QoS)
	}
	if filter == "" {
		return nil, errors.New("subscribe: empty topic filter")
	}
	d, err := newDialer(&cfg)
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	c, err := d.dial(ctx, cfg.ClientIDPrefix+"-sub")
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	k := &Counter{c: c, done: make(chan struct{}), stopPing: make(chan struct{})}
	if err := k.subscribe(filter, cfg.QoS); err != nil {
		c.nc.Close()
		return nil, fmt.Errorf("subscribe %q: %w", filter, err)
	}
	go k.readLoop()
	k.pinger.Go(k.pingLoop)
	k.wmu.Lock() // Close may run at once if ctx is already done
	k.stopCtx = context.AfterFunc(ctx, func() { _ = k.Close() })
	k.wmu.Unlock()
	return k, nil
}

// subscribe sends SUBSCRIBE and waits for its SUBACK (deliveries that
// arrive first are counted).
func (k *Counter) subscribe(filter string, qos byte) error {
	_ = k.c.nc.SetDeadline(time.Now().Add(connectTimeout))
	defer k.c.nc.SetDeadline(time.Time{})
	if _, err := k.c.bw.Write(subscribePacket(1, filter, qos)); err != nil {
		return err
	}
	if err := k.c.bw.Flush(); err != nil {
		return err
	}
	var buf []byte
	for {
		p, err := readPacket(k.c.br, &buf)
		if err != nil {
			return fmt.Errorf("waiting for SUBACK: %w", err)
		}
		switch p.Type {
		case pktSuback:
			if len(p.Codes) != 1 || p.Codes[0] > 2 {
				return fmt.Errorf("refused by the broker (SUBACK code %#x)", p.Codes[0])
			}
			return nil
		case pktPublish:
			if err := k.deliver(&p); err != nil {
				return err
			}
		}
	}
}

func (k *Counter) readLoop() {
	defer close(k.done)
	var buf []byte
	pending := false // PUBACKs written but not flushed
	for {
		p, err := readPacket(k.c.br, &buf)
		if err != nil {
			if !k.closing.Load() {
				k.err = fmt.Errorf("subscriber read: %w", err)
			}
			return
		}
		if p.Type == pktPublish {
			if err := k.deliver(&p); err != nil {
				k.err = err
				return
			}
			pending = pending || p.QoS() > 0
		}
		if pending && k.c.br.Buffered() == 0 {
			k.wmu.Lock()
			err := k.c.bw.Flush()
			k.wmu.Unlock()
			if err != nil && !k.closing.Load() {
				k.err = fmt.Errorf("subscriber write: %w", err)
				return
			}
			pending = false
		}
	}
}

// deliver counts one PUBLISH, records its latency and, for QoS 1, writes
// its PUBACK (flushed by the caller).
func (k *Counter) deliver(p *packet) error {
	now := time.Now().UnixNano()
	k.received.Add(1)
	if sent := sentStamp(p.Payload); sent > 0 {
		k.lat.record(now - sent)
	}
	if p.QoS() == 0 {
		return nil
	}
	ack := pubackPacket(p.ID)
	k.wmu.Lock()
	_, err := k.c.bw.Write(ack[:])
	k.wmu.Unlock()
	if err != nil && !k.closing.Load() {
		return fmt.Errorf("subscriber write: %w", err)
	}
	return nil
}

// sentStamp extracts the simulator's "sent":"<unix ns>" member, or 0.
func sentStamp(payload []byte) int64 {
	const key = `"sent":"`
	i := bytes.LastIndex(payload, []byte(key))
	if i < 0 {
		return 0
	}
	var v int64
	for j, c := range payload[i+len(key):] {
		if c == '"' && j > 0 {
			return v
		}
		if c < '0' || c > '9' || j >= 19 {
			return 0
		}
		v = v*10 + int64(c-'0')
	}
	return 0 // no closing quote: a truncated payload
}

func (k *Counter) pingLoop() {
	t := time.NewTicker(keepAlive / 2)
	defer t.Stop()
	for {
		select {
		case <-k.stopPing:
			return
		case <-t.C:
			k.wmu.Lock()
			if k.c.writeEmpty(pktPingreq) == nil {
				_ = k.c.bw.Flush()
			}
			k.wmu.Unlock()
		}
	}
}

// Received is the number of messages delivered so far.
func (k *Counter) Received() int64 { return k.received.Load() }

// Latency summarises publish -> delivery latency of the messages that
// carried a send time. The publisher's and this process's clocks are
// compared, so run both on one machine.
func (k *Counter) Latency() Percentiles { return k.lat.percentiles() }

// Err returns why the subscription failed, or nil while it works (and
// after a Close).
func (k *Counter) Err() error {
	select {
	case <-k.done:
		return k.err
	default:
		return nil
	}
}

// Wait waits until at least n messages have been delivered, the
// subscription fails, or ctx is done.
func (k *Counter) Wait(ctx context.Context, n int64) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for k.Received() < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("received %d of %d messages: %w", k.Received(), n, ctx.Err())
		case <-k.done:
			if k.Received() >= n {
				return nil
			}
			return fmt.Errorf("received %d of %d messages: subscription ended: %v", k.Received(), n, k.err)
		case <-t.C:
		}
	}
	return nil
}

// Close disconnects and stops the Counter's goroutines. The counts stay
// readable. It is safe to call more than once.
func (k *Counter) Close() error {
	k.once.Do(func() {
		k.wmu.Lock()
		stop := k.stopCtx
		k.wmu.Unlock()
		if stop != nil {
			stop()
		}
		k.closing.Store(true)
		close(k.stopPing)
		k.pinger.Wait()
		k.wmu.Lock()
		_ = k.c.close()
		k.wmu.Unlock()
		<-k.done
	})
	return nil
}
