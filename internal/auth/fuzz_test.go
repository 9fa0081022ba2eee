package auth

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParsePasswordFile: the parser never panics, reports line numbers,
// and what it accepts survives a round trip through FormatEntry.
// Seeds: testdata/fuzz/FuzzParsePasswordFile.
func FuzzParsePasswordFile(f *testing.F) {
	f.Add([]byte("alice:$2a$10$R7vVmZHkCjUQxs1t3Rja/uwj2FrjSWGFdqM2FZ12NCyyflGAR/m7O\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParsePasswordFile(bytes.NewReader(data))
		if err != nil && !strings.HasPrefix(err.Error(), "line ") {
			t.Fatalf("error without line number: %v", err)
		}
		var b strings.Builder
		for _, e := range entries {
			if ValidateUsername(e.Username) != nil || e.Line < 1 {
				t.Fatalf("accepted bad entry %+v", e)
			}
			if _, err := parseHash(e.Hash); err != nil {
				t.Fatalf("accepted bad hash for %q: %v", e.Username, err)
			}
			b.WriteString(FormatEntry(e.Username, e.Hash) + "\n")
		}
		again, err := ParsePasswordFile(strings.NewReader(b.String()))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("round trip: %d entries, %v (had %d)", len(again), err, len(entries))
		}
		for i := range again {
			if again[i].Username != entries[i].Username || again[i].Hash != entries[i].Hash {
				t.Fatalf("round trip changed %+v to %+v", entries[i], again[i])
			}
		}
	})
}

// FuzzACL: pattern parsing agrees with rule validation; matching never
// panics; it agrees with a reference matcher on the substituted pattern;
// a filter the pattern covers only matches topics the pattern matches;
// and an identity containing / + # never widens a %u or %c level.
// Seeds: testdata/fuzz/FuzzACL.
func FuzzACL(f *testing.F) {
	f.Add("sensors/%u/#", "sensors/alice/t", "sensors/alice/+", "alice", "dev-1")
	f.Fuzz(func(t *testing.T, pat, topic, filter, user, client string) {
		p, err := parsePattern(pat)
		ruleErrs := Rule{User: UserAny, Topic: pat, Access: AccessRead}.validate()
		if (err != nil) != (len(ruleErrs) > 0) {
			t.Fatalf("parsePattern(%q) = %v but Rule.validate = %v", pat, err, ruleErrs)
		}
		if err != nil {
			return
		}
		id := identity{user: user, client: client}
		matched := p.matchTopic(topic, id)
		covered := p.coversFilter(filter, id)
		if !validTopicName(topic) {
			return
		}
		if s, ok := substitute(p, id); ok && matched != refMatch(s, topic) {
			t.Fatalf("%q (as %q) matches %q = %v, reference says %v", pat, s, topic, matched, !matched)
		}
		if covered && validFilter(filter) && refMatch(filter, topic) && !matched {
			t.Fatalf("%q covers filter %q, which matches %q, but the pattern does not", pat, filter, topic)
		}
	})
}

// substitute writes the pattern with %u and %c replaced; false when a
// substitution is refused (the level then matches nothing).
func substitute(p pattern, id identity) (string, bool) {
	parts := make([]string, len(p.levels))
	for i, l := range p.levels {
		switch l.kind {
		case litLevel:
			parts[i] = l.lit
		case plusLevel:
			parts[i] = "+"
		case hashLevel:
			parts[i] = "#"
		default:
			v, ok := id.value(l.kind)
			if !ok {
				return "", false
			}
			parts[i] = v
		}
	}
	return strings.Join(parts, "/"), true
}

func validTopicName(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsAny(s, "+#\x00")
}

func validFilter(s string) bool {
	if s == "" || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return false
	}
	levels := strings.Split(s, "/")
	for i, l := range levels {
		if (l == "#" && i != len(levels)-1) || (l != "#" && l != "+" && strings.ContainsAny(l, "+#")) {
			return false
		}
	}
	return true
}
