package simulate

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// class says how a message counts in the report.
type class uint8

const (
	classGood      class = iota // a normal reading
	classAnomaly                // a well-formed reading that is an anomaly (still stored by borda)
	classMalformed              // a payload borda must reject
)

// emit appends the device's next message to buf[:0] and returns its topic,
// payload and class. nowNs is the send time (Unix ns): it is embedded as
// "sent" for latency measurement, and the reading's "ts" is its millisecond,
// moved forward when needed so that each series gets strictly increasing
// timestamps (borda would treat two equal readings at the same millisecond
// as one). The output depends only on the seed, the device and the nowNs
// sequence.
func (d *device) emit(buf []byte, nowNs int64) (topic, payload []byte, cls class) {
	s := &d.series[d.next]
	d.next++
	if d.next == len(d.series) {
		d.next = 0
	}
	d.sent++
	d.edge = alertEdge{}
	if d.malformed > 0 && d.rng.Float64() < d.malformed {
		return s.topic, d.appendMalformed(buf[:0], s, nowNs), classMalformed
	}
	ts := max(nowNs/1e6, s.lastTS+1)
	if d.firstTS == 0 {
		d.firstTS = ts
	}
	buf, ep := d.appendReading(buf[:0], s, ts)
	s.lastTS = ts
	s.good++
	buf = appendTail(buf, d.location, ts, nowNs)
	if ep != epNone {
		return s.topic, buf, classAnomaly
	}
	return s.topic, buf, classGood
}

// appendReading appends the kind-specific members, from '{' up to the
// location/ts/sent tail.
func (d *device) appendReading(b []byte, s *series, ts int64) ([]byte, episode) {
	r := d.rng
	v, ep := s.proc.next(r, d.anomalyQ, dayFraction(ts))
	if s.rule != noRule {
		v = d.checkRule(s, v, ts)
	}
	switch d.kind {
	case kindVehicle:
		dt := 0.0
		if s.lastTS > 0 {
			dt = min(float64(ts-s.lastTS)/1000, 60)
		}
		lat, lon, heading := d.route.advance(v, dt)
		b = appendNum(append(b, `{"lat":`...), lat, 5)
		b = appendNum(append(b, `,"lon":`...), lon, 5)
		b = appendNum(append(b, `,"speed":`...), v, 1)
		b = appendNum(append(b, `,"heading":`...), heading, 0)
	case kindStatus:
		online, value := "true", 1.0
		if ep == epSpike { // an offline blip
			online, value = "false", 0
		}
		uptime := d.uptime0 + (ts-d.firstTS)/1000
		b = appendNum(append(b, `{"value":`...), value, 0)
		b = append(append(b, `,"online":`...), online...)
		b = strconv.AppendInt(append(b, `,"uptime":`...), uptime, 10)
		b = appendNum(append(b, `,"rssi":`...), v, 0)
	case kindCamera:
		b = d.appendDetection(b, v, ep)
	default:
		b = appendNum(append(b, `{"value":`...), v, s.proc.decimals)
		b = appendNum(append(b, `,"quality":`...), 0.9+float64(r.IntN(11))/100, 2)
	}
	return b, ep
}

// appendDetection writes a camera detection; a spike is an intrusion: a
// confident "person" detection with many objects.
func (d *device) appendDetection(b []byte, confidence float64, ep episode) []byte {
	r := d.rng
	if ep != epStuck { // a stuck camera repeats its last detection
		switch x := r.IntN(20); {
		case x < 10:
			d.cls = 0
		case x < 17:
			d.cls = 1
		default:
			d.cls = 2
		}
	}
	objects := 1 + r.IntN(3)
	if ep == epSpike {
		d.cls, objects = 0, 5+r.IntN(8)
	}
	name, id := "person", 1 // the seed's classes: 1 person, 2 car, 15 cat
	switch d.cls {
	case 1:
		name, id = "car", 2
	case 2:
		name, id = "cat", 15
	}
	b = append(append(append(b, `{"class":"`...), name...), '"')
	b = strconv.AppendInt(append(b, `,"class_id":`...), int64(id), 10)
	b = appendNum(append(b, `,"confidence":`...), confidence, 2)
	b = strconv.AppendInt(append(b, `,"objects":`...), int64(objects), 10)
	return appendNum(append(b, `,"inference_ms":`...), uniform(r, 8, 25), 1)
}

// appendTail closes a reading: location tag, reading time (Unix ms) and
// send time (Unix ns, a string so that borda's ingest ignores it).
func appendTail(b []byte, location string, ts, nowNs int64) []byte {
	b = append(append(append(b, `,"location":"`...), location...), '"')
	b = strconv.AppendInt(append(b, `,"ts":`...), ts, 10)
	b = strconv.AppendInt(append(b, `,"sent":"`...), nowNs, 10)
	return append(b, `"}`...)
}

func appendNum(b []byte, v float64, decimals int) []byte {
	return strconv.AppendFloat(b, v, 'f', decimals, 64)
}

// appendMalformed writes one of the faulty payloads real devices send:
// truncated JSON, a non-numeric value, broken JSON syntax, or plain text.
// Each of them is rejected by borda's ingest (bad_json, no_numeric_field
// or not_numeric).
func (d *device) appendMalformed(b []byte, s *series, nowNs int64) []byte {
	r := d.rng
	switch r.IntN(4) {
	case 0: // cut off mid-message (a reading with a timestamp, truncated)
		b = appendNum(append(b, `{"value":`...), s.proc.last, s.proc.decimals)
		b = appendTail(b, d.location, nowNs/1e6, nowNs)
		return b[:1+r.IntN(len(b)-2)]
	case 1: // a sensor error string instead of a number
		b = append(b, `{"value":"`...)
		b = append(b, [...]string{"ERR", "n/a", "NaN", "--"}[r.IntN(4)]...)
		return append(append(append(b, `","location":"`...), d.location...), `"}`...)
	case 2: // firmware that prints Python dicts / trailing commas
		if r.IntN(2) == 0 {
			b = append(b, `{'value': `...)
			return append(appendNum(b, s.proc.last, 1), '}')
		}
		return append(appendNum(append(b, `{"value":`...), s.proc.last, 1), `,}`...)
	}
	return strconv.AppendInt(append(b, "sensor fault E"...), int64(r.IntN(100)), 10)
}

// route is a closed loop of waypoints a vehicle drives around.
type route struct {
	pts  [][2]float64 // lat, lon
	seg  int          // current segment pts[seg] -> pts[seg+1]
	frac float64      // position along the segment, 0..1
}

// newRoute builds a loop of 6-10 waypoints 1-5 km around a city centre.
func newRoute(r *rand.Rand) *route {
	lat, lon := -23.5505, -46.6333 // São Paulo
	switch r.IntN(4) {
	case 1:
		lat, lon = -22.9068, -43.1729 // Rio de Janeiro
	case 2:
		lat, lon = 38.7223, -9.1393 // Lisboa
	case 3:
		lat, lon = 41.1579, -8.6291 // Porto
	}
	n := 6 + r.IntN(5)
	rt := &route{pts: make([][2]float64, n)}
	for i := range rt.pts {
		a := 2 * math.Pi * (float64(i) + r.Float64()*0.5) / float64(n)
		rad := uniform(r, 0.01, 0.045)
		rt.pts[i] = [2]float64{lat + rad*math.Sin(a), lon + rad*math.Cos(a)/math.Cos(lat*math.Pi/180)}
	}
	return rt
}

// advance drives speedKmh for dt seconds and returns the position and
// heading (degrees clockwise from north).
func (rt *route) advance(speedKmh, dt float64) (lat, lon, heading float64) {
	dist := speedKmh * dt / 3600 // km
	for range len(rt.pts) {      // at most one lap per reading
		a, b := rt.pts[rt.seg], rt.pts[(rt.seg+1)%len(rt.pts)]
		dn := (b[0] - a[0]) * 111.32
		de := (b[1] - a[1]) * 111.32 * math.Cos(a[0]*math.Pi/180)
		segLen := math.Hypot(dn, de)
		heading = math.Mod(math.Atan2(de, dn)*180/math.Pi+360, 360)
		left := (1 - rt.frac) * segLen
		if segLen > 0 && dist < left {
			rt.frac += dist / segLen
			break
		}
		dist -= left
		rt.seg, rt.frac = (rt.seg+1)%len(rt.pts), 0
	}
	a, b := rt.pts[rt.seg], rt.pts[(rt.seg+1)%len(rt.pts)]
	return a[0] + (b[0]-a[0])*rt.frac, a[1] + (b[1]-a[1])*rt.frac, heading
}
