package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// InfluxDB line protocol (the v1/v2 wire format):
//
//	measurement[,tag=value...] field=value[,field=value...] [timestamp]
//
// Lines are split on '\n' (line protocol has no newlines inside values), so
// a bad line never costs its neighbours. Blank lines and lines starting with
// '#' are skipped; leading spaces and tabs and trailing spaces, tabs and '\r'
// are trimmed.
//
// Escapes: a backslash before ',' or ' ' in the measurement, or before ',',
// '=' or ' ' in tag keys, tag values and field keys, makes that character
// literal; any other backslash is itself literal. String field values are
// double-quoted with \" and \\ escapes; they are not numbers, so they are
// skipped, but a line with only string fields is no_numeric_field.
//
// Field values: floats ("1", "-1.5e3"), integers ("2i"), unsigned integers
// ("3u"), booleans (t, T, true, True, TRUE → 1; f, F, false, False, FALSE →
// 0). Every value becomes a float64 (integers above 2^53 lose precision).
// Duplicate tag or field keys: the last value wins.
//
// The optional timestamp is an integer in units of the precision; without
// one the point gets the receive time.

// DecodeLineProtocol decodes a line-protocol batch and appends one point per
// good line to dst. precision is the unit of the timestamps (time.Nanosecond
// when <= 0; time.Microsecond, time.Millisecond and time.Second are the
// usual others). The error joins one *Rejection per bad line (see
// Rejections); the points of the good lines are returned with it.
func DecodeLineProtocol(payload []byte, precision time.Duration, received time.Time, dst []telemetry.Point) ([]telemetry.Point, error) {
	dst, rejs := decodeLines(payload, precision, received, dst)
	return dst, joinRejections(rejs)
}

func decodeLines(payload []byte, precision time.Duration, received time.Time, dst []telemetry.Point) ([]telemetry.Point, []*Rejection) {
	if precision <= 0 {
		precision = time.Nanosecond
	}
	var rejs []*Rejection
	lp := lineParser{tags: make([]telemetry.Tag, 0, 8), fields: make([]telemetry.Field, 0, 16)}
	data := false
	for lineNo := 1; len(payload) > 0; lineNo++ {
		line := payload
		if nl := bytes.IndexByte(payload, '\n'); nl >= 0 {
			line, payload = payload[:nl], payload[nl+1:]
		} else {
			payload = nil
		}
		line = trimLine(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		data = true
		p, rej := lp.parse(line, precision, received)
		if rej != nil {
			rej.Err = fmt.Errorf("line %d: %w", lineNo, rej.Err)
			rejs = append(rejs, rej)
			continue
		}
		dst = append(dst, p)
	}
	if !data {
		rejs = append(rejs, reject(ReasonEmpty, "no line-protocol data (only blank lines and comments)"))
	}
	return dst, rejs
}

func joinRejections(rejs []*Rejection) error {
	switch len(rejs) {
	case 0:
		return nil
	case 1:
		return rejs[0]
	}
	errs := make([]error, len(rejs))
	for i, r := range rejs {
		errs[i] = r
	}
	return errors.Join(errs...)
}

func trimLine(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\r') {
		j--
	}
	return b[i:j]
}

func parseFieldValue(tok []byte) (float64, *Rejection) {
	n := len(tok)
	switch {
	case n == 0:
		return 0, badLine("missing value")
	case tok[n-1] == 'i' && isInteger(tok[:n-1]):
		v, err := strconv.ParseInt(string(tok[:n-1]), 10, 64)
		if err != nil {
			return 0, reject(ReasonOutOfRange, "integer %s overflows int64", quoteShort(tok))
		}
		return float64(v), nil
	case tok[n-1] == 'u' && n > 1 && skipDigits(tok, 0) == n-1:
		v, err := strconv.ParseUint(string(tok[:n-1]), 10, 64)
		if err != nil {
			return 0, reject(ReasonOutOfRange, "unsigned %s overflows uint64", quoteShort(tok))
		}
		return float64(v), nil
	case tok[0] != '+' && isDecimal(tok):
		return parseFloat(tok)
	}
	switch string(tok) {
	case "t", "T", "true", "True", "TRUE":
		return 1, nil
	case "f", "F", "false", "False", "FALSE":
		return 0, nil
	}
	return 0, badLine("invalid value %s", quoteShort(tok))
}
