package bench

import (
	"fmt"
	"slices"
	"strings"
)

// Servers a scenario runs.
const (
	ServerBorda     = "borda"
	ServerMosquitto = "mosquitto"
)

// Scenario is one named end-to-end measurement: a server started fresh,
// the run's load published to it, and what must come out checked.
type Scenario struct {
	Name      string
	Server    string // ServerBorda or ServerMosquitto
	QoS       byte   // of the publishes (and of the subscription)
	Subscribe bool   // a subscriber on "#" must receive every message (publish -> subscribe)
	Store     bool   // borda's store must hold every reading (checked through its query API)
	// Alerts: an alert probe (a second, light simulator with
	// ExpectAlerts and AlertRate) measures publish -> alert latency of
	// borda's seed rules; every alert that never arrives is lost.
	Alerts bool
	// Background: the run's load is published at QoS 0 at the same time
	// (alert scenarios: 100,000 msgs/s unless --rate says otherwise).
	Background bool
	// Uplink: borda forwards every reading through an uplink MQTT bridge
	// to a second Mosquitto (the cloud); the subscriber counts there.
	Uplink bool
	// CloudDown: the uplink's cloud broker is unreachable, so borda only
	// queues (the queue's own cost); every message must be queued.
	CloudDown bool
	About     string // one line for --list and the README
}

// Scenarios returns every scenario in the order they run.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "mosquitto-qos0", Server: ServerMosquitto, QoS: 0, Subscribe: true,
			About: "Mosquitto delivers the load to one subscriber (QoS 0)"},
		{Name: "mosquitto-qos1", Server: ServerMosquitto, QoS: 1, Subscribe: true,
			About: "Mosquitto delivers the load to one subscriber (QoS 1 publish and subscription)"},
		{Name: "borda-ingest-qos0", Server: ServerBorda, QoS: 0, Store: true,
			About: "borda stores every reading in its TSDB (QoS 0)"},
		{Name: "borda-ingest-qos1", Server: ServerBorda, QoS: 1, Store: true,
			About: "borda stores every reading; PUBACK after the reading is stored (QoS 1)"},
		{Name: "borda-uplink-qos1", Server: ServerBorda, QoS: 1, Subscribe: true, Store: true, Uplink: true,
			About: "borda-ingest-qos1 plus an uplink bridge: PUBACK after the reading is stored and queued on disk; a subscriber on a second Mosquitto (the cloud) must get every message"},
		{Name: "borda-queue-qos1", Server: ServerBorda, QoS: 1, Store: true, Uplink: true, CloudDown: true,
			About: "borda-ingest-qos1 with the uplink's cloud unreachable: every reading is stored and queued on disk before PUBACK (the queue's cost alone)"},
		{Name: "borda-pubsub-qos0", Server: ServerBorda, QoS: 0, Subscribe: true, Store: true,
			About: "borda stores every reading and delivers the load to one subscriber (QoS 0)"},
		{Name: "borda-alert-idle", Server: ServerBorda, QoS: 0, Alerts: true,
			About: "publish -> alert latency of the seed rules at 1,000 msgs/s, 5% of them over a threshold"},
		{Name: "borda-alert-load", Server: ServerBorda, QoS: 0, Alerts: true, Background: true,
			About: "the same alert probe on top of 100,000 readings/s of background load (QoS 0)"},
	}
}

// SelectScenarios returns the scenarios named in a comma-separated list,
// in their standard order; an empty list selects all of them.
func SelectScenarios(list string) ([]Scenario, error) {
	all := Scenarios()
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	want := map[string]bool{}
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.ContainsFunc(all, func(s Scenario) bool { return s.Name == name }) {
			return nil, fmt.Errorf("unknown scenario %q (one of %s)", name, scenarioNames(all))
		}
		want[name] = true
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("no scenario named in %q", list)
	}
	return slices.DeleteFunc(all, func(s Scenario) bool { return !want[s.Name] }), nil
}

func scenarioNames(ss []Scenario) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}
