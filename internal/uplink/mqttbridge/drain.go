package mqttbridge

import (
	"context"
	"errors"
	"fmt"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/borda-edge/borda/internal/uplink/link"
	"github.com/borda-edge/borda/internal/uplink/mqttmsg"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// drain hands queue entries to the client until the connection is lost or
// ctx ends. Entries are acked once the broker confirmed them and nacked
// (pending again) otherwise.
func (b *Bridge) drain(ctx context.Context, q *queue.Queue, c mqtt.Client, lost <-chan struct{}) error {
	nctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lost:
			cancel()
		case <-nctx.Done():
		}
	}()
	for {
		items, err := q.Next(nctx, b.cfg.InflightWindow)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if nctx.Err() != nil {
				return errLost
			}
			return fmt.Errorf("queue next: %w", err)
		}
		if err := b.sendBatch(ctx, q, c, items, lost); err != nil {
			return err
		}
	}
}

// pending is one published entry waiting for its confirmation.
type pending struct {
	seq uint64
	tok mqtt.Token
}

// sendBatch publishes items in order, then waits for each confirmation.
func (b *Bridge) sendBatch(ctx context.Context, q *queue.Queue, c mqtt.Client, items []queue.Item, lost <-chan struct{}) error {
	var sent []pending
	var drop []uint64
	var unsent []uint64
	for i, it := range items {
		if isClosed(lost) { // Publish would block up to the write timeout
			for _, rest := range items[i:] {
				unsent = append(unsent, rest.Seq)
			}
			break
		}
		topic, qos, m, ok := b.prepare(it)
		if !ok {
			drop = append(drop, it.Seq)
			continue
		}
		if err := b.bw.Wait(ctx, len(topic)+len(m.Payload)); err != nil {
			for _, rest := range items[i:] {
				unsent = append(unsent, rest.Seq)
			}
			break
		}
		b.met.SentBytes.Add(float64(len(topic) + len(m.Payload)))
		sent = append(sent, pending{it.Seq, c.Publish(topic, qos, m.Retain, m.Payload)})
	}
	acked, nacked := []uint64(nil), unsent
	var firstErr error
	if len(unsent) > 0 {
		firstErr = errLost
	}
	for _, p := range sent {
		if firstErr != nil {
			nacked = append(nacked, p.seq)
			continue
		}
		if err := waitToken(ctx, p.tok, lost); err != nil {
			firstErr = err
			nacked = append(nacked, p.seq)
			continue
		}
		acked = append(acked, p.seq)
	}
	q.Nack(nacked...)
	b.met.Retries.Add(float64(len(nacked)))
	if err := q.Ack(append(acked, drop...)...); err != nil {
		return fmt.Errorf("queue ack: %w", err)
	}
	if len(acked) > 0 {
		b.met.Sent.Add(float64(len(acked)))
		b.met.LastSuccess.Set(float64(b.deps.Now().UnixNano()) / 1e9)
	}
	if firstErr != nil && !errors.Is(firstErr, context.Canceled) {
		return fmt.Errorf("publish: %w", firstErr)
	}
	return nil
}

// prepare decodes an entry and maps its topic; entries that cannot be sent
// (corrupt, or no Out mapping any more after a config change) are dropped,
// counted and logged.
func (b *Bridge) prepare(it queue.Item) (string, byte, mqttmsg.Message, bool) {
	m, err := mqttmsg.Decode(it.Data)
	if err != nil {
		b.met.Dropped.WithLabelValues(link.ReasonCorrupt).Inc()
		b.deps.Limited.Error("drop corrupt uplink entry", "output", b.cfg.Name, "seq", it.Seq, "err", err)
		return "", 0, m, false
	}
	mp, ok := findMapping(b.cfg.Out, m.Topic)
	if !ok {
		b.met.Dropped.WithLabelValues(link.ReasonUnmapped).Inc()
		b.deps.Limited.Warn("drop uplink entry: no out mapping", "output", b.cfg.Name, "topic", m.Topic)
		return "", 0, m, false
	}
	return mp.apply(m.Topic), min(mp.QoS, 1), m, true
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
