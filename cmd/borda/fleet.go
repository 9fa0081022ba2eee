package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/attach"
	"github.com/borda-edge/borda/internal/broker"
	"github.com/borda-edge/borda/internal/node"
	"github.com/borda-edge/borda/internal/uplink"
	"github.com/borda-edge/borda/internal/uplink/mqttbridge"
)

// withNode puts the node identity into the uplink configuration: {node}
// and {site} in MQTT bridge topics, client ids, local and remote status
// topics and the HTTP outputs' status topics, and the
// node's labels as external labels of the HTTP outputs that do not set
// external_labels themselves (an explicit empty map turns them off).
func withNode(c uplink.Config, n node.Config) uplink.Config {
	c.MQTT = append(c.MQTT[:0:0], c.MQTT...)
	for i := range c.MQTT {
		m := &c.MQTT[i]
		m.ClientID, m.StatusTopic = n.Expand(m.ClientID), n.Expand(m.StatusTopic)
		m.RemoteStatusTopic = n.Expand(m.RemoteStatusTopic)
		for _, maps := range []*[]mqttbridge.Mapping{&m.Out, &m.In} {
			*maps = append((*maps)[:0:0], *maps...)
			for j := range *maps {
				mp := &(*maps)[j]
				mp.Filter, mp.StripPrefix, mp.AddPrefix = n.Expand(mp.Filter), n.Expand(mp.StripPrefix), n.Expand(mp.AddPrefix)
			}
		}
	}
	labels := func(ext map[string]string) map[string]string {
		if ext == nil {
			return n.ExternalLabels()
		}
		out := make(map[string]string, len(ext))
		for k, v := range ext {
			out[k] = n.Expand(v)
		}
		return out
	}
	c.InfluxDB = append(c.InfluxDB[:0:0], c.InfluxDB...)
	for i := range c.InfluxDB {
		c.InfluxDB[i].ExternalLabels = labels(c.InfluxDB[i].ExternalLabels)
		c.InfluxDB[i].StatusTopic = n.Expand(c.InfluxDB[i].StatusTopic)
	}
	c.RemoteWrite = append(c.RemoteWrite[:0:0], c.RemoteWrite...)
	for i := range c.RemoteWrite {
		c.RemoteWrite[i].ExternalLabels = labels(c.RemoteWrite[i].ExternalLabels)
		c.RemoteWrite[i].StatusTopic = n.Expand(c.RemoteWrite[i].StatusTopic)
	}
	return c
}

// newAttach builds a client per external broker; they feed the ingest
// pipeline like the embedded broker's tap. The one with actions: true
// receives the rule actions' MQTT publishes.
func (g *gateway) newAttach(base, limited *slog.Logger, reg *prometheus.Registry) error {
	for _, ac := range g.cfg.Attach {
		c, err := attach.New(ac, attach.Deps{
			Logger:   base.With("component", "attach"),
			Limited:  limited.With("component", "attach"),
			Registry: reg,
			Ingest:   g.pipeline,
			Node:     g.node.Name,
			DataDir:  g.cfg.DataDir,
			Forward:  g.forwarder(),
		})
		if err != nil {
			return fmt.Errorf("attach %s: %w", ac.Name, err)
		}
		if ac.Actions {
			g.actions = c
		}
		g.attached = append(g.attached, c)
		g.parts = append(g.parts, component{name: "attach-" + ac.Name, run: c.Run, ready: c.Ready()})
	}
	return nil
}

// stopOrder is shutdownOrder with the attachments stopped together with
// the embedded broker: sources first, before the pipeline drains.
func (g *gateway) stopOrder() []string {
	out := make([]string, 0, len(shutdownOrder)+len(g.cfg.Attach))
	for _, name := range shutdownOrder {
		if name == "broker" {
			for _, c := range g.cfg.Attach {
				out = append(out, "attach-"+c.Name)
			}
		}
		out = append(out, name)
	}
	return out
}

// rulePublisher publishes rule actions (alerts, commands) through the
// attachment marked actions: true, else through the embedded broker.
type rulePublisher struct{ g *gateway }

func (p rulePublisher) Publish(topic string, payload []byte, retain bool, qos byte) error {
	if p.g.actions != nil {
		return p.g.actions.Publish(topic, payload, retain, qos)
	}
	return p.g.broker.Server().Publish(topic, payload, retain, qos)
}

// forwarder is what feeds the uplink's MQTT bridges (the embedded broker's
// publishes and the attached brokers' messages); nil without bridges.
// (An interface, so that "none" is a nil interface, not a nil pointer.)
func (g *gateway) forwarder() broker.Forwarder {
	if len(g.cfg.Uplink.MQTT) == 0 {
		return nil
	}
	return g.uplink
}
