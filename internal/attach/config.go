package attach

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/tlsclient"
	"github.com/borda-edge/borda/internal/uplink/link"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// Config is one external broker borda ingests from (an `attach:` entry).
type Config struct {
	// Name labels metrics and logs.
	Name string `yaml:"name"`
	// Address is mqtt://host:port (also tcp://) or mqtts://host:port (also
	// ssl://, tls://).
	Address string `yaml:"address"`
	// ClientID must be unique among the broker's clients; it names the
	// persistent session. Default borda-<node>-<name>.
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// PasswordFile holds the password (first line); wins over Password.
	PasswordFile string           `yaml:"password_file"`
	TLS          tlsclient.Config `yaml:"tls"`
	// Subscriptions are topic filters, including MQTT 5 shared
	// subscriptions ($share/<group>/<filter>) so several collectors split
	// one stream.
	Subscriptions []string `yaml:"subscriptions"`
	// QoS of the subscriptions: 1 (default, at least once: acknowledged
	// after the readings are stored) or 0.
	QoS byte `yaml:"qos"`
	// SessionExpiry keeps the session (subscriptions and QoS 1 messages
	// queued while borda is away) on the broker this long; 0 = a clean
	// session at every connect (messages published meanwhile are lost).
	SessionExpiry time.Duration `yaml:"session_expiry"`
	Keepalive     time.Duration `yaml:"keepalive"`
	// ReceiveMaximum is how many QoS 1 messages the broker may have in
	// flight to borda (MQTT 5 Receive Maximum); they are stored in parallel.
	ReceiveMaximum uint16       `yaml:"receive_maximum"`
	Backoff        link.Backoff `yaml:"backoff"`
	// Actions: rule actions of type mqtt (alerts, commands) publish to this
	// broker instead of the embedded one. At most one attachment may set it.
	Actions bool `yaml:"actions"`
	// ActionsQueue bounds the durable queue the actions wait in while the
	// broker is unreachable.
	ActionsQueue queue.Config `yaml:"actions_queue"`
	// Peers: collectors of one shared subscription adopt the session of a
	// member that went offline (see PeersConfig). Off while empty.
	Peers PeersConfig `yaml:"peers"`
}

// DefaultConfig: QoS 1, a one-day persistent session, 1000 in flight.
func DefaultConfig() Config {
	return Config{QoS: 1, SessionExpiry: 24 * time.Hour, Keepalive: 30 * time.Second,
		ReceiveMaximum: 1000, Backoff: link.DefaultBackoff(),
		ActionsQueue: queue.Config{MaxBytes: 64 << 20, MaxAge: 7 * 24 * time.Hour},
		Peers:        PeersConfig{PresenceTopic: defaultPresenceTopic, AdoptAfter: 2 * time.Second}}
}

// UnmarshalYAML starts every list entry from DefaultConfig.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	type plain Config
	p := plain(DefaultConfig())
	if err := n.Decode(&p); err != nil {
		return err //nolint:wrapcheck // yaml's own error keeps its line
	}
	*c = Config(p)
	return nil
}

// Validate names each bad key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Name == "" || strings.ContainsAny(c.Name, "/ \t") {
		add("name: %q must be a non-empty word", c.Name)
	}
	if _, _, err := brokerURL(c.Address); err != nil {
		add("address: %v", err)
	}
	if len(c.Subscriptions) == 0 {
		add("subscriptions: at least one topic filter is needed")
	}
	for i, s := range c.Subscriptions {
		if err := validFilter(s); err != nil {
			add("subscriptions[%d]: %v", i, err)
		}
	}
	if c.QoS > 1 {
		add("qos: %d must be 0 or 1", c.QoS)
	}
	if c.SessionExpiry < 0 || c.SessionExpiry > time.Duration(1<<32-1)*time.Second {
		add("session_expiry: %s is out of range", c.SessionExpiry)
	}
	if c.Keepalive < time.Second || c.Keepalive > 65535*time.Second {
		add("keepalive: %s is out of range 1s..18h", c.Keepalive)
	}
	if c.ReceiveMaximum == 0 {
		add("receive_maximum: must be at least 1")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls: cert_file and key_file go together")
	}
	if err := c.Backoff.Validate(); err != nil {
		add("%v", err)
	}
	if err := c.ActionsQueue.Validate(); err != nil {
		add("actions_queue: %v", err)
	}
	errs = append(errs, c.Peers.validate(c.SessionExpiry, c.ClientID)...)
	return errors.Join(errs...)
}

// brokerURL normalizes the address to autopaho's schemes (mqtt, tls).
func brokerURL(addr string) (*url.URL, bool, error) {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" || u.Port() == "" {
		return nil, false, fmt.Errorf("%q: want mqtt://host:port or mqtts://host:port", addr)
	}
	switch u.Scheme {
	case "mqtt", "tcp":
		u.Scheme = "mqtt"
		return u, false, nil
	case "mqtts", "ssl", "tls":
		u.Scheme = "tls"
		return u, true, nil
	}
	return nil, false, fmt.Errorf("%q: scheme %q is not one of mqtt, tcp, mqtts, ssl, tls", addr, u.Scheme)
}

// validFilter checks an MQTT topic filter, with an optional
// $share/<group>/ prefix.
func validFilter(f string) error {
	if rest, ok := strings.CutPrefix(f, "$share/"); ok {
		group, filter, found := strings.Cut(rest, "/")
		if !found || group == "" || strings.ContainsAny(group, "+#") {
			return fmt.Errorf("%q: want $share/<group>/<filter>", f)
		}
		f = filter
	}
	if f == "" {
		return errors.New("empty topic filter")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return fmt.Errorf("%q: # must be the last level", f)
		case l != "#" && l != "+" && strings.ContainsAny(l, "+#"):
			return fmt.Errorf("%q: wildcards must fill a whole level", f)
		}
	}
	return nil
}

// ValidateAll checks every attachment and that names, client ids and the
// actions target are unique.
func ValidateAll(cs []Config) error {
	var errs []error
	names, actions := map[string]bool{}, 0
	for i, c := range cs {
		for _, e := range flatten(c.Validate()) {
			errs = append(errs, fmt.Errorf("[%d].%w", i, e))
		}
		if names[c.Name] {
			errs = append(errs, fmt.Errorf("[%d].name: %q is used twice", i, c.Name))
		}
		names[c.Name] = true
		if c.Actions {
			actions++
		}
	}
	if actions > 1 {
		errs = append(errs, fmt.Errorf("[*].actions: %d attachments set it; at most one may", actions))
	}
	return errors.Join(errs...)
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
