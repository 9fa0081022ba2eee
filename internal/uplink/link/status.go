package link

import "log/slog"

// Publisher is the local broker's inline client.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
}

// Status values published on an output's status topic.
const (
	Online  = "online"
	Offline = "offline"
)

// StatusTopic is override, or borda/uplink/<name>/status.
func StatusTopic(name, override string) string {
	if override != "" {
		return override
	}
	return "borda/uplink/" + name + "/status"
}

// Status publishes an output's state, retained, on its local status topic
// and in the borda_uplink_connected gauge, only when it changes.
type Status struct {
	topic string
	local Publisher // nil: metric only
	met   *Metrics
	log   *slog.Logger
	last  string
}

// NewStatus returns a Status; call Set(Offline) once the output starts.
func NewStatus(topic string, local Publisher, met *Metrics, log *slog.Logger) *Status {
	return &Status{topic: topic, local: local, met: met, log: log}
}

// Set records s (Online or Offline). Not safe for concurrent use: one
// goroutine per output owns its status.
func (s *Status) Set(state string) {
	if state == s.last {
		return
	}
	s.last = state
	if s.met != nil {
		v := 0.0
		if state == Online {
			v = 1
		}
		s.met.Connected.Set(v)
	}
	if s.local == nil {
		return
	}
	if err := s.local.Publish(s.topic, []byte(state), true, 1); err != nil {
		s.log.Warn("publish uplink status", "status", state, "err", err)
	}
}
