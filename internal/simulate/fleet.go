package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// kind is what a simulated device is.
type kind uint8

const (
	kindMachine kind = iota // sensors/<id>/{temperature,pressure,vibration}
	kindEnv                 // sensors/<id>/{temperature,humidity}
	kindVehicle             // vehicles/<id>/location
	kindStatus              // devices/<id>/status
	kindCamera              // cameras/<id>/detection
	numKinds
)

func (k kind) String() string {
	switch k {
	case kindMachine:
		return "machine"
	case kindEnv:
		return "environment"
	case kindVehicle:
		return "vehicle"
	case kindStatus:
		return "status"
	}
	return "camera"
}

// profileWeights is the share of each kind (out of 20) in a profile.
func profileWeights(profile string) [numKinds]int {
	switch profile {
	case ProfileCity:
		return [numKinds]int{kindEnv: 8, kindCamera: 5, kindVehicle: 4, kindStatus: 3}
	case ProfileVehicles:
		return [numKinds]int{kindVehicle: 18, kindStatus: 2}
	case ProfileMixed:
		return [numKinds]int{4, 4, 4, 4, 4}
	}
	return [numKinds]int{kindMachine: 12, kindEnv: 4, kindStatus: 3, kindCamera: 1}
}

// kindPattern interleaves the kinds of a profile over 20 slots (device i
// is pattern[i%20]), so that even a small fleet gets the mix.
func kindPattern(profile string) []kind {
	w := profileWeights(profile)
	var given [numKinds]int
	out := make([]kind, 0, 20)
	for slot := 1; slot <= 20; slot++ {
		best, bestLag := kind(0), -1<<31
		for k := range numKinds {
			if w[k] == 0 {
				continue
			}
			if lag := w[k]*slot - given[k]*20; lag > bestLag {
				best, bestLag = k, lag
			}
		}
		given[best]++
		out = append(out, best)
	}
	return out
}

// series is one topic a device publishes on and the metric borda stores
// its readings under.
type series struct {
	topic  []byte
	metric string
	lastTS int64 // Unix ms of the last reading; readings get distinct, increasing timestamps
	good   int64 // readings sent with a well-formed payload
	proc   process

	// The seed alert rule that watches this series (see alerts.go).
	rule  ruleID  // noRule: none
	over  bool    // the last reading met the rule's condition (the alert is firing)
	force float64 // AlertRate accumulator: a reading is forced over the threshold when it reaches 1
}

// device is one simulated device. It is owned by one connection's sender.
type device struct {
	id       string
	kind     kind
	location string
	rng      *rand.Rand
	series   []series
	next     int // round robin over series
	route    *route
	uptime0  int64 // status: uptime in seconds at the first reading
	firstTS  int64
	cls      int   // camera: class index of the last detection
	sent     int64 // messages published (good + malformed)
	silentAt int64 // goes silent after this many messages (count mode) or ns into the run (time mode); 0 = never
	// fault injection
	anomalyQ  float64
	malformed float64
	alertQ    float64 // per reading of a rule series: forced over the threshold (AlertRate)

	edge alertEdge // what the last emitted reading did to its series' seed alert
}

func deviceID(prefix string, i int) string { return fmt.Sprintf("%s-%05d", prefix, i) }

// newFleet builds the devices of a validated Config deterministically from
// its seed.
func newFleet(c *Config) []*device {
	pattern := kindPattern(c.Profile)
	q := episodeStartProb(c.AnomalyRate)
	devs := make([]*device, c.Devices)
	for i := range devs {
		r := rand.New(rand.NewPCG(uint64(c.Seed), uint64(i)))
		d := &device{id: deviceID(c.DevicePrefix, i), kind: pattern[i%len(pattern)], rng: r,
			anomalyQ: q, malformed: c.MalformedRate}
		d.init(c.Profile)
		devs[i] = d
	}
	markSilent(c, devs)
	setAlertRate(devs, c.AlertRate)
	return devs
}

// init creates the series and state of the device's kind.
func (d *device) init(profile string) {
	r := d.rng
	switch d.kind {
	case kindMachine, kindEnv:
		metrics := []string{"temperature", "humidity"}
		if d.kind == kindMachine {
			metrics = []string{"temperature", "pressure", "vibration"}
			d.location = fmt.Sprintf("line-%d", 1+r.IntN(8))
		} else if profile == ProfileCity {
			d.location = fmt.Sprintf("district-%d", 1+r.IntN(12))
		} else {
			d.location = fmt.Sprintf("hall-%d", 1+r.IntN(4))
		}
		whole := r.IntN(5) == 0
		for _, m := range metrics {
			d.addSeries("sensors", m, "sensors_"+m, sensorProcess(r, m, d.kind == kindMachine, whole))
		}
	case kindVehicle:
		d.route = newRoute(r)
		d.location = fmt.Sprintf("route-%d", 1+r.IntN(20))
		d.addSeries("vehicles", "location", "vehicles_location_lat", process{base: uniform(r, 35, 60), amp: 10,
			sigma: 1.5, noise: 2, lo: 0, hi: 110, spikeLo: 121, spike: 60, drift: 4, decimals: 1})
	case kindStatus:
		d.location = fmt.Sprintf("cabinet-%d", 1+r.IntN(10))
		d.uptime0 = r.Int64N(30 * 86400)
		d.addSeries("devices", "status", "devices_status", process{base: uniform(r, -75, -50), sigma: 0.5,
			noise: 2, lo: -95, hi: -30, spikeLo: -99, spike: 3, drift: -3, decimals: 0})
	case kindCamera:
		d.location = fmt.Sprintf("gate-%d", 1+r.IntN(6))
		d.addSeries("cameras", "detection", "cameras_detection_confidence", process{base: uniform(r, 0.78, 0.88),
			sigma: 0.005, noise: 0.05, lo: 0.5, hi: 0.99, spikeLo: 0.95, spike: 0.04, drift: -0.03, decimals: 2})
	}
}

func (d *device) addSeries(typ, metric, stored string, p process) {
	d.series = append(d.series, series{topic: []byte(typ + "/" + d.id + "/" + metric), metric: stored, proc: p,
		rule: ruleFor(typ, metric)})
}

// markSilent picks round(SilentRate*Devices) devices that stop part-way:
// at 20-80% of Duration, or without one, of their share of Count.
func markSilent(c *Config, devs []*device) {
	n := int(c.SilentRate*float64(len(devs)) + 0.5)
	if n == 0 {
		return
	}
	r := rand.New(rand.NewPCG(uint64(c.Seed), 1<<63))
	for _, i := range r.Perm(len(devs))[:n] {
		f := uniform(r, 0.2, 0.8)
		if c.Duration > 0 {
			devs[i].silentAt = max(1, int64(f*float64(c.Duration)))
		} else {
			devs[i].silentAt = max(1, int64(f*float64(c.Count)/float64(len(devs))))
		}
	}
}

// silent reports whether the device has stopped, elapsed into the run.
func (d *device) silent(timeMode bool, elapsed time.Duration) bool {
	if d.silentAt == 0 {
		return false
	}
	if timeMode {
		return int64(elapsed) >= d.silentAt
	}
	return d.sent >= d.silentAt
}
