package broker

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config is the broker section of borda.yaml. Names and meanings follow
// Mosquitto's configuration where an equivalent exists.
type Config struct {
	// Listeners are the network endpoints. Default: TCP on 1883 and
	// WebSocket on 9001, all interfaces.
	Listeners []ListenerConfig `yaml:"listeners"`
	// MaxConnections bounds concurrently connected clients (Mosquitto max_connections).
	MaxConnections int `yaml:"max_connections"`
	// MaxInflightMessages bounds QoS 1/2 messages being transmitted to one
	// client at once, and the QoS 1/2 messages a client may have unacknowledged
	// towards the broker (MQTT 5 Receive Maximum). Mosquitto max_inflight_messages.
	MaxInflightMessages int `yaml:"max_inflight_messages"`
	// MaxQueuedMessages bounds QoS 1/2 messages held for one client, in flight
	// or queued while it is offline (Mosquitto max_queued_messages). Past it,
	// new messages for that client are dropped and counted (reason inflight_quota).
	MaxQueuedMessages int `yaml:"max_queued_messages"`
	// MessageSizeLimit is the largest accepted PUBLISH payload in bytes
	// (Mosquitto message_size_limit). Larger ones are refused and counted.
	MessageSizeLimit int `yaml:"message_size_limit"`
	// MaxPublishRate bounds the messages one client may publish per second
	// (token bucket, burst of one second's worth); past it messages are
	// refused and counted (MQTT 5 QoS 1/2: PUBACK 0x96 message rate too
	// high). 0 means unlimited.
	MaxPublishRate float64 `yaml:"max_publish_rate"`
	// MaxPacketSize is the largest accepted MQTT packet in bytes; a client
	// sending a larger one is disconnected. 0 means message_size_limit plus
	// room for topic and properties.
	MaxPacketSize int `yaml:"max_packet_size"`
	// MaxClientWritesPending bounds packets waiting to be written to one
	// client's socket; past it, messages to that slow client are dropped and
	// counted (reason client_writes_pending).
	MaxClientWritesPending int `yaml:"max_client_writes_pending"`
	// MessageExpiry is the longest a queued or retained message is kept
	// (MQTT 5 clients may ask for less). 0 keeps messages forever.
	MessageExpiry time.Duration `yaml:"message_expiry"`
	// SessionExpiry is how long a disconnected persistent session is kept
	// (Mosquitto persistent_client_expiration). 0 keeps sessions forever.
	SessionExpiry time.Duration `yaml:"session_expiry"`
	// Persistence keeps retained messages, sessions, subscriptions and
	// queued messages across restarts in <data_dir>/broker.db.
	Persistence PersistenceConfig `yaml:"persistence"`
}

// ListenerConfig is one network endpoint of the broker.
type ListenerConfig struct {
	Name     string     `yaml:"name"`     // unique, used in logs and metrics
	Protocol string     `yaml:"protocol"` // mqtt (TCP) or websocket
	Address  string     `yaml:"address"`  // interface address; empty means all
	Port     int        `yaml:"port"`     // 0 picks a free port (tests)
	TLS      *TLSConfig `yaml:"tls"`      // optional: serve TLS with this certificate
}

// TLSConfig names a PEM certificate and key for a listener, and how it
// treats client certificates. The files are read again on reload (SIGHUP).
type TLSConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile is the PEM bundle client certificates are verified with.
	ClientCAFile string `yaml:"client_ca_file"`
	// ClientCerts is none (default), optional or require (mTLS).
	ClientCerts string `yaml:"client_certs"`
}

// PersistenceConfig controls the broker's embedded store.
type PersistenceConfig struct {
	Enabled bool `yaml:"enabled"`
	// Fsync makes every store write wait for the disk. Without it, state
	// survives a crash of borda (kill -9) but recent changes may be lost on
	// power failure.
	Fsync bool `yaml:"fsync"`
}

// Protocols accepted in ListenerConfig.Protocol.
const (
	ProtocolMQTT      = "mqtt"
	ProtocolWebsocket = "websocket"
)

// DefaultConfig mirrors the limits of the seed's Mosquitto configuration.
func DefaultConfig() Config {
	return Config{
		Listeners: []ListenerConfig{
			{Name: "mqtt", Protocol: ProtocolMQTT, Port: 1883},
			{Name: "websocket", Protocol: ProtocolWebsocket, Port: 9001},
		},
		MaxConnections:         1000,
		MaxInflightMessages:    100,
		MaxQueuedMessages:      1000,
		MessageSizeLimit:       10240,
		MaxClientWritesPending: 8192,
		MessageExpiry:          24 * time.Hour,
		Persistence:            PersistenceConfig{Enabled: true},
	}
}

// Validate reports every problem, each prefixed with its field path.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	names := map[string]bool{}
	for i, l := range c.Listeners {
		p := fmt.Sprintf("listeners[%d]", i)
		for _, err := range l.validate() {
			add("%s.%w", p, err)
		}
		if l.Name != "" && names[l.Name] {
			add("%s.name: %q is used by another listener", p, l.Name)
		}
		names[l.Name] = true
	}
	positive := []struct {
		name string
		v    int
		max  int
	}{
		{"max_connections", c.MaxConnections, 1 << 30},
		{"max_inflight_messages", c.MaxInflightMessages, 65535},
		{"max_queued_messages", c.MaxQueuedMessages, 65535},
		{"message_size_limit", c.MessageSizeLimit, 268435455},
		{"max_client_writes_pending", c.MaxClientWritesPending, 1 << 24},
	}
	for _, f := range positive {
		if f.v < 1 || f.v > f.max {
			add("%s: %d is out of range 1..%d", f.name, f.v, f.max)
		}
	}
	if c.MaxQueuedMessages < c.MaxInflightMessages {
		add("max_queued_messages: %d is less than max_inflight_messages (%d)", c.MaxQueuedMessages, c.MaxInflightMessages)
	}
	if c.MaxPacketSize != 0 && (c.MaxPacketSize < c.MessageSizeLimit || c.MaxPacketSize > 268435455) {
		add("max_packet_size: %d must be 0 or between message_size_limit (%d) and 268435455", c.MaxPacketSize, c.MessageSizeLimit)
	}
	if c.MaxPublishRate < 0 {
		add("max_publish_rate: %g is negative (0 means unlimited)", c.MaxPublishRate)
	}
	if c.MessageExpiry < 0 {
		add("message_expiry: %s is negative", c.MessageExpiry)
	}
	if c.SessionExpiry < 0 {
		add("session_expiry: %s is negative", c.SessionExpiry)
	}
	return errors.Join(errs...)
}

func (l ListenerConfig) validate() []error {
	var errs []error
	if l.Name == "" {
		errs = append(errs, errors.New("name: is required"))
	}
	if l.Protocol != ProtocolMQTT && l.Protocol != ProtocolWebsocket {
		errs = append(errs, fmt.Errorf("protocol: %q is not one of %s, %s", l.Protocol, ProtocolMQTT, ProtocolWebsocket))
	}
	if l.Port < 0 || l.Port > 65535 {
		errs = append(errs, fmt.Errorf("port: %d is not a valid port", l.Port))
	}
	if l.Address != "" && net.ParseIP(l.Address) == nil && !validHostname(l.Address) {
		errs = append(errs, fmt.Errorf("address: %q is not an IP address or host name", l.Address))
	}
	if l.TLS != nil {
		errs = append(errs, l.TLS.validate()...)
	}
	return errs
}

// Addr is the host:port the listener binds.
func (l ListenerConfig) Addr() string {
	return net.JoinHostPort(l.Address, fmt.Sprint(l.Port))
}

func validHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, r := range s {
		ok := r == '-' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// packetSize is the effective maximum MQTT packet size.
func (c Config) packetSize() int {
	if c.MaxPacketSize > 0 {
		return c.MaxPacketSize
	}
	// Room for a topic of up to 64 KiB and MQTT 5 properties.
	return c.MessageSizeLimit + 65536 + 4096
}
