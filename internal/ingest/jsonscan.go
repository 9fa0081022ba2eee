package ingest

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Lexical pieces of the JSON decoder: strings and numbers.

// str scans the string starting at d.i (a '"') and returns its raw contents
// (escapes not yet decoded) and whether it holds any escape.
func (d *jsonDecoder) str() (raw []byte, esc bool, rej *Rejection) {
	b := d.b
	start := d.i + 1
	for i := start; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			return b[start:i], esc, nil
		case c == '\\':
			n := escapeLen(b[i:])
			if n == 0 {
				d.i = i
				return nil, false, d.syntax("invalid escape in string")
			}
			esc = true
			i += n
		case c < 0x20:
			d.i = i
			return nil, false, d.syntax("control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				d.i = i
				return nil, false, d.syntax("invalid UTF-8 in string")
			}
			i += size
		}
	}
	d.i = len(b)
	return nil, false, d.syntax("unterminated string")
}

// escapeLen returns the length of the escape sequence at the start of b
// (b[0] == '\\'), or 0 if it is not a valid JSON escape.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if _, ok := hex4(b[2:]); ok {
			return 6
		}
	}
	return 0
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape decodes the escapes of a raw string that str accepted. A lone
// UTF-16 surrogate becomes U+FFFD, as in encoding/json.
func unescape(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := unescapeRune(raw[i:])
			out = utf8.AppendRune(out, r)
			i += n
			continue
		default: // '"', '\\', '/'
			out = append(out, raw[i+1])
		}
		i += 2
	}
	return out
}

// unescapeRune decodes the \uXXXX escape at the start of b, combining a
// surrogate pair, and returns the rune and the bytes consumed.
func unescapeRune(b []byte) (rune, int) {
	r, _ := hex4(b[2:])
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
		if r2, ok := hex4(b[8:]); ok {
			if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
				return dec, 12
			}
		}
	}
	return unicode.ReplacementChar, 6
}

// scanJSONNumber returns the end of the RFC 8259 number starting at b[i],
// or -1: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func scanJSONNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}
