package telemetry

import "strings"

// Series naming shared by the embedded store and the remote_write output,
// so a reading has the same name and labels in borda and in a remote TSDB:
// field "value" is the series <measurement>, any other field
// <measurement>_<field>; tags are labels.

// SeriesName is the Prometheus metric name of one field of a measurement.
func SeriesName(measurement, field string) string {
	if field == "value" {
		return MetricName(measurement)
	}
	return MetricName(measurement + "_" + field)
}

// MetricName maps s onto [a-zA-Z_:][a-zA-Z0-9_:]*: every invalid
// character (rune) becomes '_', and a leading digit gets a '_' prefix.
func MetricName(s string) string { return sanitize(s, true) }

// LabelName maps s onto [a-zA-Z_][a-zA-Z0-9_]* the same way.
func LabelName(s string) string { return sanitize(s, false) }

func sanitize(s string, colon bool) string {
	if s == "" || valid(s, colon) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 1)
	for i, r := range s {
		if i == 0 && r >= '0' && r <= '9' {
			b.WriteByte('_')
		}
		if nameRune(r, colon) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func valid(s string, colon bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !nameRune(rune(c), colon) || (i == 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func nameRune(r rune, colon bool) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
		(r >= '0' && r <= '9') || (colon && r == ':')
}
