package auth

import (
	"strings"
	"testing"
)

// refMatch is a plain reference implementation of MQTT topic matching
// (filter against topic name), used to check the compiled matchers.
func refMatch(filter, topic string) bool {
	f, tp := strings.Split(filter, "/"), strings.Split(topic, "/")
	if strings.HasPrefix(topic, "$") && (f[0] == "+" || f[0] == "#") {
		return false
	}
	for i, l := range f {
		if l == "#" {
			return true
		}
		if i >= len(tp) || (l != "+" && l != tp[i]) {
			return false
		}
	}
	return len(f) == len(tp)
}

func TestPatternMatchTopic(t *testing.T) {
	alice := identity{user: "alice", client: "dev-1"}
	tests := []struct {
		pattern, topic string
		id             identity
		want           bool
	}{
		{"a/b", "a/b", alice, true},
		{"a/b", "a/b/c", alice, false},
		{"a/+", "a/b", alice, true},
		{"a/+", "a", alice, false},
		{"a/#", "a", alice, true},
		{"a/#", "a/b/c", alice, true},
		{"#", "a", alice, true},
		{"#", "$SYS/x", alice, false},
		{"+/x", "$SYS/x", alice, false},
		{"$SYS/#", "$SYS/broker/uptime", alice, true},
		{"sensors/%u/#", "sensors/alice/t", alice, true},
		{"sensors/%u/#", "sensors/bob/t", alice, false},
		{"devices/%c", "devices/dev-1", alice, true},
		{"devices/%c", "devices/dev-2", alice, false},
		{"sensors/%u/#", "sensors//t", identity{anonymous: true}, false},
		{"sensors/%u/#", "sensors/a/t", identity{user: "a/b"}, false},
		{"sensors/%u/#", "sensors/+/t", identity{user: "+"}, false},
		{"sensors/%u/#", "sensors/#", identity{user: "#"}, false},
		{"%u/x", "$SYS/x", identity{user: "$SYS"}, false},
		{"devices/%c/#", "devices/x", identity{user: "u", client: "x/y"}, false},
		{"a//b", "a//b", alice, true},
		{"/a", "/a", alice, true},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if got := p.matchTopic(tt.topic, tt.id); got != tt.want {
			t.Errorf("%q matches %q for %+v = %v, want %v", tt.pattern, tt.topic, tt.id, got, tt.want)
		}
	}
}

func TestPatternCoversFilter(t *testing.T) {
	alice := identity{user: "alice", client: "dev-1"}
	tests := []struct {
		pattern, filter string
		want            bool
	}{
		{"a/#", "a/#", true},
		{"a/#", "a", true},
		{"a/#", "a/+/c", true},
		{"a/#", "#", false},
		{"a/+", "a/#", false},
		{"a/+", "a/+", true},
		{"a/+", "a/b", true},
		{"a/b", "a/+", false},
		{"#", "#", true},
		{"#", "+/x", true},
		{"#", "$SYS/#", false},
		{"+/#", "$SYS/x", false},
		{"$SYS/#", "$SYS/+", true},
		{"sensors/%u/#", "sensors/alice/#", true},
		{"sensors/%u/#", "sensors/+/#", false},
		{"sensors/%u/#", "sensors/bob/t", false},
		{"devices/%c/+", "devices/dev-1/+", true},
		{"a/b", "a/b/#", false},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if got := p.coversFilter(tt.filter, alice); got != tt.want {
			t.Errorf("%q covers %q = %v, want %v", tt.pattern, tt.filter, got, tt.want)
		}
	}
}

// matrixRules are the rules of the ACL matrix tests (unit and real clients).
func matrixRules() []Rule {
	return []Rule{
		{UserAny, "sensors/%u/#", AccessReadWrite},
		{UserAny, "devices/%c/cmd", AccessRead},
		{UserAny, "devices/%c/status", AccessWrite},
		{"alice", "dash/#", AccessSubscribe},
		{"alice", "dash/public/#", AccessRead},
		{"alice", "alerts/critical", AccessWrite},
		{"bob", "sensors/#", AccessRead},
		{"bob", "sensors/secret/#", AccessDeny},
		{UserAnonymous, "public/#", AccessRead},
	}
}

// matrixCase is one cell: who does what on which topic or filter.
type matrixCase struct {
	user, client string // user "" is anonymous
	action       string
	topic        string
	want         bool
	via          string // read cells: the filter the client subscribes to first
}

func matrixCases() []matrixCase {
	return []matrixCase{
		{"alice", "a1", ActionPublish, "sensors/alice/temp", true, ""},
		{"alice", "a1", ActionPublish, "sensors/bob/temp", false, ""},
		{"alice", "a1", ActionPublish, "alerts/critical", true, ""},
		{"alice", "a1", ActionPublish, "alerts/warning", false, ""},
		{"alice", "a1", ActionPublish, "devices/a1/status", true, ""},
		{"alice", "a1", ActionPublish, "devices/a2/status", false, ""},
		{"alice", "a1", ActionPublish, "devices/a1/cmd", false, ""},
		{"alice", "a1", ActionSubscribe, "sensors/alice/#", true, ""},
		{"alice", "a1", ActionSubscribe, "sensors/+/temp", false, ""},
		{"alice", "a1", ActionSubscribe, "dash/#", true, ""},
		{"alice", "a1", ActionSubscribe, "dash/private/x", false, ""}, // single topic: needs read
		{"alice", "a1", ActionSubscribe, "devices/a1/cmd", true, ""},
		{"alice", "a1", ActionSubscribe, "devices/a2/cmd", false, ""},
		{"alice", "a1", ActionSubscribe, "#", false, ""},
		{"alice", "a1", ActionRead, "dash/public/news", true, "dash/#"},
		{"alice", "a1", ActionRead, "dash/private/x", false, "dash/#"},
		{"alice", "a1", ActionRead, "devices/a1/cmd", true, "devices/a1/cmd"},
		{"alice", "a1", ActionRead, "sensors/alice/temp", true, "sensors/alice/#"},
		{"bob", "b1", ActionSubscribe, "sensors/#", true, ""},
		{"bob", "b1", ActionSubscribe, "sensors/secret/#", false, ""},
		{"bob", "b1", ActionSubscribe, "sensors/secret/x", false, ""},
		{"bob", "b1", ActionRead, "sensors/alice/temp", true, "sensors/#"},
		{"bob", "b1", ActionRead, "sensors/secret/key", false, "sensors/#"},
		{"bob", "b1", ActionPublish, "sensors/bob/temp", true, ""},
		{"bob", "b1", ActionPublish, "sensors/secret/x", false, ""},
		{"bob", "b1", ActionPublish, "sensors/alice/temp", false, ""},
		{"", "anon", ActionSubscribe, "public/#", true, ""},
		{"", "anon", ActionRead, "public/x", true, "public/#"},
		{"", "anon", ActionPublish, "public/x", false, ""},
		{"", "anon", ActionSubscribe, "sensors//#", false, ""},
		{"", "anon", ActionPublish, "devices/anon/status", false, ""}, // %any is authenticated clients only
		{"mallory/x", "m1", ActionPublish, "sensors/mallory/x", false, ""},
		{"mallory/x", "m1", ActionPublish, "sensors/mallory/x/t", false, ""},
		{"+", "m2", ActionPublish, "sensors/anyone/t", false, ""},
		{"+", "m2", ActionSubscribe, "sensors/+/#", false, ""},
		{"carol", "+", ActionSubscribe, "devices/+/cmd", false, ""},
		{"carol", "#", ActionSubscribe, "devices/#", false, ""},
	}
}

// TestACLMatrix checks every matrix cell against the compiled rules.
func TestACLMatrix(t *testing.T) {
	a, err := compileACL(matrixRules())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range matrixCases() {
		id := identity{user: c.user, client: c.client, anonymous: c.user == ""}
		var got bool
		switch c.action {
		case ActionPublish:
			got = a.allowTopic(id, c.topic, canWrite)
		case ActionRead:
			got = a.allowTopic(id, c.topic, canRead)
		case ActionSubscribe:
			got = a.allowSubscribe(id, c.topic)
		}
		if got != c.want {
			t.Errorf("%s (%s) %s %s = %v, want %v", c.user, c.client, c.action, c.topic, got, c.want)
		}
	}
}

func TestNoRulesAllowAll(t *testing.T) {
	a, err := compileACL(nil)
	if err != nil || a != nil {
		t.Fatalf("compileACL(nil) = %v, %v", a, err)
	}
	id := identity{anonymous: true}
	if !a.allowTopic(id, "x", canWrite) || !a.allowSubscribe(id, "#") {
		t.Fatal("nil acl must allow")
	}
}

func TestSubscriptionFilter(t *testing.T) {
	for in, want := range map[string]string{
		"$share/g/a/#": "a/#", "$SHARE/g/x": "x", "a/b": "a/b", "$share/g": "$share/g", "$sharex/g/a": "$sharex/g/a",
	} {
		if got := subscriptionFilter(in); got != want {
			t.Errorf("subscriptionFilter(%q) = %q, want %q", in, got, want)
		}
	}
}
