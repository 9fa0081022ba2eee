package simulate

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"
)

const (
	keepAlive      = 60 * time.Second
	connectTimeout = 10 * time.Second
	bufSize        = 32 << 10
)

// broker is a parsed Config.Broker.
type broker struct {
	addr string // host:port
	host string // for TLS server name verification
	tls  bool
}

func parseBroker(s string) (broker, error) {
	u, err := url.Parse(s)
	if err != nil {
		return broker{}, fmt.Errorf("broker %q: %w", s, err)
	}
	var b broker
	port := "1883"
	switch u.Scheme {
	case "tcp", "mqtt":
	case "ssl", "tls", "mqtts":
		b.tls, port = true, "8883"
	default:
		return broker{}, fmt.Errorf("broker %q: scheme must be tcp, mqtt, ssl, tls or mqtts", s)
	}
	if u.Hostname() == "" {
		return broker{}, fmt.Errorf("broker %q: no host", s)
	}
	if u.Path != "" && u.Path != "/" {
		return broker{}, fmt.Errorf("broker %q: unexpected path %q", s, u.Path)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	b.host = u.Hostname()
	b.addr = net.JoinHostPort(b.host, port)
	return b, nil
}

// tlsConfig builds the client TLS configuration from the Config's files.
func tlsConfig(c *Config, host string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: host, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate found", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// dialer opens MQTT connections to one broker with one set of credentials.
type dialer struct {
	b        broker
	tls      *tls.Config // nil for plain TCP
	username string
	password string
}

func newDialer(c *Config) (*dialer, error) {
	b, err := parseBroker(c.Broker)
	if err != nil {
		return nil, err
	}
	d := &dialer{b: b, username: c.Username, password: c.Password}
	if b.tls {
		if d.tls, err = tlsConfig(c, b.host); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// conn is one MQTT connection: a buffered writer owned by one goroutine
// at a time and a buffered reader owned by the reader goroutine.
type conn struct {
	nc net.Conn
	bw *bufio.Writer
	br *bufio.Reader
}

// dial connects, sends CONNECT and waits for a successful CONNACK.
func (d *dialer) dial(ctx context.Context, clientID string) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", d.b.addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", d.b.addr, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d.tls != nil {
		tc := tls.Client(nc, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", d.b.addr, err)
		}
		nc = tc
	}
	c := &conn{nc: nc, bw: bufio.NewWriterSize(nc, bufSize), br: bufio.NewReaderSize(nc, bufSize)}
	if err := c.handshake(clientID, d.username, d.password); err != nil {
		nc.Close()
		return nil, fmt.Errorf("MQTT connect to %s as %s: %w", d.b.addr, clientID, err)
	}
	if !stop() {
		nc.Close()
		return nil, fmt.Errorf("connect %s: %w", d.b.addr, ctx.Err())
	}
	return c, nil
}

func connackReason(rc byte) string {
	switch rc {
	case 1:
		return "unacceptable protocol version"
	case 2:
		return "client identifier rejected"
	case 3:
		return "server unavailable"
	case 4:
		return "bad user name or password"
	case 5:
		return "not authorized"
	}
	return "unknown return code"
}

func (c *conn) handshake(clientID, username, password string) error {
	if _, err := c.bw.Write(connectPacket(clientID, username, password, uint16(keepAlive/time.Second))); err != nil {
		return err
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	var buf []byte
	p, err := readPacket(c.br, &buf)
	if err != nil {
		return fmt.Errorf("reading CONNACK: %w", err)
	}
	if p.Type != pktConnack {
		return fmt.Errorf("expected CONNACK, got packet type %d", p.Type)
	}
	if rc := p.Codes[1]; rc != 0 {
		return fmt.Errorf("refused: %s (%d)", connackReason(rc), rc)
	}
	return nil
}

// writeEmpty writes a PINGREQ or DISCONNECT (not flushed).
func (c *conn) writeEmpty(typ byte) error {
	p := emptyPacket(typ)
	_, err := c.bw.Write(p[:])
	return err
}

// close sends DISCONNECT (best effort, bounded by a short deadline) and
// closes the connection.
func (c *conn) close() error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if c.writeEmpty(pktDisconnect) == nil {
		_ = c.bw.Flush()
	}
	return c.nc.Close()
}
