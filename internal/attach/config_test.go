package attach

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Name, ok.Address, ok.Subscriptions = "cloud", "mqtts://broker.example.com:8883", []string{"$share/g/edge/+/sensors/#"}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"tcp scheme", func(c *Config) { c.Address = "tcp://10.0.0.1:1883" }, ""},
		{"no port", func(c *Config) { c.Address = "mqtt://broker" }, "address"},
		{"http scheme", func(c *Config) { c.Address = "http://broker:80" }, "address"},
		{"no subscriptions", func(c *Config) { c.Subscriptions = nil }, "subscriptions"},
		{"bad share", func(c *Config) { c.Subscriptions = []string{"$share/edge"} }, "subscriptions[0]"},
		{"hash in the middle", func(c *Config) { c.Subscriptions = []string{"a/#/b"} }, "subscriptions[0]"},
		{"partial wildcard", func(c *Config) { c.Subscriptions = []string{"a/b+"} }, "subscriptions[0]"},
		{"qos 2", func(c *Config) { c.QoS = 2 }, "qos"},
		{"receive maximum", func(c *Config) { c.ReceiveMaximum = 0 }, "receive_maximum"},
		{"cert without key", func(c *Config) { c.TLS.CertFile = "c.pem" }, "tls"},
		{"name with slash", func(c *Config) { c.Name = "a/b" }, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			c.Subscriptions = append([]string(nil), ok.Subscriptions...)
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestYAMLDefaultsAndUnique(t *testing.T) {
	var cs []Config
	src := "- {name: a, address: 'mqtt://h:1883', subscriptions: [x/#], actions: true}\n" +
		"- {name: a, address: 'mqtt://h:1883', subscriptions: [y/#], actions: true, qos: 0}\n"
	if err := yaml.Unmarshal([]byte(src), &cs); err != nil {
		t.Fatal(err)
	}
	if cs[0].QoS != 1 || cs[0].ReceiveMaximum != 1000 || cs[1].QoS != 0 || cs[0].SessionExpiry == 0 {
		t.Fatalf("defaults not applied: %+v", cs)
	}
	err := ValidateAll(cs)
	if err == nil || !strings.Contains(err.Error(), "used twice") || !strings.Contains(err.Error(), "actions") {
		t.Fatalf("err %v", err)
	}
}

func FuzzValidFilter(f *testing.F) {
	for _, s := range []string{"a/b", "$share/g/a/+/#", "#", "+/+", "$share//x", "a/#/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = validFilter(s)
	})
}
