package alerts

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// appendDefaultPayload appends DefaultPayload rendered for a: the same
// bytes as the template (TestFastPayloadMatchesTemplate), without its
// reflection. Anything unusual (strings needing escapes, floats in
// exponent form) goes through encoding/json like the template's json helper.
func appendDefaultPayload(b []byte, a *telemetry.Alert) []byte {
	b = append(b, `{"timestamp":`...)
	b = appendJSONTime(b, a.Time)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, a.Type)
	b = append(b, `,"device_id":`...)
	b = appendJSONString(b, a.DeviceID)
	b = append(b, `,"value":`...)
	b = appendJSONFloat(b, a.Value)
	b = append(b, `,"severity":`...)
	b = appendJSONString(b, a.Severity)
	b = append(b, `,"requires_action":`...)
	b = strconv.AppendBool(b, a.RequiresAction)
	b = append(b, `,"state":`...)
	b = appendJSONString(b, a.State)
	b = append(b, `,"rule":`...)
	b = appendJSONString(b, a.Rule)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, a.ID)
	return append(b, '}')
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString quotes s as encoding/json does (which also escapes
// <, > and &).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s) // a string always marshals
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat writes v as encoding/json does; NaN and ±Inf are null.
func appendJSONFloat(b []byte, v float64) []byte {
	abs := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return append(b, "null"...)
	case abs == 0 || (abs >= 1e-6 && abs < 1e21):
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	j, _ := json.Marshal(v) // finite floats always marshal
	return append(b, j...)
}
