package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
		p, rej := parseLine(line, precision, received)
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

// lineParser holds the state of parsing one line.
type lineParser struct {
	b []byte
	i int
	p telemetry.Point
}

func parseLine(line []byte, precision time.Duration, received time.Time) (telemetry.Point, *Rejection) {
	if !utf8.Valid(line) {
		return telemetry.Point{}, badLine("invalid UTF-8")
	}
	lp := lineParser{b: line}
	if rej := lp.measurementAndTags(); rej != nil {
		return telemetry.Point{}, rej
	}
	numeric, rej := lp.fields()
	if rej != nil {
		return telemetry.Point{}, rej
	}
	lp.p.Time = received
	if lp.i < len(lp.b) {
		if lp.p.Time, rej = lp.timestamp(precision); rej != nil {
			return telemetry.Point{}, rej
		}
	}
	if numeric == 0 {
		return telemetry.Point{}, reject(ReasonNoNumericField, "no numeric field (string fields are not numbers)")
	}
	lp.p.Tags = sortTags(lp.p.Tags)
	lp.p.Fields = dedupeFields(lp.p.Fields)
	return lp.p, nil
}

func badLine(format string, args ...any) *Rejection {
	return reject(ReasonBadLineProtocol, format, args...)
}

const (
	measurementEscapes = ", "
	keyEscapes         = ",= "
)

// token scans from lp.i to the first unescaped byte of stops (or the end)
// and returns the unescaped text and the stop byte (0 at the end).
func (lp *lineParser) token(stops string) (string, byte) {
	b, start, esc := lp.b, lp.i, false
	i := start
	for ; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) && strings.IndexByte(stops, b[i+1]) >= 0 {
			esc = true
			i++
			continue
		}
		if strings.IndexByte(stops, c) >= 0 {
			break
		}
	}
	lp.i = i
	var stop byte
	if i < len(b) {
		stop = b[i]
	}
	if !esc {
		return string(b[start:i]), stop
	}
	return unescapeLP(b[start:i], stops), stop
}

func unescapeLP(b []byte, escapable string) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) && strings.IndexByte(escapable, b[i+1]) >= 0 {
			i++
		}
		out = append(out, b[i])
	}
	return string(out)
}

func (lp *lineParser) measurementAndTags() *Rejection {
	m, stop := lp.token(measurementEscapes)
	if m == "" {
		return badLine("missing measurement")
	}
	lp.p.Measurement = m
	for stop == ',' {
		lp.i++
		key, sep := lp.token(keyEscapes)
		if sep != '=' || key == "" {
			return badLine("tag %q: expected key=value", key)
		}
		lp.i++
		var value string
		value, stop = lp.token(keyEscapes)
		if value == "" || stop == '=' {
			return badLine("tag %q: missing or unescaped value", key)
		}
		lp.p.Tags = append(lp.p.Tags, telemetry.Tag{Key: key, Value: value})
	}
	if stop != ' ' {
		return badLine("missing field set")
	}
	lp.skipSpaces()
	return nil
}

func (lp *lineParser) skipSpaces() {
	for lp.i < len(lp.b) && lp.b[lp.i] == ' ' {
		lp.i++
	}
}

// fields parses the field set and returns how many fields are numeric.
func (lp *lineParser) fields() (int, *Rejection) {
	numeric := 0
	for {
		key, sep := lp.token(keyEscapes)
		if sep != '=' || key == "" {
			return 0, badLine("field %q: expected key=value", key)
		}
		lp.i++
		isNum, v, rej := lp.fieldValue(key)
		if rej != nil {
			return 0, rej
		}
		if isNum {
			lp.p.Fields = append(lp.p.Fields, telemetry.Field{Key: key, Value: v})
			numeric++
		}
		if lp.i >= len(lp.b) {
			return numeric, nil
		}
		c := lp.b[lp.i]
		lp.i++
		if c == ' ' {
			lp.skipSpaces()
			return numeric, nil
		}
		if c != ',' {
			return 0, badLine("field %q: unexpected %q after value", key, c)
		}
	}
}

// fieldValue parses the value at lp.i; a string value is reported as not
// numeric. It leaves lp.i on the byte after the value.
func (lp *lineParser) fieldValue(key string) (bool, float64, *Rejection) {
	b, start := lp.b, lp.i
	if start < len(b) && b[start] == '"' {
		for i := start + 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				lp.i = i + 1
				return false, 0, nil
			}
		}
		return false, 0, badLine("field %q: unterminated string", key)
	}
	i := start
	for i < len(b) && b[i] != ',' && b[i] != ' ' {
		i++
	}
	lp.i = i
	v, rej := parseFieldValue(b[start:i])
	if rej != nil {
		rej.Err = fmt.Errorf("field %q: %w", key, rej.Err)
	}
	return rej == nil, v, rej
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
	case isDecimal(tok):
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

func (lp *lineParser) timestamp(precision time.Duration) (time.Time, *Rejection) {
	tok := lp.b[lp.i:]
	if !isInteger(tok) {
		return time.Time{}, reject(ReasonBadTimestamp, "timestamp %s is not an integer", quoteShort(tok))
	}
	v, err := strconv.ParseInt(string(tok), 10, 64)
	if err != nil {
		return time.Time{}, reject(ReasonBadTimestamp, "timestamp %s overflows int64", quoteShort(tok))
	}
	return lineTime(v, precision)
}
