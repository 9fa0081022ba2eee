package simtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// FakeRules stands in for borda's seed rules on a broker that has none
// (Mosquitto): it subscribes to the readings of sensors/+/temperature,
// sensors/+/pressure and vehicles/+/location, applies the seed thresholds
// (value > 80, value > 100, speed > 120) per topic, and publishes borda's
// alert JSON (internal/alerts DefaultPayload) to alerts/critical at QoS 2:
// "firing" on the first reading of a topic over the threshold, "resolved"
// on the first one not over it. Payloads that are not JSON with a numeric
// field and "ts" are skipped, as borda's ingest rejects them.
type FakeRules struct {
	c   mqtt.Client
	opt FakeRulesOptions

	mu       sync.Mutex
	firing   map[string]bool // by topic (handler goroutine only, but read under mu)
	fired    int
	resolved int
	dropped  int
}

// FakeRulesOptions change what FakeRules publishes.
type FakeRulesOptions struct {
	// DropEvery leaves out every n-th firing event (its resolved event is
	// still sent), to test that missing alerts are detected. 0 = none.
	DropEvery int
	// SpeedType is the alert type of the speed rule; default OVERSPEED.
	SpeedType string
}

type fakeRule struct {
	name, typ, field string
	threshold        float64
}

// StartFakeRules connects to the broker at addr (host:port, plain TCP)
// and subscribes before it returns. It disconnects when the test ends.
func StartFakeRules(t testing.TB, addr string, opt FakeRulesOptions) *FakeRules {
	t.Helper()
	if opt.SpeedType == "" {
		opt.SpeedType = "OVERSPEED"
	}
	f := &FakeRules{opt: opt, firing: map[string]bool{}}
	rules := map[string]fakeRule{
		"sensors/temperature": {"high_temperature", "HIGH_TEMPERATURE", "value", 80},
		"sensors/pressure":    {"high_pressure", "HIGH_PRESSURE", "value", 100},
		"vehicles/location":   {"overspeed", opt.SpeedType, "speed", 120},
	}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(fmt.Sprintf("fake-rules-%d", time.Now().UnixNano())).
		SetCleanSession(true).SetAutoReconnect(false).SetProtocolVersion(4).SetOrderMatters(true).
		SetConnectTimeout(5 * time.Second)
	f.c = mqtt.NewClient(o)
	wait(t, "fake rules: connect", f.c.Connect())
	t.Cleanup(func() { f.c.Disconnect(250) })
	handler := func(_ mqtt.Client, m mqtt.Message) {
		parts := strings.Split(m.Topic(), "/")
		if len(parts) != 3 {
			return
		}
		r, ok := rules[parts[0]+"/"+parts[2]]
		if !ok {
			return
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(m.Payload(), &fields) != nil {
			return
		}
		v, err1 := strconv.ParseFloat(string(fields[r.field]), 64)
		ts, err2 := strconv.ParseInt(string(fields["ts"]), 10, 64)
		if err1 != nil || err2 != nil {
			return
		}
		f.apply(m.Topic(), parts[1], r, v, ts)
	}
	filters := map[string]byte{"sensors/+/temperature": 1, "sensors/+/pressure": 1, "vehicles/+/location": 1}
	wait(t, "fake rules: subscribe", f.c.SubscribeMultiple(filters, handler))
	return f
}

// apply runs one reading through the rule of its topic.
func (f *FakeRules) apply(topic, device string, r fakeRule, v float64, ts int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	over, was := v > r.threshold, f.firing[topic]
	if over == was {
		return
	}
	f.firing[topic] = over
	state := "resolved"
	if over {
		state = "firing"
		f.fired++
		if f.opt.DropEvery > 0 && f.fired%f.opt.DropEvery == 0 {
			f.dropped++ // the episode's resolved event is still sent
			return
		}
	} else {
		f.resolved++
	}
	payload := fmt.Sprintf(`{"timestamp":%q,"type":%q,"device_id":%q,"value":%s,"severity":"critical",`+
		`"requires_action":true,"state":%q,"rule":%q,"id":"%s:%s:%d"}`,
		time.UnixMilli(ts).UTC().Format(time.RFC3339Nano), r.typ, device, strconv.FormatFloat(v, 'f', -1, 64),
		state, r.name, r.name, device, ts)
	f.c.Publish("alerts/critical", 2, false, payload) // not waited for: the handler must not block
}

// Published returns the firing and resolved events published so far and
// the firing events left out (DropEvery).
func (f *FakeRules) Published() (fired, resolved, dropped int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fired - f.dropped, f.resolved, f.dropped
}

func wait(t testing.TB, what string, tok mqtt.Token) {
	t.Helper()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatalf("%s: timed out", what)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
