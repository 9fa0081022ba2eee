package simtest

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Receiver is a subscriber with a persistent session (as a cloud-side
// consumer would have) that records payloads per topic; it reconnects by
// itself when its broker restarts.
type Receiver struct {
	c        mqtt.Client
	mu       sync.Mutex
	msgs     map[string][]string
	arrivals []Message
}

// Message is one received message.
type Message struct{ Topic, Payload string }

// NewReceiver connects to addr and subscribes to filter at QoS 1.
func NewReceiver(t testing.TB, addr, filter string) *Receiver {
	t.Helper()
	r := &Receiver{msgs: map[string][]string{}}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(fmt.Sprintf("rcv-%d", time.Now().UnixNano())).
		SetCleanSession(false).SetAutoReconnect(true).SetMaxReconnectInterval(100 * time.Millisecond).
		SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).SetProtocolVersion(4).SetOrderMatters(true).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { r.add(m) })
	o.SetOnConnectHandler(func(c mqtt.Client) { c.Subscribe(filter, 1, nil) })
	r.c = mqtt.NewClient(o)
	if tok := r.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("receiver connect: %v", tok.Error())
	}
	tok := r.c.Subscribe(filter, 1, nil)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("receiver subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { r.c.Disconnect(100) })
	return r
}

func (r *Receiver) add(m mqtt.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs[m.Topic()] = append(r.msgs[m.Topic()], string(m.Payload()))
	r.arrivals = append(r.arrivals, Message{m.Topic(), string(m.Payload())})
}

// Arrivals returns every message received so far, in arrival order.
func (r *Receiver) Arrivals() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.arrivals...)
}

// Distinct counts distinct payloads over all topics.
func (r *Receiver) Distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ps := range r.msgs {
		seen := map[string]bool{}
		for _, p := range ps {
			seen[p] = true
		}
		n += len(seen)
	}
	return n
}

// Check asserts that every topic in want got payloads 0..want[topic]-1
// (decimal integers), first occurrences in increasing order; duplicates
// are counted, logged and returned.
func (r *Receiver) Check(t testing.TB, want map[string]int) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	dups := 0
	for topic, n := range want {
		seen, last := map[int]bool{}, -1
		for _, p := range r.msgs[topic] {
			i, err := strconv.Atoi(p)
			if err != nil {
				t.Fatalf("%s: payload %q", topic, p)
			}
			if seen[i] {
				dups++
				continue
			}
			if i < last {
				t.Errorf("%s: %d arrived after %d (order)", topic, i, last)
			}
			seen[i], last = true, i
		}
		missing := 0
		for i := range n {
			if !seen[i] {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d of %d missing", topic, missing, n)
		}
	}
	t.Logf("duplicates received: %d", dups)
	return dups
}
