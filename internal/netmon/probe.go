package netmon

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// bindControl binds a socket to ifname (SO_BINDTODEVICE) before it
// connects, so the probe leaves through that uplink whatever the
// routing table prefers.
func bindControl(ifname string) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, ifname)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("SO_BINDTODEVICE %s: %w", ifname, serr)
		}
		return nil
	}
}

// probeTCP measures a TCP connect to addr through ifname.
func probeTCP(ctx context.Context, ifname, addr string, timeout time.Duration) (time.Duration, error) {
	d := net.Dialer{Timeout: timeout, Control: bindControl(ifname)}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp4", addr)
	rtt := time.Since(start)
	if err != nil {
		return 0, err
	}
	_ = c.Close()
	return rtt, nil
}

var icmpSeq atomic.Uint32

// probeICMP sends one echo request through an unprivileged ping socket
// (SOCK_DGRAM, IPPROTO_ICMP) bound to ifname. The kernel allows it only
// for groups in net.ipv4.ping_group_range.
func probeICMP(ctx context.Context, ifname, host string, timeout time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", host)
	if err != nil || len(ips) == 0 {
		return 0, fmt.Errorf("resolve %s: %v", host, err)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_ICMP)
	if err != nil {
		return 0, fmt.Errorf("ping socket: %w", err)
	}
	if err := syscall.SetsockoptString(fd, syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, ifname); err != nil {
		syscall.Close(fd)
		return 0, fmt.Errorf("SO_BINDTODEVICE %s: %w", ifname, err)
	}
	f := os.NewFile(uintptr(fd), "ping")
	pc, err := net.FilePacketConn(f)
	f.Close() // FilePacketConn dups the descriptor
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	_ = pc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = pc.SetDeadline(time.Now()) })
	defer stop()
	seq := int(icmpSeq.Add(1) & 0xffff)
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: 0, Seq: seq, Data: []byte("borda")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return 0, err
	}
	dst := &net.UDPAddr{IP: ips[0]}
	start := time.Now()
	if _, err := pc.WriteTo(b, dst); err != nil {
		return 0, err
	}
	buf := make([]byte, 1500)
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			return 0, err
		}
		rm, err := icmp.ParseMessage(1, buf[:n])
		if err != nil {
			continue
		}
		if e, ok := rm.Body.(*icmp.Echo); ok && rm.Type == ipv4.ICMPTypeEchoReply && e.Seq == seq {
			return time.Since(start), nil
		}
	}
}

// probe runs one target.
func probe(ctx context.Context, ifname string, t Target, timeout time.Duration) (time.Duration, error) {
	if t.ICMP {
		return probeICMP(ctx, ifname, t.Addr, timeout)
	}
	return probeTCP(ctx, ifname, t.Addr, timeout)
}
