package ingest

import (
	"math"
	"strconv"
)

// ParseNumber decodes a bare-number payload into one float64.
//
// Accepted, after trimming ASCII whitespace: an optional sign, digits with an
// optional fraction and exponent ("23.5", " 21 ", "-1e3", "+.5", "7."), and
// the JSON literals true and false (1 and 0). Everything else is not a
// number: hex, underscores, NaN, Inf, quoted strings, several numbers.
//
// A non-nil error is a *Rejection with reason not_numeric (or empty_payload,
// or out_of_range when the value overflows float64).
func ParseNumber(b []byte) (float64, error) {
	v, rej := parseBareNumber(b)
	if rej != nil {
		return 0, rej
	}
	return v, nil
}

func parseBareNumber(b []byte) (float64, *Rejection) {
	b = trimSpace(b)
	switch {
	case len(b) == 0:
		return 0, reject(ReasonEmpty, "empty payload")
	case string(b) == "true":
		return 1, nil
	case string(b) == "false":
		return 0, nil
	case !isDecimal(b):
		return 0, reject(ReasonNotNumeric, "payload %s is not a number", quoteShort(b))
	}
	return parseFloat(b)
}

// isDecimal reports whether b is sign? (digits ('.' digits?)? | '.' digits)
// ([eE] sign? digits)?. It is the grammar of bare numbers and of
// line-protocol float fields; strconv.ParseFloat alone would also take
// "Inf", "NaN", "0x1p3" and "1_000".
func isDecimal(b []byte) bool {
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	n := skipDigits(b, i)
	digits := n - i
	i = n
	if i < len(b) && b[i] == '.' {
		n = skipDigits(b, i+1)
		digits += n - i - 1
		i = n
	}
	if digits == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		n = skipDigits(b, i)
		if n == i {
			return false
		}
		i = n
	}
	return i == len(b)
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// parseFloat parses a syntactically checked decimal. Overflow to ±Inf is
// out_of_range; underflow rounds to zero as usual.
func parseFloat(b []byte) (float64, *Rejection) {
	f, err := strconv.ParseFloat(string(b), 64)
	if math.IsInf(f, 0) {
		return 0, reject(ReasonOutOfRange, "number %s overflows float64", quoteShort(b))
	}
	if err != nil || math.IsNaN(f) {
		return 0, reject(ReasonNotNumeric, "%s is not a number", quoteShort(b))
	}
	return f, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// quoteShort quotes at most 64 bytes of b for an error message.
func quoteShort(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}
