package mqttbridge

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestMatchAndMap(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"sensors/#", "sensors/a/b", true}, {"sensors/#", "sensors", true}, {"sensors/+", "sensors/a/b", false},
		{"sensors/+/t", "sensors/a/t", true}, {"#", "$SYS/x", false}, {"a/b", "a/b", true}, {"a/b", "a/b/c", false},
	}
	for _, c := range cases {
		if got := matchTopic(c.filter, c.topic); got != c.want {
			t.Errorf("match(%q, %q) = %v", c.filter, c.topic, got)
		}
	}
	out := Mapping{Filter: "sensors/#", AddPrefix: "site1/"}
	if got := out.apply("sensors/a/b"); got != "site1/sensors/a/b" {
		t.Errorf("out: %q", got)
	}
	in := Mapping{Filter: "site1/cmd/#", StripPrefix: "site1/"}
	if got := in.apply("site1/cmd/line1"); got != "cmd/line1" {
		t.Errorf("in: %q", got)
	}
}

func TestValidate(t *testing.T) {
	c := DefaultConfig()
	c.Address = "http://x"
	c.InflightWindow = 0
	c.Out = []Mapping{{Filter: "a/#/b", QoS: 3, Priority: "urgent"}}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"name", "address", "inflight_window", "# must be", "qos 3", "priority"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	c = DefaultConfig()
	c.Name, c.Address, c.Out = "cloud", "tcp://127.0.0.1:1883", []Mapping{{Filter: "sensors/#"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestUnmarshalYAMLDefaults(t *testing.T) {
	var cs []Config
	src := "- name: cloud\n  address: tcp://127.0.0.1:1883\n  out: [{filter: sensors/#, add_prefix: site1/, qos: 1}]\n  backoff: {max: 5s}\n  queue: {max_bytes: 1000}\n"
	if err := yaml.Unmarshal([]byte(src), &cs); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Name, want.Address = "cloud", "tcp://127.0.0.1:1883"
	want.Out = []Mapping{{Filter: "sensors/#", AddPrefix: "site1/", QoS: 1}}
	want.Backoff.Max = 5 * time.Second
	want.Queue.MaxBytes = 1000
	if len(cs) != 1 || !reflect.DeepEqual(cs[0], want) {
		t.Fatalf("got %+v\nwant %+v", cs, want)
	}
}
