package store

import "strings"

// sanitizeMetricName maps s onto [a-zA-Z_:][a-zA-Z0-9_:]*: every invalid
// character (rune) becomes '_', and a leading digit gets a '_' prefix.
func sanitizeMetricName(s string) string { return sanitize(s, true) }

// sanitizeLabelName maps s onto [a-zA-Z_][a-zA-Z0-9_]* the same way.
func sanitizeLabelName(s string) string { return sanitize(s, false) }

func sanitize(s string, colon bool) string {
	if s == "" {
		return ""
	}
	if valid(s, colon) {
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
