package ban

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

// spyConn records whether the server side ever read from or closed it.
type spyConn struct {
	net.Conn
	reads  atomic.Int32
	closed atomic.Bool
}

func (c *spyConn) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.Conn.Read(p)
}

func (c *spyConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

// spyListener hands out spyConns and remembers them by client address.
type spyListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[string]*spyConn
}

func (l *spyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	sc := &spyConn{Conn: tc}
	l.mu.Lock()
	l.conns[c.RemoteAddr().String()] = sc
	l.mu.Unlock()
	return &tcpSpy{TCPConn: tc, spy: sc}, nil
}

// tcpSpy keeps the *net.TCPConn type visible (as a real listener would)
// while routing Read and Close through the spy.
type tcpSpy struct {
	*net.TCPConn
	spy *spyConn
}

func (c *tcpSpy) Read(p []byte) (int, error) { return c.spy.Read(p) }
func (c *tcpSpy) Close() error               { return c.spy.Close() }

// from returns the server side of every connection from ip so far.
func (l *spyListener) from(ip string) []*spyConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*spyConn
	for addr, c := range l.conns {
		if h, _, _ := net.SplitHostPort(addr); h == ip {
			out = append(out, c)
		}
	}
	return out
}

// echoServer serves ln (wrapped) with an echo handler until the test ends.
// It fails the test if Accept returns an error before the listener closes.
func echoServer(t *testing.T, ln net.Listener) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	closing := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				select {
				case <-closing:
				default:
					t.Errorf("Accept returned %v while serving", err)
				}
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = io.Copy(c, c) }()
		}
	}()
	t.Cleanup(func() {
		close(closing)
		_ = ln.Close()
		mu.Lock()
		for _, c := range open {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// dialFrom connects to addr from the address src. A connection refused
// at accept time may be reset before the dial returns; then it returns nil.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// echoes reports whether a round trip through the echo server works; a
// refused connection must end (EOF or reset) well within the deadline.
func echoes(t *testing.T, c net.Conn) bool {
	t.Helper()
	if c == nil {
		return false // reset while connecting
	}
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, _ = c.Write([]byte("ping"))
	buf := make([]byte, 4)
	_, err := io.ReadFull(c, buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection from %s neither served nor closed within 3s", c.LocalAddr())
	}
	return err == nil && string(buf) == "ping"
}

func listenSpy(t *testing.T) *spyListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &spyListener{Listener: ln, conns: map[string]*spyConn{}}
}

func TestBannedIPIsClosedBeforeAnyRead(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	spy := listenSpy(t)
	echoServer(t, WrapListener(spy, f.b, "mqtt", f.b.ConnRate()))
	addr := spy.Addr().String()
	f.fail("127.0.0.2", 5)

	good := dialFrom(t, "127.0.0.1", addr)
	bad := dialFrom(t, "127.0.0.2", addr)
	if echoes(t, bad) {
		t.Fatal("a banned IP was served")
	}
	if !echoes(t, good) {
		t.Fatal("a connection from another IP was not served")
	}
	refused := spy.from("127.0.0.2")
	if len(refused) != 1 {
		t.Fatalf("server saw %d connections from 127.0.0.2, want 1", len(refused))
	}
	if sc := refused[0]; !sc.closed.Load() || sc.reads.Load() != 0 {
		t.Fatalf("banned connection: closed=%v reads=%d, want closed with 0 reads", sc.closed.Load(), sc.reads.Load())
	}
	if got := testkit.MetricValue(t, f.reg, "borda_connections_refused_total", "listener", "mqtt", "reason", "banned"); got != 1 {
		t.Errorf("refused{banned} = %v, want 1", got)
	}
	// Still serving after refusals, and after the ban is lifted.
	if _, err := f.b.Unban(ParseIP("127.0.0.2")); err != nil {
		t.Fatal(err)
	}
	if !echoes(t, dialFrom(t, "127.0.0.2", addr)) {
		t.Fatal("not served after unban")
	}
	if n := len(logLines(f.limited, `msg="connection refused: banned" component=ban listener=mqtt ip=127.0.0.2`)); n != 1 {
		t.Errorf("refusal log lines = %d:\n%s", n, f.limited)
	}
}

func TestConnectionRatePerIP(t *testing.T) {
	cfg := testConfig()
	cfg.ConnectionRate = ConnRateConfig{Enabled: true, Connections: 3, Period: 10 * time.Second, Burst: 3, MaxTrackedIPs: 100}
	f := newFixture(t, cfg, t.TempDir()) // the clock stands still: no refill
	spy := listenSpy(t)
	echoServer(t, WrapListener(spy, f.b, "mqtt", f.b.ConnRate()))
	addr := spy.Addr().String()

	served := 0
	for range 6 {
		if echoes(t, dialFrom(t, "127.0.0.3", addr)) {
			served++
		}
	}
	if served != 3 {
		t.Errorf("served %d of 6 connections from one IP, want the burst of 3", served)
	}
	if !echoes(t, dialFrom(t, "127.0.0.4", addr)) {
		t.Error("another IP was limited")
	}
	if got := testkit.MetricValue(t, f.reg, "borda_connections_refused_total", "reason", "rate_limited"); got != 3 {
		t.Errorf("refused{rate_limited} = %v, want 3", got)
	}
	f.clock.Advance(10 * time.Second) // refilled
	if !echoes(t, dialFrom(t, "127.0.0.3", addr)) {
		t.Error("not served after the bucket refilled")
	}
	if isBanned(f.b, "127.0.0.3") {
		t.Error("the connection rate banned an IP")
	}
}

func TestAllowListedIPsAreNotRateLimited(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ConnectionRate.Burst, cfg.ConnectionRate.Connections = 1, 1
	f := newFixture(t, cfg, t.TempDir())
	spy := listenSpy(t)
	echoServer(t, WrapListener(spy, f.b, "mqtt", f.b.ConnRate()))
	for range 5 {
		if !echoes(t, dialFrom(t, "127.0.0.1", spy.Addr().String())) {
			t.Fatal("an allow-listed IP was refused")
		}
	}
}

func TestIPRateRetryAfterAndBound(t *testing.T) {
	c := newClock()
	r := NewIPRate(100, time.Minute, 100, 2, AllowList{}, c.Now)
	ip := func(s string) (bool, time.Duration) { return r.Allow(ParseIP(s)) }
	for i := range 100 {
		if ok, _ := ip("192.0.2.1"); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	ok, wait := ip("192.0.2.1")
	if ok || wait != time.Second {
		t.Fatalf("101st request: ok=%v wait=%s, want refused, retry after 1s", ok, wait)
	}
	ip("192.0.2.2")
	ip("192.0.2.3") // evicts 192.0.2.1
	if r.Len() != 2 || r.Evictions() != 1 {
		t.Errorf("len=%d evictions=%d, want 2 and 1", r.Len(), r.Evictions())
	}
}

func TestParseIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7:51234": "203.0.113.7", "[2001:db8::1]:443": "2001:db8::1", "[::ffff:10.0.0.1]:1": "10.0.0.1",
		"10.0.0.2": "10.0.0.2", "[fe80::1%eth0]:80": "fe80::1", "garbage": "invalid IP", "": "invalid IP",
	} {
		if got := ParseIP(in).String(); got != want {
			t.Errorf("ParseIP(%q) = %s, want %s", in, got, want)
		}
	}
}

// flakyListener fails Accept with errs before handing out conn.
type flakyListener struct {
	net.Listener
	errs []error
	conn net.Conn
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	if l.conn != nil {
		c := l.conn
		l.conn = nil
		return c, nil
	}
	return nil, net.ErrClosed
}

func TestAcceptRetriesWhenOutOfFileDescriptors(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	server, client := net.Pipe()
	defer client.Close()
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	ln := WrapListener(&flakyListener{errs: []error{emfile, emfile, emfile}, conn: server}, f.b, "mqtt", nil)
	start := time.Now()
	c, err := ln.Accept()
	if err != nil || c != server {
		t.Fatalf("Accept = %v, %v; want the connection after retrying", c, err)
	}
	if d := time.Since(start); d < 35*time.Millisecond || d > 2*time.Second {
		t.Errorf("retried for %s, want a 5+10+20 ms backoff", d)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after close = %v, want net.ErrClosed", err)
	}
}
