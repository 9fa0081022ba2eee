package ban

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// WrapListener returns a listener whose Accept closes connections from
// banned IPs, and from IPs over the connection rate (rate may be nil for
// no limit), right after the kernel accepted them: nothing is read, no TLS
// handshake or MQTT/HTTP parsing happens. Refusals are counted
// (borda_connections_refused_total{listener=name}) and logged rate-limited.
// Accept never returns an error for a refused connection; it waits for the
// next one, so servers (mochi-mqtt, net/http) keep serving. Nor does it
// return running out of file descriptors (EMFILE, ENFILE, ENOBUFS,
// ENOMEM): it retries with a backoff of up to one second. Wrap the plain
// TCP listener, beneath any tls.NewListener.
func WrapListener(l net.Listener, b *Banner, name string, rate *IPRate) net.Listener {
	return &guardedListener{Listener: l, b: b, name: name, rate: rate}
}

type guardedListener struct {
	net.Listener
	b    *Banner
	name string
	rate *IPRate
}

func (l *guardedListener) Accept() (net.Conn, error) {
	var backoff time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !resourceExhausted(err) {
				return nil, err
			}
			// Out of file descriptors or buffers (a connection flood):
			// mochi-mqtt would stop serving for good on this error, so wait
			// for connections to close and try again, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.b.lim.Warn("accept failed, retrying", "listener", l.name, "error", err, "retry_in", backoff.String())
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		ip, ok := remoteIP(c)
		if !ok {
			return c, nil // not an IP connection (unix socket): nothing to check
		}
		reason := l.refusal(ip)
		if reason == "" {
			return c, nil
		}
		l.b.m.refused.WithLabelValues(l.name, reason).Inc() // counted before the peer can see the close
		abort(c)
		l.b.lim.Info("connection refused: "+reason, "listener", l.name, "ip", ip.String())
	}
}

func (l *guardedListener) refusal(ip netip.Addr) string {
	if _, banned := l.b.Banned(ip); banned {
		return refusedBanned
	}
	if l.rate != nil {
		if ok, _ := l.rate.Allow(ip); !ok {
			return refusedRateLimited
		}
	}
	return ""
}

// resourceExhausted reports an Accept error that passes once connections
// close: too many open files, no buffer space or memory.
func resourceExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// remoteIP is the peer's address with IPv4-mapped IPv6 unmapped.
func remoteIP(c net.Conn) (netip.Addr, bool) {
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(a.IP)
		return canonical(ip), ok
	case nil:
		return netip.Addr{}, false
	default:
		ap, err := netip.ParseAddrPort(a.String())
		return canonical(ap.Addr()), err == nil
	}
}

// abort closes c at once; a TCP connection is reset (linger 0), so no
// TIME_WAIT state is kept for a refused peer.
func abort(c net.Conn) {
	if tc, ok := c.(interface{ SetLinger(int) error }); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// ParseIP extracts the IP of a remote address as servers report it
// ("203.0.113.7:51234", "[2001:db8::1]:443" or a bare address), unmapping
// IPv4-mapped IPv6; the zero Addr when it is none of those.
func ParseIP(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return canonical(ap.Addr())
	}
	if a, err := netip.ParseAddr(remote); err == nil && a.Zone() == "" {
		return a.Unmap()
	}
	return netip.Addr{}
}
