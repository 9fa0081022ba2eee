package attach

import (
	"context"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// The presence protocol of a collector group (peers): each member's
// session carries a will that sets its retained presence to "offline";
// after each connect it publishes "online". Members watch each other's
// presence and adopt the session of one that stays offline.

// will is the main connection's will (nil without peers).
func (c *Client) will() *paho.WillMessage {
	if c.roster == nil {
		return nil
	}
	return &paho.WillMessage{Topic: c.cfg.Peers.presenceTopic(c.cfg.ClientID),
		Payload: []byte(presenceOffline), QoS: 1, Retain: true}
}

// announce runs after each (re)subscription: this member is online, and
// peers already known to be offline are looked at again (this member may
// have been down when they left).
func (c *Client) announce(ctx context.Context, cm *autopaho.ConnectionManager) {
	if c.roster == nil {
		return
	}
	c.roster.setSelf(true)
	c.publishPresence(ctx, cm, c.cfg.ClientID, presenceOnline)
	for _, peer := range c.cfg.Peers.ClientIDs {
		if peer != c.cfg.ClientID && !c.roster.isOnline(peer) {
			c.adopt.schedule(peer, c.cfg.Peers.AdoptAfter)
		}
	}
}

func (c *Client) publishPresence(ctx context.Context, cm *autopaho.ConnectionManager, id, state string) {
	_, err := cm.Publish(ctx, &paho.Publish{Topic: c.cfg.Peers.presenceTopic(id), Payload: []byte(state),
		QoS: 1, Retain: true})
	if err != nil {
		c.d.Limited.Warn("attach: cannot publish presence", "broker", c.cfg.Name, "member", id, "state", state, "err", err)
	}
}

// presence handles a peer's presence message; it reports whether pr was
// one (and is not a reading).
func (c *Client) presence(pr paho.PublishReceived) bool {
	if c.roster == nil {
		return false
	}
	p := pr.Packet
	peer, ok := c.cfg.Peers.presenceMember(p.Topic)
	if !ok {
		return false
	}
	if p.QoS > 0 {
		_ = pr.Client.Ack(p)
	}
	if peer == c.cfg.ClientID {
		return true
	}
	online := string(p.Payload) == presenceOnline
	if c.roster.set(peer, online) {
		c.d.Logger.Info("attach: peer presence", "broker", c.cfg.Name, "peer", peer, "online", online)
	}
	if online {
		c.met.peerOnline.WithLabelValues(peer).Set(1)
		c.adopt.release(peer)
	} else {
		c.met.peerOnline.WithLabelValues(peer).Set(0)
		c.adopt.schedule(peer, c.cfg.Peers.AdoptAfter)
	}
	return true
}

// leaveGroup, at a graceful stop: the adopted sessions are handed back to
// the broker and marked offline again, then this member is marked offline,
// so that the remaining members adopt them all.
func (c *Client) leaveGroup(ctx context.Context, cm *autopaho.ConnectionManager) {
	if c.roster == nil {
		return
	}
	for _, peer := range c.adopt.close() {
		c.publishPresence(ctx, cm, peer, presenceOffline)
	}
	c.publishPresence(ctx, cm, c.cfg.ClientID, presenceOffline) // QoS 1: waits for the PUBACK
}
