package simulate

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// errStopped ends a send loop normally (the run's context is done).
var errStopped = errors.New("stopped")

// publisher pipelines PUBLISHes on one connection. The sending goroutine
// owns the writer; a reader goroutine handles PUBACKs (QoS 1) and
// PINGRESPs, and wakes the sender when its inflight window has room.
type publisher struct {
	c      *conn
	qos    byte
	window int64
	hdr    []byte // scratch for the fixed header

	inflight  atomic.Int64
	sentAt    []atomic.Int64 // QoS 1: send time (Unix ns) by packet id, 0 = free
	nextID    uint16
	notify    chan struct{} // cap 1: inflight fell to wantBelow
	wantBelow atomic.Int64  // the sender waits for inflight <= wantBelow; -1 = not waiting
	dead      chan struct{} // closed when the reader stops
	readErr   error         // why the reader stopped; written before dead is closed
	closing   atomic.Bool

	acks       histogram // publish -> PUBACK
	acked      atomic.Int64
	unexpected atomic.Int64 // PUBACKs for no outstanding packet id
}

func newPublisher(c *conn, qos byte, window int) *publisher {
	p := &publisher{c: c, qos: qos, window: int64(window), notify: make(chan struct{}, 1), dead: make(chan struct{})}
	p.wantBelow.Store(-1)
	if qos > 0 {
		p.sentAt = make([]atomic.Int64, 1<<16)
	}
	go p.readLoop()
	return p
}

// reserve waits, flushing, until the QoS 1 window has room for one more
// PUBLISH. A full window is refilled only once half of it has been
// acknowledged, so that sender and reader wake each other per batch, not
// per message. It returns errStopped when ctx ends first.
func (p *publisher) reserve(ctx context.Context) error {
	if p.qos == 0 || p.inflight.Load() < p.window {
		return nil
	}
	return p.waitWindow(ctx, p.window/2)
}

// publish writes one PUBLISH into the buffer (not flushed). With QoS 1 the
// caller has reserved room in the window.
func (p *publisher) publish(topic, payload []byte, nowNs int64) error {
	var id uint16
	if p.qos > 0 {
		id = p.allocID(nowNs)
		p.inflight.Add(1)
	}
	p.hdr = appendPublishHeader(p.hdr[:0], topic, p.qos, id, len(payload))
	if _, err := p.c.bw.Write(p.hdr); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := p.c.bw.Write(payload); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// waitWindow flushes and waits until at most limit PUBLISHes are
// unacknowledged.
func (p *publisher) waitWindow(ctx context.Context, limit int64) error {
	defer p.wantBelow.Store(-1)
	for {
		p.wantBelow.Store(limit)
		if p.inflight.Load() <= limit {
			return nil
		}
		if err := p.flush(); err != nil {
			return err
		}
		select {
		case <-p.notify:
		case <-ctx.Done():
			return errStopped
		case <-p.dead:
			return p.readErr
		}
	}
}

// allocID returns a free packet identifier and marks it in flight. The
// window is smaller than the id space, so one is always free.
func (p *publisher) allocID(nowNs int64) uint16 {
	for {
		p.nextID++
		if p.nextID == 0 {
			p.nextID = 1
		}
		if p.sentAt[p.nextID].CompareAndSwap(0, max(nowNs, 1)) {
			return p.nextID
		}
	}
}

func (p *publisher) flush() error {
	if err := p.c.bw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// ping writes a PINGREQ to keep an idle connection alive.
func (p *publisher) ping() error {
	if err := p.c.writeEmpty(pktPingreq); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return p.flush()
}

// readLoop handles what the broker sends: it settles PUBACKs and wakes the
// sender once the window it waits for has room.
func (p *publisher) readLoop() {
	defer close(p.dead)
	var buf []byte
	for {
		pk, err := readPacket(p.c.br, &buf)
		if err != nil {
			if p.closing.Load() {
				err = errStopped
			}
			p.readErr = fmt.Errorf("read: %w", err)
			return
		}
		if pk.Type == pktPuback {
			p.ack(pk.ID)
		}
		if p.c.br.Buffered() == 0 && p.inflight.Load() <= p.wantBelow.Load() {
			select {
			case p.notify <- struct{}{}:
			default:
			}
		}
	}
}

// ack settles one PUBACK.
func (p *publisher) ack(id uint16) {
	if p.sentAt == nil {
		p.unexpected.Add(1)
		return
	}
	t := p.sentAt[id].Swap(0)
	if t == 0 {
		p.unexpected.Add(1)
		return
	}
	p.acks.record(time.Now().UnixNano() - t)
	p.acked.Add(1)
	p.inflight.Add(-1)
}

// finish flushes, waits (bounded by ctx) for outstanding acknowledgements,
// then disconnects. It returns how many PUBLISHes were never acknowledged.
func (p *publisher) finish(ctx context.Context) (unacked int64, err error) {
	if p.qos > 0 {
		err = p.waitWindow(ctx, 0)
	} else {
		err = p.flush()
	}
	if errors.Is(err, errStopped) {
		err = fmt.Errorf("acknowledgements still outstanding: %w", context.Cause(ctx))
	}
	p.closing.Store(true)
	_ = p.c.close()
	<-p.dead
	return p.inflight.Load(), err
}

// failed reports whether the connection broke (the reader stopped on its
// own).
func (p *publisher) failed() bool {
	select {
	case <-p.dead:
		return !p.closing.Load()
	default:
		return false
	}
}
