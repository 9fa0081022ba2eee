package netmon

import (
	"encoding/binary"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// slowPeer answers TCP SYNs to any address routed into its TUN device
// with a SYN-ACK after a settable delay: a remote host behind a slow path,
// for kernels without the netem qdisc.
type slowPeer struct {
	f     *os.File
	delay atomic.Int64 // nanoseconds
	seen  atomic.Int64 // packets read
	sent  atomic.Int64 // SYN-ACKs written
	wg    sync.WaitGroup
}

// newSlowPeer creates TUN device name in namespace ns.
func newSlowPeer(t *testing.T, ns, name string) *slowPeer {
	t.Helper()
	type res struct {
		f   *os.File
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // left locked on error: the thread exits with the goroutine
		orig, err := netns.Get()
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer orig.Close()
		h, err := netns.GetFromName(ns)
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			ch <- res{err: err}
			return
		}
		f, ferr := openTun(name)
		if err := netns.Set(orig); err != nil {
			ch <- res{err: err}
			return
		}
		runtime.UnlockOSThread()
		ch <- res{f: f, err: ferr}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("tun %s in %s: %v", name, ns, r.err)
	}
	p := &slowPeer{f: r.f}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("slow peer: %d packets read, %d SYN-ACKs written", p.seen.Load(), p.sent.Load())
		}
		p.f.Close()
		p.wg.Wait()
	})
	return p
}

// openTun attaches the descriptor to the device before the runtime
// poller sees it (a detached TUN descriptor polls as an error).
func openTun(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ifr, err := unix.NewIfreq(name)
	if err == nil {
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	}
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "tun"), nil
}

func (p *slowPeer) serve() {
	defer p.wg.Done()
	var timers sync.WaitGroup
	defer timers.Wait()
	buf := make([]byte, 2048)
	for {
		n, err := p.f.Read(buf)
		if err != nil {
			return
		}
		p.seen.Add(1)
		reply := synAck(buf[:n])
		if reply == nil {
			continue
		}
		d := time.Duration(p.delay.Load())
		timers.Add(1)
		time.AfterFunc(d, func() {
			defer timers.Done()
			if _, err := p.f.Write(reply); err == nil { // fails once closed: fine
				p.sent.Add(1)
			}
		})
	}
}

// synAck returns the SYN-ACK for an IPv4 TCP SYN, nil for anything else.
func synAck(pkt []byte) []byte {
	if len(pkt) < 20 || pkt[0]>>4 != 4 || pkt[9] != unix.IPPROTO_TCP {
		return nil
	}
	ihl := int(pkt[0]&0x0f) * 4
	if len(pkt) < ihl+20 {
		return nil
	}
	tcp := pkt[ihl:]
	if tcp[13] != 0x02 { // SYN only
		return nil
	}
	out := make([]byte, 40)
	ip := out[:20]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], 40)
	ip[8] = 64
	ip[9] = unix.IPPROTO_TCP
	copy(ip[12:16], pkt[16:20]) // src = their dst
	copy(ip[16:20], pkt[12:16])
	binary.BigEndian.PutUint16(ip[10:], checksum(ip, 0))
	th := out[20:]
	copy(th[0:2], tcp[2:4]) // src port = their dst port
	copy(th[2:4], tcp[0:2])
	binary.BigEndian.PutUint32(th[4:], 0x1000)                             // our ISN
	binary.BigEndian.PutUint32(th[8:], binary.BigEndian.Uint32(tcp[4:])+1) // ack their SYN
	th[12] = 5 << 4
	th[13] = 0x12 // SYN|ACK
	binary.BigEndian.PutUint16(th[14:], 65535)
	var pseudo uint32
	for i := 12; i < 20; i += 2 {
		pseudo += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	pseudo += unix.IPPROTO_TCP + 20
	binary.BigEndian.PutUint16(th[16:], checksum(th, pseudo))
	return out
}

func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// TestLatencyWarningSlowUpstream adds 150 ms on the primary's path to its
// target (a TUN peer delaying its SYN-ACKs) and expects the latency
// warning, measured for the primary only, and no failover.
func TestLatencyWarningSlowUpstream(t *testing.T) {
	tp := newTopo(t)
	tun := "nmt" + tp.p[3:]
	peer := newSlowPeer(t, tp.inet, tun)
	ipCmd(t, "-n", tp.inet, "link", "set", tun, "up")
	ipCmd(t, "-n", tp.inet, "route", "add", "9.9.9.9/32", "dev", tun)
	if out, err := execIn(tp.inet, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward; for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > $f; done"); err != nil {
		t.Fatalf("ip_forward: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("ip", "-n", tp.inet, "-s", "link", "show", tun).CombinedOutput()
			out2, _ := execIn(tp.inet, "sh", "-c", "ip route; cat /proc/sys/net/ipv4/ip_forward; grep -A1 ^Ip: /proc/net/snmp; grep -A1 ^Tcp: /proc/net/snmp")
			t.Logf("%s\n%s", out, out2)
		}
	})
	cfg := tp.config(false)
	cfg.Timeout = time.Second
	cfg.Uplinks[1].Targets = []string{"9.9.9.9:53"} // primary
	tp.startPrimaryActive(t, cfg)

	m := tp.mark()
	peer.delay.Store(int64(150 * time.Millisecond))
	_, e := tp.waitEvent(t, m, LatencyHigh, "primary", 10*time.Second)
	if e.Latency <= cfg.LatencyWarning {
		t.Fatalf("latency event: %v", e)
	}
	tp.waitStatus(t, 5*time.Second, func(st Status) bool {
		var p, b UplinkStatus
		for _, u := range st.Uplinks {
			switch u.Name {
			case "primary":
				p = u
			case "backup":
				b = u
			}
		}
		return p.LatencyAvg >= 140*time.Millisecond && p.LatencyP95 >= 140*time.Millisecond &&
			p.Loss == 0 && b.LatencyAvg < 100*time.Millisecond && st.Active == "primary"
	})
	peer.delay.Store(0)
	tp.waitEvent(t, m, LatencyNormal, "primary", 10*time.Second)
	for _, e := range tp.eventsSince(m) {
		if e.Kind == Failover {
			t.Fatalf("latency alone must not fail over: %v", e)
		}
	}
}
