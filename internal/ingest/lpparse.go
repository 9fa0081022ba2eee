package ingest

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/borda-edge/borda/internal/telemetry"
)

// lineParser parses the lines of one batch, reusing its scratch slices from
// line to line. The line is converted to a string once; names and tag
// values without escapes are substrings of it, so a point costs three
// allocations (line, tags, fields) plus one per escaped name.
type lineParser struct {
	b      []byte
	s      string // the line, as a string
	i      int
	esc    []byte // unescaping scratch
	tags   []telemetry.Tag
	fields []telemetry.Field
}

// Byte classes of names and tag values: the measurement ends at ',' or ' ',
// tag keys, tag values and field keys also at '='. A backslash before a
// stop byte escapes it.
const (
	classPlain = iota
	classStop
	classControl
	classBackslash
)

type byteClass [256]uint8

func newByteClass(stops string) *byteClass {
	var c byteClass
	for i := 0; i < 0x20; i++ {
		c[i] = classControl
	}
	c[0x7f] = classControl
	c['\\'] = classBackslash
	for i := 0; i < len(stops); i++ {
		c[stops[i]] = classStop
	}
	return &c
}

var (
	measurementClass = newByteClass(measurementEscapes)
	keyClass         = newByteClass(keyEscapes)
)

const (
	measurementEscapes = ", "
	keyEscapes         = ",= "
)

func (lp *lineParser) parse(line []byte, precision time.Duration, received time.Time) (telemetry.Point, *Rejection) {
	if !utf8.Valid(line) {
		return telemetry.Point{}, badLine("invalid UTF-8")
	}
	lp.b, lp.s, lp.i, lp.tags, lp.fields = line, string(line), 0, lp.tags[:0], lp.fields[:0]
	m, rej := lp.measurementAndTags()
	if rej != nil {
		return telemetry.Point{}, rej
	}
	numeric, rej := lp.fieldSet()
	if rej != nil {
		return telemetry.Point{}, rej
	}
	ts := received
	if lp.i < len(lp.b) {
		if ts, rej = lp.timestamp(precision); rej != nil {
			return telemetry.Point{}, rej
		}
	}
	if numeric == 0 {
		return telemetry.Point{}, reject(ReasonNoNumericField, "no numeric field (string fields are not numbers)")
	}
	return telemetry.Point{
		Measurement: m,
		Tags:        clone(sortTags(lp.tags)),
		Fields:      clone(dedupeFields(lp.fields)),
		Time:        ts,
	}, nil
}

func clone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func badLine(format string, args ...any) *Rejection {
	return reject(ReasonBadLineProtocol, format, args...)
}

// token scans from lp.i to the first unescaped byte of stops (or the end)
// and returns the unescaped text and the stop byte (0 at the end). Control
// characters are not allowed in names and tag values.
func (lp *lineParser) token(class *byteClass) (string, byte, *Rejection) {
	b, start, esc := lp.b, lp.i, false
	i := start
scan:
	for ; i < len(b); i++ {
		switch class[b[i]] {
		case classStop:
			break scan
		case classControl:
			return "", 0, badLine("control character %q in a name or tag value", b[i])
		case classBackslash:
			if i+1 < len(b) && class[b[i+1]] == classStop {
				esc = true
				i++
			}
		}
	}
	lp.i = i
	var end byte
	if i < len(b) {
		end = b[i]
	}
	if esc {
		return string(lp.unescape(b[start:i], class)), end, nil
	}
	return lp.s[start:i], end, nil
}

// unescape drops each backslash that precedes a stop byte; any other
// backslash is literal. The result is valid until the next call.
func (lp *lineParser) unescape(b []byte, class *byteClass) []byte {
	out := lp.esc[:0]
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) && class[b[i+1]] == classStop {
			i++
		}
		out = append(out, b[i])
	}
	lp.esc = out
	return out
}

func (lp *lineParser) measurementAndTags() (string, *Rejection) {
	m, stop, rej := lp.token(measurementClass)
	if rej != nil {
		return "", rej
	}
	if m == "" {
		return "", badLine("missing measurement")
	}
	for stop == ',' {
		lp.i++
		key, sep, rej := lp.token(keyClass)
		if rej != nil {
			return "", rej
		}
		if sep != '=' || key == "" {
			return "", badLine("tag %q: expected key=value", key)
		}
		lp.i++
		var value string
		if value, stop, rej = lp.token(keyClass); rej != nil {
			return "", rej
		}
		if value == "" || stop == '=' {
			return "", badLine("tag %q: missing or unescaped value", key)
		}
		lp.tags = append(lp.tags, telemetry.Tag{Key: key, Value: value})
	}
	if stop != ' ' {
		return "", badLine("missing field set")
	}
	lp.skipSpaces()
	return m, nil
}

func (lp *lineParser) skipSpaces() {
	for lp.i < len(lp.b) && lp.b[lp.i] == ' ' {
		lp.i++
	}
}

// fieldSet parses the fields and returns how many are numeric; it leaves
// lp.i at the timestamp, if any.
func (lp *lineParser) fieldSet() (int, *Rejection) {
	numeric := 0
	for {
		key, sep, rej := lp.token(keyClass)
		if rej != nil {
			return 0, rej
		}
		if sep != '=' || key == "" {
			return 0, badLine("field %q: expected key=value", key)
		}
		lp.i++
		isNum, v, rej := lp.fieldValue(key)
		if rej != nil {
			return 0, rej
		}
		if isNum {
			lp.fields = append(lp.fields, telemetry.Field{Key: key, Value: v})
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
