package influx

import (
	"math"
	"strconv"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// precision is how timestamps are written and what each API calls it.
type precision struct {
	unit   time.Duration
	v1, v2 string // query parameter; "" = omitted (nanoseconds is every server's default)
}

// precisionOf returns the precision named ns, us, ms or s.
func precisionOf(name string) (precision, bool) {
	switch name {
	case "ns":
		return precision{time.Nanosecond, "", "ns"}, true
	case "us":
		return precision{time.Microsecond, "u", "us"}, true
	case "ms":
		return precision{time.Millisecond, "ms", "ms"}, true
	case "s":
		return precision{time.Second, "s", "s"}, true
	}
	return precision{}, false
}

// Characters escaped with a backslash. Line protocol cannot carry a raw
// newline or carriage return, so those are written as the two characters
// \n and \r (what Telegraf does).
//
// Backslashes differ between the versions: InfluxDB 2.x (and
// VictoriaMetrics) read \\ as one backslash, so 2.x output doubles every
// backslash; InfluxDB 1.x keeps every backslash that does not precede an
// escaped character literally, so 1.x output writes a backslash as is,
// unless it precedes an escaped character or ends the token: then it is
// doubled (1.x stores that one doubled; it cannot represent it otherwise).
const (
	measurementSpecial = ", \n\r"
	keySpecial         = ",= \n\r" // tag keys, tag values, field keys
)

// appendEscaped appends s with the characters of special escaped; v2
// selects the 2.x backslash rule.
func appendEscaped(dst []byte, s, special string, v2 bool) []byte {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		clean = s[i] != '\\' && !isSpecial(s[i], special)
	}
	if clean {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\\' && (v2 || i+1 == len(s) || isSpecial(s[i+1], special)):
			dst = append(dst, '\\', '\\')
		case isSpecial(c, special):
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func isSpecial(c byte, special string) bool {
	for i := 0; i < len(special); i++ {
		if special[i] == c {
			return true
		}
	}
	return false
}

// lineFormat is how lines are written: timestamp unit and escaping rule.
type lineFormat struct {
	unit time.Duration
	v2   bool
}

// appendLine appends one line: measurement, tags (empty keys or values
// left out: line protocol has no empty tag), finite fields (NaN and ±Inf
// cannot be written), timestamp in unit. It reports false and leaves dst
// unchanged when there is no measurement or no finite field.
func appendLine(dst []byte, m string, tags []telemetry.Tag, fields []telemetry.Field, t time.Time, lp lineFormat) ([]byte, bool) {
	if m == "" {
		return dst, false
	}
	start := len(dst)
	dst = appendEscaped(dst, m, measurementSpecial, lp.v2)
	for _, tg := range tags {
		if tg.Key == "" || tg.Value == "" {
			continue
		}
		dst = append(dst, ',')
		dst = appendEscaped(dst, tg.Key, keySpecial, lp.v2)
		dst = append(dst, '=')
		dst = appendEscaped(dst, tg.Value, keySpecial, lp.v2)
	}
	sep := byte(' ')
	for _, f := range fields {
		if f.Key == "" || math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
			continue
		}
		dst = append(dst, sep)
		sep = ','
		dst = appendEscaped(dst, f.Key, keySpecial, lp.v2)
		dst = append(dst, '=')
		dst = strconv.AppendFloat(dst, f.Value, 'g', -1, 64)
	}
	if sep == ' ' { // no field
		return dst[:start], false
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, t.UnixNano()/int64(lp.unit), 10)
	return append(dst, '\n'), true
}

// alertTags are an alert's tags, sorted by key.
func alertTags(a telemetry.Alert) []telemetry.Tag {
	return []telemetry.Tag{{Key: "device_id", Value: a.DeviceID}, {Key: "rule", Value: a.Rule},
		{Key: "severity", Value: a.Severity}, {Key: "state", Value: a.State}, {Key: "type", Value: a.Type}}
}
