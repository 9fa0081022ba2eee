package attach

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
)

// adopter runs the sessions this member adopted from dead peers, one
// connection each, none reconnecting: when a connection ends the peer has
// taken its session back (or the network failed), and the presence
// messages decide again.
type adopter struct {
	c      *Client
	mu     sync.Mutex
	closed bool
	active map[string]context.CancelFunc
	timers map[string]*time.Timer
	wg     sync.WaitGroup
}

func newAdopter(c *Client) *adopter {
	return &adopter{c: c, active: map[string]context.CancelFunc{}, timers: map[string]*time.Timer{}}
}

// schedule looks at peer again after d (a restart within adopt_after is
// not a takeover).
func (a *adopter) schedule(peer string, d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.active[peer] != nil {
		return
	}
	if t := a.timers[peer]; t != nil {
		t.Stop()
	}
	a.timers[peer] = time.AfterFunc(d, func() { a.check(peer) })
}

// check adopts peer's session if this member is the one to.
func (a *adopter) check(peer string) {
	if !a.c.roster.shouldAdopt(peer) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.active[peer] != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.active[peer] = cancel
	a.wg.Go(func() {
		again := a.c.adoptSession(ctx, peer)
		a.mu.Lock()
		delete(a.active, peer)
		a.mu.Unlock()
		cancel()
		if again {
			a.schedule(peer, a.c.cfg.Peers.AdoptAfter)
		}
	})
}

// release ends the adoption of peer (it is back online).
func (a *adopter) release(peer string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t := a.timers[peer]; t != nil {
		t.Stop()
	}
	if cancel := a.active[peer]; cancel != nil {
		cancel()
	}
}

// close ends every adoption (leaving the sessions on the broker for their
// owners) and returns the peers that were adopted.
func (a *adopter) close() []string {
	a.mu.Lock()
	a.closed = true
	var peers []string
	for p, cancel := range a.active {
		peers = append(peers, p)
		cancel()
	}
	for _, t := range a.timers {
		t.Stop()
	}
	a.mu.Unlock()
	a.wg.Wait()
	return peers
}

// adoptSession resumes peer's session and stores what arrives on it until
// ctx ends (graceful: the session stays for its owner) or the connection
// ends. It reports whether to look at the peer again later.
func (c *Client) adoptSession(ctx context.Context, peer string) bool {
	log := c.d.Logger.With("broker", c.cfg.Name, "peer", peer)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := c.dial(cctx)
	if err != nil {
		c.met.adoptions.WithLabelValues("failed").Inc()
		c.d.Limited.Warn("attach: cannot connect to adopt a peer's session", "broker", c.cfg.Name, "peer", peer, "err", err)
		return true
	}
	cli := paho.NewClient(paho.ClientConfig{
		ClientID:                   peer,
		Conn:                       conn,
		OnPublishReceived:          []func(paho.PublishReceived) (bool, error){c.onPublish},
		EnableManualAcknowledgment: true,
		SendAcksInterval:           ackInterval,
		OnClientError:              func(err error) { c.d.Limited.Debug("attach: adopted session", "peer", peer, "err", err) },
	})
	ca, err := cli.Connect(cctx, c.adoptConnect(peer))
	if err != nil {
		_ = conn.Close()
		c.met.adoptions.WithLabelValues("failed").Inc()
		c.d.Limited.Warn("attach: broker refused to resume a peer's session", "broker", c.cfg.Name, "peer", peer, "err", err)
		return true
	}
	if !ca.SessionPresent { // expired: leave no empty session behind
		zero := uint32(0)
		_ = cli.Disconnect(&paho.Disconnect{Properties: &paho.DisconnectProperties{SessionExpiryInterval: &zero}})
		<-cli.Done()
		c.met.adoptions.WithLabelValues("no_session").Inc()
		log.Info("attach: peer is offline and has no session left on the broker")
		return false
	}
	c.met.adoptions.WithLabelValues("adopted").Inc()
	c.met.adopted.Inc()
	defer c.met.adopted.Dec()
	log.Warn("attach: peer is offline; storing its share of the shared subscription under its session")
	select {
	case <-ctx.Done(): // messages not acknowledged yet go to the owner again
		_ = cli.Disconnect(&paho.Disconnect{ReasonCode: 0})
		<-cli.Done()
		log.Info("attach: adopted session handed back")
		return false
	case <-cli.Done():
		log.Info("attach: adopted session ended (the peer took it back, or the connection broke)")
		return true
	}
}

// adoptConnect is the CONNECT resuming peer's session: its client id, no
// clean start, this group's session expiry, and the peer's will, so that
// if this member dies too the next one adopts the peer.
func (c *Client) adoptConnect(peer string) *paho.Connect {
	exp, rm := uint32(c.cfg.SessionExpiry/time.Second), c.cfg.ReceiveMaximum
	cp := &paho.Connect{
		ClientID:   peer,
		KeepAlive:  uint16(c.cfg.Keepalive / time.Second),
		CleanStart: false,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &exp, ReceiveMaximum: &rm},
		WillMessage: &paho.WillMessage{Topic: c.cfg.Peers.presenceTopic(peer),
			Payload: []byte(presenceOffline), QoS: 1, Retain: true},
		WillProperties: &paho.WillProperties{},
	}
	if user, pass, err := c.credentials(); err == nil {
		cp.Username, cp.UsernameFlag = user, user != ""
		cp.Password, cp.PasswordFlag = pass, pass != nil
	}
	return cp
}

// dial opens one connection to the broker (TCP or TLS).
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	u, secure, _ := brokerURL(c.cfg.Address)
	if !secure {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", u.Host)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", u.Host, err)
		}
		return conn, nil
	}
	tc, err := c.cfg.TLS.Load()
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	tc.ServerName = u.Hostname()
	d := tls.Dialer{Config: tc}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u.Host, err)
	}
	return packets.NewThreadSafeConn(conn), nil
}
