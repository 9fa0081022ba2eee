package attach

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/borda-edge/borda/internal/uplink/mqttmsg"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// Rule actions (alerts, commands) for the external broker wait in a
// durable queue (internal/uplink/queue, like the uplink's outputs): an
// alert raised while the broker is unreachable, or before borda restarts,
// is published once the broker is back. Order is kept; retention bounds
// the queue (drops are counted by the queue's metrics, output
// "attach-<name>").

// openActions opens the action queue of an attachment with actions: true
// and a data directory.
func (c *Client) openActions() error {
	if !c.cfg.Actions || c.d.DataDir == "" {
		return nil
	}
	path := filepath.Join(c.d.DataDir, "attach-"+c.cfg.Name+"-actions")
	q, err := queue.Open(path, c.cfg.ActionsQueue, queue.Deps{Logger: c.d.Logger, Limited: c.d.Limited,
		Registry: c.d.Registry, Name: "attach-" + c.cfg.Name})
	if err != nil {
		return fmt.Errorf("attach %s: action queue: %w", c.cfg.Name, err)
	}
	c.actions = q
	return nil
}

// Publish queues a rule action for the broker; it returns once the action
// is stored. Without a queue (no data directory) it publishes directly and
// fails while the broker is unreachable.
func (c *Client) Publish(topic string, payload []byte, retain bool, qos byte) error {
	if c.actions == nil {
		return c.publishNow(context.Background(), mqttmsg.Message{Topic: topic, Payload: payload, Retain: retain, QoS: qos})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data := mqttmsg.Encode(mqttmsg.Message{Topic: topic, Payload: payload, Retain: retain, QoS: qos})
	err := c.actions.Append(ctx, []queue.Entry{{Priority: queue.High, Key: topic, Data: data, Time: time.Now()}})
	if err != nil {
		c.met.publishFailed.Inc()
		return fmt.Errorf("attach %s: queue action for %s: %w", c.cfg.Name, topic, err)
	}
	return nil
}

// sendActions publishes queued actions in order while ctx lasts; an
// action is removed from the queue once the broker acknowledged it.
func (c *Client) sendActions(ctx context.Context, cm *autopaho.ConnectionManager) {
	retry := c.cfg.Backoff.Start()
	for {
		items, err := c.actions.Next(ctx, 32)
		if err != nil {
			return // ctx ended or the queue closed
		}
		for i, it := range items {
			if err := c.sendAction(ctx, cm, it); err != nil {
				for _, rest := range items[i:] {
					c.actions.Nack(rest.Seq)
				}
				c.d.Limited.Warn("attach: rule action not published yet; retrying", "broker", c.cfg.Name, "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(retry.Next()):
				}
				break
			}
			retry.Reset()
		}
	}
}

// sendAction publishes one queued action once connected; a corrupt entry
// is dropped (counted, logged).
func (c *Client) sendAction(ctx context.Context, cm *autopaho.ConnectionManager, it queue.Item) error {
	m, err := mqttmsg.Decode(it.Data)
	if err != nil {
		c.met.publishFailed.Inc()
		c.d.Limited.Error("attach: drop corrupt queued action", "broker", c.cfg.Name, "seq", it.Seq, "err", err)
		return c.actions.Ack(it.Seq)
	}
	if err := cm.AwaitConnection(ctx); err != nil {
		return fmt.Errorf("wait for the broker: %w", err)
	}
	if err := c.publishNow(ctx, m); err != nil {
		return err
	}
	return c.actions.Ack(it.Seq)
}

// publishNow publishes m and, for QoS 1 and 2, waits for the broker's
// acknowledgement.
func (c *Client) publishNow(ctx context.Context, m mqttmsg.Message) error {
	c.mu.Lock()
	cm, up := c.cm, c.up
	c.mu.Unlock()
	if cm == nil || !up {
		c.met.publishFailed.Inc()
		return fmt.Errorf("attach %s: not connected", c.cfg.Name)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := cm.Publish(pctx, &paho.Publish{Topic: m.Topic, Payload: m.Payload, Retain: m.Retain, QoS: min(m.QoS, 2)})
	if err != nil {
		c.met.publishFailed.Inc()
		return fmt.Errorf("attach %s: publish %s: %w", c.cfg.Name, m.Topic, err)
	}
	c.met.published.Inc()
	return nil
}
