package simulate

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// alertQoS is the QoS the alert subscriber asks for: borda publishes
// alerts at QoS 2, like the seed.
const alertQoS = 2

// alertSub is the subscriber of Config.ExpectAlerts. Unlike Counter it
// takes QoS 2 deliveries: it hands a PUBLISH to the matcher when it
// arrives, answers PUBREC, remembers the packet id until the broker's
// PUBREL (a redelivery of that id in between is not handed on again) and
// answers that with PUBCOMP.
type alertSub struct {
	c        *conn
	m        *alertMatcher
	granted  byte
	wmu      sync.Mutex // guards c.bw (acknowledgements, PINGREQ, DISCONNECT)
	done     chan struct{}
	err      error // why the reader stopped; written before done is closed
	closing  atomic.Bool
	stopPing chan struct{}
	pinger   sync.WaitGroup
	once     sync.Once
	inbound  map[uint16]struct{} // QoS 2 ids handed on, awaiting PUBREL (reader goroutine only)
	unacked  bool                // acknowledgements written, not flushed (reader goroutine only)
}

// subscribeAlerts connects as <ClientIDPrefix>-alerts and subscribes to
// cfg.AlertFilter at QoS 2 (the broker may grant less).
func subscribeAlerts(ctx context.Context, cfg *Config, m *alertMatcher) (*alertSub, error) {
	d, err := newDialer(cfg)
	if err != nil {
		return nil, fmt.Errorf("alert subscriber: %w", err)
	}
	c, err := d.dial(ctx, cfg.ClientIDPrefix+"-alerts")
	if err != nil {
		return nil, fmt.Errorf("alert subscriber: %w", err)
	}
	s := &alertSub{c: c, m: m, done: make(chan struct{}), stopPing: make(chan struct{}), inbound: map[uint16]struct{}{}}
	if err := s.subscribe(cfg.AlertFilter); err != nil {
		c.nc.Close()
		return nil, fmt.Errorf("alert subscriber: subscribe %q: %w", cfg.AlertFilter, err)
	}
	go s.readLoop()
	s.pinger.Go(s.pingLoop)
	return s, nil
}

// subscribe sends SUBSCRIBE and waits for its SUBACK, handling what
// arrives first.
func (s *alertSub) subscribe(filter string) error {
	_ = s.c.nc.SetDeadline(time.Now().Add(connectTimeout))
	defer s.c.nc.SetDeadline(time.Time{})
	if _, err := s.c.bw.Write(subscribePacket(1, filter, alertQoS)); err != nil {
		return err
	}
	if err := s.c.bw.Flush(); err != nil {
		return err
	}
	var buf []byte
	for {
		p, err := readPacket(s.c.br, &buf)
		if err != nil {
			return fmt.Errorf("waiting for SUBACK: %w", err)
		}
		if p.Type == pktSuback {
			if len(p.Codes) != 1 || p.Codes[0] > 2 {
				return fmt.Errorf("refused by the broker (SUBACK code %#x)", p.Codes[0])
			}
			s.granted = p.Codes[0]
			return s.flush()
		}
		if err := s.handle(&p); err != nil {
			return err
		}
	}
}

func (s *alertSub) readLoop() {
	defer close(s.done)
	var buf []byte
	for {
		p, err := readPacket(s.c.br, &buf)
		if err == nil {
			err = s.handle(&p)
		}
		if err == nil && s.unacked && s.c.br.Buffered() == 0 {
			err = s.flush()
		}
		if err != nil {
			if !s.closing.Load() {
				s.err = fmt.Errorf("alert subscriber: %w", err)
			}
			return
		}
	}
}

// handle hands a PUBLISH to the matcher and writes the acknowledgements
// of its QoS (flushed once the reader has nothing buffered).
func (s *alertSub) handle(p *packet) error {
	var ack [4]byte
	switch p.Type {
	case pktPublish:
		now := time.Now().UnixNano()
		switch p.QoS() {
		case 0:
			s.m.receive(p.Payload, now)
			return nil
		case 1:
			s.m.receive(p.Payload, now)
			ack = pubackPacket(p.ID)
		default:
			if _, dup := s.inbound[p.ID]; !dup {
				s.m.receive(p.Payload, now)
				s.inbound[p.ID] = struct{}{}
			}
			ack = pubrecPacket(p.ID)
		}
	case pktPubrel:
		delete(s.inbound, p.ID)
		ack = pubcompPacket(p.ID)
	default:
		return nil
	}
	s.wmu.Lock()
	_, err := s.c.bw.Write(ack[:])
	s.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	s.unacked = true
	return nil
}

func (s *alertSub) flush() error {
	s.wmu.Lock()
	err := s.c.bw.Flush()
	s.wmu.Unlock()
	s.unacked = false
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func (s *alertSub) pingLoop() {
	t := time.NewTicker(keepAlive / 2)
	defer t.Stop()
	for {
		select {
		case <-s.stopPing:
			return
		case <-t.C:
			s.wmu.Lock()
			if s.c.writeEmpty(pktPingreq) == nil {
				_ = s.c.bw.Flush()
			}
			s.wmu.Unlock()
		}
	}
}

// Err returns why the subscription failed, or nil while it works (and
// after a Close).
func (s *alertSub) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close disconnects and stops the goroutines; safe to call more than once.
func (s *alertSub) Close() {
	s.once.Do(func() {
		s.closing.Store(true)
		close(s.stopPing)
		s.pinger.Wait()
		s.wmu.Lock()
		_ = s.c.close()
		s.wmu.Unlock()
		<-s.done
	})
}
