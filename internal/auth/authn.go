package auth

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// outcome of one authentication.
type outcome struct {
	ok       bool
	method   string // when ok
	reason   string // when not ok
	username string // presented (or certificate CN)
}

// OnConnectAuthenticate authenticates a connecting client. Returning false
// makes mochi-mqtt answer CONNACK 0x86 (MQTT 5, bad user name or password)
// or 0x05 (MQTT 3.1.1, not authorized) and close the connection.
func (h *Hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	st := h.state.Load()
	res := h.authenticate(st, cl, pk)
	remote := remoteIP(cl.Net.Remote)
	if !res.ok {
		h.metrics.failures.WithLabelValues(res.reason).Inc()
		// One line per failure, not rate-limited: it is the audit trail
		// (and what a fail2ban filter counts). Never the password.
		h.log.Warn("mqtt authentication failed", "remote", remote, "listener", cl.Net.Listener,
			"client", cl.ID, "username", res.username, "reason", res.reason)
		if h.failures != nil && res.reason != ReasonOverloaded {
			h.failures.AuthFailed(remote, res.username, res.reason)
		}
		return false
	}
	if res.method == MethodCertificate {
		cl.Properties.Username = []byte(res.username) // ACLs and %u use the CN
	}
	h.metrics.successes.WithLabelValues(res.method).Inc()
	h.log.Debug("mqtt client authenticated", "remote", remote, "listener", cl.Net.Listener,
		"client", cl.ID, "username", res.username, "method", res.method)
	h.checkWill(st, cl)
	return true
}

func (h *Hook) authenticate(st *state, cl *mqtt.Client, pk packets.Packet) outcome {
	if st.certCN {
		if cn, verified := peerCN(cl.Net.Conn); verified {
			if cn == "" {
				return outcome{reason: ReasonCertificateCN}
			}
			return outcome{ok: true, method: MethodCertificate, username: cn}
		}
	}
	user := string(pk.Connect.Username)
	if !pk.Connect.UsernameFlag || user == "" {
		return h.anonymous(st, cl)
	}
	return h.checkPassword(st, user, pk.Connect.Password)
}

func (h *Hook) anonymous(st *state, cl *mqtt.Client) outcome {
	switch st.policy {
	case AnonymousOn:
		return outcome{ok: true, method: MethodAnonymous}
	case AnonymousLoopback:
		if ip := net.ParseIP(remoteIP(cl.Net.Remote)); ip != nil && ip.IsLoopback() {
			return outcome{ok: true, method: MethodAnonymous}
		}
	}
	return outcome{reason: ReasonAnonymous}
}

// checkPassword verifies a password; unknown users cost a dummy check so
// that they take as long as a wrong password.
func (h *Hook) checkPassword(st *state, user string, password []byte) outcome {
	cred, known := st.users[user]
	if !known {
		cred = h.dummy(st.dummyCost)
	}
	if !h.acquire() {
		return outcome{reason: ReasonOverloaded, username: user}
	}
	ok := cred.verify(password)
	<-h.slots
	switch {
	case !known:
		return outcome{reason: ReasonUnknownUser, username: user}
	case !ok:
		return outcome{reason: ReasonBadPassword, username: user}
	}
	return outcome{ok: true, method: MethodPassword, username: user}
}

// acquire takes a password check slot: at most GOMAXPROCS-1 (at least 1)
// checks run at once, so a burst of logins cannot take every core from
// message routing.
func (h *Hook) acquire() bool {
	select {
	case h.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(h.slotWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// checkWill discards the will message of a client that may not publish to
// its will topic (mochi-mqtt publishes wills without an ACL check).
func (h *Hook) checkWill(st *state, cl *mqtt.Client) {
	if st.acl == nil || atomic.LoadUint32(&cl.Properties.Will.Flag) == 0 {
		return
	}
	topic := cl.Properties.Will.TopicName
	if st.acl.allowTopic(identityOf(cl), topic, canWrite) {
		return
	}
	cl.Properties.Will = mqtt.Will{} // the client is not yet visible to other goroutines
	h.denials[ActionPublish].Inc()
	h.limited.Warn("mqtt will message discarded: will topic denied by acl", "client", cl.ID,
		"username", string(cl.Properties.Username), "remote", cl.Net.Remote, "topic", topic)
}

// peerCN returns the subject CN of the client certificate of a TLS
// connection, and whether there is a verified one. It looks through
// wrappers that expose NetConn() (as *tls.Conn does). mochi-mqtt reads the
// CONNECT packet before authentication, and crypto/tls completes the
// handshake on the first read, so the handshake is done here; an
// incomplete one counts as no certificate. Only verified chains count: a
// listener with tls.RequireAnyClientCert gives no identity.
func peerCN(conn net.Conn) (string, bool) {
	for range 8 {
		if conn == nil {
			return "", false
		}
		if s, ok := conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
			cs := s.ConnectionState()
			if !cs.HandshakeComplete || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
				return "", false
			}
			return cs.VerifiedChains[0][0].Subject.CommonName, true
		}
		u, ok := conn.(interface{ NetConn() net.Conn })
		if !ok {
			return "", false
		}
		conn = u.NetConn()
	}
	return "", false
}

// remoteIP strips the port from a host:port address.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
