package auth

import (
	"context"
	"crypto/tls"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/borda-edge/borda/internal/testkit"
)

// inbox collects messages delivered to a test client.
type inbox struct {
	mu     sync.Mutex
	topics []string
	ch     chan struct{}
}

func newInbox() *inbox { return &inbox{ch: make(chan struct{}, 1)} }

func (b *inbox) add(topic string) {
	b.mu.Lock()
	b.topics = append(b.topics, topic)
	b.mu.Unlock()
	select {
	case b.ch <- struct{}{}:
	default:
	}
}

// waitFor returns every topic received up to and including topic.
func (b *inbox) waitFor(t *testing.T, topic string) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		got := append([]string(nil), b.topics...)
		b.mu.Unlock()
		for _, g := range got {
			if g == topic {
				return got
			}
		}
		select {
		case <-b.ch:
		case <-deadline:
			t.Fatalf("%s not received; got %v", topic, got)
		}
	}
}

// v5 describes an MQTT 5 connection.
type v5 struct {
	id, user, pass string
	will           *paho.WillMessage
	tls            *tls.Config
	inbox          *inbox
}

// connectV5 connects with Eclipse Paho (MQTT 5). On success the client is
// disconnected at cleanup.
func connectV5(t *testing.T, addr string, o v5) (*paho.Client, *paho.Connack, error) {
	t.Helper()
	var conn net.Conn
	var err error
	if o.tls != nil {
		conn, err = tls.Dial("tcp", addr, o.tls)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		return nil, nil, err
	}
	cfg := paho.ClientConfig{ClientID: o.id, Conn: conn}
	if o.inbox != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			o.inbox.add(pr.Packet.Topic)
			return true, nil
		}}
	}
	c := paho.NewClient(cfg)
	cp := &paho.Connect{ClientID: o.id, CleanStart: true, KeepAlive: 30, WillMessage: o.will}
	if o.tls != nil {
		// paho.golang v0.23.0 writes a packet as several writes (net.Buffers)
		// and sends its first PINGREQ at once from another goroutine; on a
		// *tls.Conn each write is a record, so the PINGREQ can land inside a
		// PUBLISH and the broker rightly drops the malformed packet. Without
		// keepalive there is no pinger.
		cp.KeepAlive = 0
	}
	if o.user != "" {
		cp.UsernameFlag, cp.Username = true, o.user
	}
	if o.pass != "" {
		cp.PasswordFlag, cp.Password = true, []byte(o.pass)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err := c.Connect(ctx, cp)
	if err != nil {
		<-c.Done()
		return nil, ca, err
	}
	t.Cleanup(func() {
		_ = c.Disconnect(&paho.Disconnect{})
		<-c.Done()
	})
	return c, ca, nil
}

func mustV5(t *testing.T, addr string, o v5) *paho.Client {
	t.Helper()
	c, ca, err := connectV5(t, addr, o)
	if err != nil {
		t.Fatalf("connect %s as %q: %v (%+v)", o.id, o.user, err, ca)
	}
	return c
}

// subscribeV5 returns the SUBACK reason code.
func subscribeV5(t *testing.T, c *paho.Client, filter string) byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if sa == nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	return sa.Reasons[0]
}

// publishV5 returns the PUBACK reason code (QoS 1) or 0 (QoS 0).
func publishV5(t *testing.T, c *paho.Client, topic string, qos byte) byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pr, err := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: qos, Payload: []byte("x")})
	if qos == 0 {
		if err != nil {
			t.Fatalf("publish %s: %v", topic, err)
		}
		return 0
	}
	if pr == nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
	return pr.ReasonCode
}

// connectV3 connects with Eclipse Paho (MQTT 3.1.1); lost is closed when
// the connection is lost.
func connectV3(t *testing.T, addr, id, user, pass string, in *inbox) (mqtt3.Client, chan struct{}, error) {
	t.Helper()
	lost := make(chan struct{})
	var once sync.Once
	opts := mqtt3.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetUsername(user).SetPassword(pass).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second).
		SetConnectionLostHandler(func(mqtt3.Client, error) { once.Do(func() { close(lost) }) })
	if in != nil {
		opts.SetDefaultPublishHandler(func(_ mqtt3.Client, m mqtt3.Message) { in.add(m.Topic()) })
	}
	c := mqtt3.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatalf("connect %s: timed out", id)
	}
	if err := tok.Error(); err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, lost, nil
}

// mosquitto runs mosquitto_pub or mosquitto_sub and returns its exit code
// and output.
func mosquitto(t *testing.T, name string, args ...string) (int, string) {
	t.Helper()
	path := testkit.RequireCommand(t, name, "mosquitto-clients")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out: %s", name, strings.Join(args, " "), out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return code, string(out)
}

// hostPort splits an address for mosquitto's -h and -p.
func hostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}
