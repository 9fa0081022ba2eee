package auth

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// levelKind is what one level of an ACL pattern matches.
type levelKind uint8

const (
	litLevel    levelKind = iota // exactly this text
	plusLevel                    // + : any one level
	hashLevel                    // # : this and all deeper levels (last level only)
	userLevel                    // %u: the client's username
	clientLevel                  // %c: the client's id
)

type level struct {
	kind levelKind
	lit  string
}

// pattern is a compiled ACL topic pattern.
type pattern struct {
	raw    string
	levels []level
}

// parsePattern compiles an ACL topic pattern: an MQTT topic filter whose
// levels may also be %u or %c (whole levels only, as in Mosquitto).
func parsePattern(s string) (pattern, error) {
	switch {
	case s == "":
		return pattern{}, errors.New("is empty")
	case len(s) > 65535:
		return pattern{}, errors.New("is longer than 65535 bytes")
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return pattern{}, errors.New("contains invalid UTF-8 or NUL")
	case isShared(s):
		return pattern{}, errors.New("$share/<group>/ is not part of a pattern: rules apply to the filter after the group")
	}
	p := pattern{raw: s}
	parts := strings.Split(s, "/")
	for i, part := range parts {
		l, err := parseLevel(part, i == len(parts)-1)
		if err != nil {
			return pattern{}, err
		}
		p.levels = append(p.levels, l)
	}
	return p, nil
}

func parseLevel(part string, last bool) (level, error) {
	switch part {
	case "#":
		if !last {
			return level{}, errors.New("# must be the last level")
		}
		return level{kind: hashLevel}, nil
	case "+":
		return level{kind: plusLevel}, nil
	case "%u":
		return level{kind: userLevel}, nil
	case "%c":
		return level{kind: clientLevel}, nil
	}
	switch {
	case strings.ContainsAny(part, "#+"):
		return level{}, fmt.Errorf("wildcard in %q: + and # must be a whole level", part)
	case strings.Contains(part, "%u"), strings.Contains(part, "%c"):
		return level{}, fmt.Errorf("substitution in %q: %%u and %%c must be a whole level", part)
	}
	return level{kind: litLevel, lit: part}, nil
}

// identity is who an ACL check is for.
type identity struct {
	user      string // "" for anonymous clients
	client    string
	anonymous bool
}

// value returns the text substituted for %u or %c. An identity that could
// change a pattern's meaning (empty, containing / + # or NUL, or starting
// with $) substitutes nothing: patterns using it match no topic.
func (id identity) value(k levelKind) (string, bool) {
	v := id.client
	if k == userLevel {
		v = id.user
	}
	if v == "" || strings.ContainsAny(v, "/+#\x00") || strings.HasPrefix(v, "$") {
		return "", false
	}
	return v, true
}

// splitter walks the levels of a topic or filter without allocating.
type splitter struct {
	s    string
	pos  int
	done bool
}

func (sp *splitter) next() (string, bool) {
	if sp.done {
		return "", false
	}
	i := strings.IndexByte(sp.s[sp.pos:], '/')
	if i < 0 {
		sp.done = true
		return sp.s[sp.pos:], true
	}
	seg := sp.s[sp.pos : sp.pos+i]
	sp.pos += i + 1
	return seg, true
}

// levelMatches reports whether pattern level l (not #) accepts seg, which
// is a topic level or, for filters, a literal or "+" level.
func (l level) matches(seg string, first bool, id identity) bool {
	switch l.kind {
	case plusLevel:
		return !(first && strings.HasPrefix(seg, "$")) // + never matches a $ topic at the root
	case litLevel:
		return seg == l.lit
	default:
		v, ok := id.value(l.kind)
		return ok && seg == v
	}
}

// matchTopic reports whether a topic name matches the pattern.
func (p pattern) matchTopic(topic string, id identity) bool {
	sp := splitter{s: topic}
	for i, l := range p.levels {
		if l.kind == hashLevel {
			return !(i == 0 && strings.HasPrefix(topic, "$"))
		}
		seg, ok := sp.next()
		if !ok || !l.matches(seg, i == 0, id) {
			return false
		}
	}
	_, more := sp.next()
	return !more
}

// coversFilter reports whether every topic the subscription filter can
// match also matches the pattern (the filter is within the pattern).
func (p pattern) coversFilter(filter string, id identity) bool {
	sp := splitter{s: filter}
	for i, l := range p.levels {
		if l.kind == hashLevel {
			// A filter starting with a literal $ level matches $ topics,
			// which a # at the root does not; + and # in the filter do not.
			return !(i == 0 && strings.HasPrefix(filter, "$"))
		}
		seg, ok := sp.next()
		if !ok || seg == "#" {
			return false
		}
		if seg == "+" && l.kind != plusLevel {
			return false
		}
		if seg != "+" && !l.matches(seg, i == 0, id) {
			return false
		}
	}
	_, more := sp.next()
	return !more
}

// isShared reports whether s starts with the MQTT 5 $share/ prefix (any case, as mochi-mqtt).
func isShared(s string) bool {
	return len(s) >= 7 && strings.EqualFold(s[:7], "$share/")
}

// subscriptionFilter strips "$share/<group>/" from a shared subscription.
func subscriptionFilter(s string) string {
	if !isShared(s) {
		return s
	}
	_, rest, ok := strings.Cut(s[7:], "/")
	if !ok {
		return s
	}
	return rest
}

func hasWildcard(s string) bool { return strings.ContainsAny(s, "+#") }
