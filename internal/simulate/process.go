package simulate

import (
	"math"
	"math/rand/v2"
)

// episode is the kind of anomaly a value process is in.
type episode uint8

const (
	epNone  episode = iota
	epSpike         // one reading far outside the normal range (above the seed's alert thresholds)
	epDrift         // a run of readings with a growing offset
	epStuck         // a run of readings repeating the last normal value exactly
)

// meanEpisodeLen is the expected length of an anomaly episode: a spike is
// one reading, drifts and stuck runs are 5..15 (mean 10); the three kinds
// are equally likely.
const meanEpisodeLen = (1.0 + 10 + 10) / 3

// episodeStartProb is the probability that a normal reading starts an
// episode so that, in the long run, a fraction f of readings is anomalous:
// with normal runs of mean length 1/q between episodes of mean length E the
// anomalous fraction is qE/(1+qE).
func episodeStartProb(f float64) float64 {
	if f >= 1 {
		return 1
	}
	return min(1, f/(meanEpisodeLen*(1-f)))
}

// process is one simulated physical value: a base with a daily cycle, a
// mean-reverting random walk and white noise, clamped to a realistic range
// and rounded to the sensor's precision, plus anomaly episodes.
type process struct {
	base, amp      float64 // mean and amplitude of the daily cycle (peak at 18:00 UTC)
	sigma, noise   float64 // random-walk step and white-noise standard deviations
	lo, hi         float64 // normal range
	spikeLo, spike float64 // spikes are uniform in [spikeLo, spikeLo+spike)
	drift          float64 // offset added per reading during a drift
	decimals       int     // precision of the reported value

	walk float64
	last float64 // last normal reading, repeated by a stuck episode
	ep   episode
	left int     // readings left in the current episode
	off  float64 // accumulated drift offset
}

// next returns the next reading and whether it is anomalous. q is the
// episode start probability (see episodeStartProb); dayFrac is the reading
// time as a fraction of the UTC day.
func (p *process) next(r *rand.Rand, q, dayFrac float64) (float64, episode) {
	if p.left == 0 {
		p.ep = epNone
		if q > 0 && r.Float64() < q {
			p.startEpisode(r)
		}
	}
	p.walk = p.walk*0.995 + r.NormFloat64()*p.sigma
	cycle := math.Sin(2 * math.Pi * (dayFrac - 0.5))
	v := p.base + p.amp*cycle + p.walk + r.NormFloat64()*p.noise
	normal := round(min(max(v, p.lo), p.hi), p.decimals)
	switch p.ep {
	case epNone:
		p.last = normal
		return normal, epNone
	case epSpike:
		v = round(p.spikeLo+r.Float64()*p.spike, p.decimals)
	case epDrift:
		p.off += p.drift
		v = round(normal+p.off, p.decimals)
	case epStuck:
		v = p.last
	}
	p.left--
	return v, p.ep
}

func (p *process) startEpisode(r *rand.Rand) {
	p.ep = episode(1 + r.IntN(3))
	p.off = 0
	p.left = 1
	if p.ep != epSpike {
		p.left = 5 + r.IntN(11)
	}
}

// round rounds v to d decimals (what the payload shows).
func round(v float64, d int) float64 {
	s := pow10(d)
	return math.Round(v*s) / s
}

func pow10(d int) float64 {
	switch d {
	case 0:
		return 1
	case 1:
		return 10
	case 2:
		return 100
	}
	return math.Pow(10, float64(d))
}

// dayFraction is the time of day of a Unix millisecond timestamp, in [0, 1).
func dayFraction(ms int64) float64 {
	const day = 86_400_000
	return float64(((ms%day)+day)%day) / day
}

// uniform returns a value in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

// sensorProcess returns the value process of a sensor metric. Machine
// sensors run hotter than environment sensors; whole makes the sensor
// report integers (like a cheap thermometer sending 21).
func sensorProcess(r *rand.Rand, metric string, machine, whole bool) process {
	var p process
	switch metric {
	case "temperature": // °C, the seed alerts above 80
		p = process{base: uniform(r, 18, 26), amp: 3, sigma: 0.05, noise: 0.1, lo: -20, hi: 60,
			spikeLo: 80.5, spike: 30, drift: 1.5, decimals: 1}
		if machine {
			p.base, p.amp = uniform(r, 40, 60), 2
		}
	case "humidity": // %RH; a spike is a sensor dropout to ~0
		p = process{base: uniform(r, 40, 65), amp: -10, sigma: 0.2, noise: 0.4, lo: 5, hi: 100,
			spikeLo: 0, spike: 3, drift: -2, decimals: 1}
	case "pressure": // the seed alerts above 100
		p = process{base: uniform(r, 60, 85), amp: 1, sigma: 0.1, noise: 0.3, lo: 0, hi: 99.9,
			spikeLo: 100.5, spike: 50, drift: 1.5, decimals: 1}
	case "vibration": // mm/s RMS
		p = process{base: uniform(r, 1.5, 6), amp: 0.3, sigma: 0.02, noise: 0.25, lo: 0, hi: 18,
			spikeLo: 22, spike: 40, drift: 0.6, decimals: 2}
	}
	if whole && (metric == "temperature" || metric == "humidity") {
		p.decimals = 0
	}
	return p
}
