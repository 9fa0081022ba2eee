package simulate

// Generator produces the fleet's messages without a broker, for
// benchmarks and tests that feed borda's ingest directly (for example a
// day of 1 Hz readings with simulated timestamps). It uses the same
// devices and payloads as Run.
type Generator struct {
	devs []*device
	next int
	buf  []byte
}

// NewGenerator builds the fleet of cfg (Devices, Profile, Seed,
// AnomalyRate, MalformedRate, AlertRate and DevicePrefix are used).
func NewGenerator(cfg Config) (*Generator, error) {
	if cfg.Broker == "" {
		cfg.Broker = "tcp://127.0.0.1:1883" // not used; keeps Validate happy
	}
	if cfg.Duration == 0 && cfg.Count == 0 {
		cfg.Count = 1
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Generator{devs: newFleet(&cfg)}, nil
}

// Devices is the number of devices in the fleet.
func (g *Generator) Devices() int { return len(g.devs) }

// Series is the number of message series (topics) of the fleet: calling
// Next that many times yields one message of each.
func (g *Generator) Series() int {
	n := 0
	for _, d := range g.devs {
		n += len(d.series)
	}
	return n
}

// Next returns the next message: every series of one device, then the
// next device. nowNs (Unix ns) is the simulated send time; the reading's
// timestamp is its millisecond (strictly increasing per series). The
// returned slices are valid until the next call.
func (g *Generator) Next(nowNs int64) (topic, payload []byte) {
	d := g.devs[g.next]
	topic, g.buf, _ = d.emit(g.buf, nowNs)
	if d.next == 0 { // the device has emitted each of its series
		g.next = (g.next + 1) % len(g.devs)
	}
	return topic, g.buf
}
