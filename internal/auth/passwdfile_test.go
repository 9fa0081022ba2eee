package auth

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseGoodFile(t *testing.T) {
	entries, err := LoadPasswordFile("testdata/passwd/good")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alice": "alice-secret", "bob": "bob-secret", "carol": "carol-secret", "dave": "dave-secret"}
	wantLine := map[string]int{"alice": 3, "bob": 5, "carol": 6, "dave": 7}
	if len(entries) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(entries), len(want), entries)
	}
	for _, e := range entries {
		if e.Line != wantLine[e.Username] {
			t.Errorf("%s on line %d, want %d", e.Username, e.Line, wantLine[e.Username])
		}
		c, err := parseHash(e.Hash)
		if err != nil {
			t.Fatalf("%s: %v", e.Username, err)
		}
		if !c.verify([]byte(want[e.Username])) {
			t.Errorf("%s: right password refused", e.Username)
		}
		if c.verify([]byte(want[e.Username] + "x")) {
			t.Errorf("%s: wrong password accepted", e.Username)
		}
	}
}

// TestParseBadFile: every bad line is reported with its number; the hash
// and plaintext never appear in the message.
func TestParseBadFile(t *testing.T) {
	f, err := os.Open("testdata/passwd/bad")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := ParsePasswordFile(f)
	if err == nil {
		t.Fatal("bad file accepted")
	}
	want := []string{
		`line 3: user "alice": duplicate user (first defined on line 2)`,
		`line 4: username is empty`,
		`line 5: missing ':' between user and hash`,
		`line 6: user "erin": not a password hash: plaintext passwords are refused`,
		`line 7: user "frank": Mosquitto's PBKDF2-SHA512 hash ($7$) is not accepted`,
		`line 8: user "gina": weak bcrypt cost 4: the minimum is 10`,
		`line 9: user "hugo": weak argon2id parameters`,
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
	for _, secret := range []string{"hunter2", "R7vVmZ", "abcdefgh", "MDEy"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error contains %q:\n%s", secret, msg)
		}
	}
	var le *LineError
	if !errors.As(err, &le) {
		t.Errorf("no *LineError in %T", err)
	}
	if len(entries) != 2 { // alice (line 2) and bob (line 10) are good
		t.Errorf("good entries = %+v", entries)
	}
}

func TestParseLines(t *testing.T) {
	good := hashOf(t, "pw")
	tests := []struct {
		name, in string
		users    int
		err      string
	}{
		{"empty file", "", 0, ""},
		{"comments and blanks", "# c\n\n  \n\t# c\n", 0, ""},
		{"no trailing newline", "u:" + good, 1, ""},
		{"crlf", "u:" + good + "\r\nv:" + good + "\r\n", 2, ""},
		{"colon in user", "a:b:" + good, 0, `line 1: user "a": more than one ':'`},
		{"space in user", " u:" + good, 0, "line 1: username has leading or trailing spaces"},
		{"control char", "u\x01:" + good, 0, "line 1: username contains control characters"},
		{"keyword user", "%any:" + good, 0, "line 1: username starts with '%'"},
		{"empty hash", "u:", 0, `line 1: user "u": empty password hash`},
		{"sha512", "u:$6$abc$def", 0, "($6$) is not accepted"},
		{"argon2i", "u:$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", 0, "unknown password hash format"},
		{"short bcrypt", "u:$2a$12$short", 0, "malformed bcrypt hash"},
		{"bcrypt cost 17", "u:$2a$17$" + good[7:], 0, "bcrypt cost 17 is above 16"},
		{"bad bcrypt char", "u:" + good[:59] + "!", 0, "invalid character"},
		{"argon2 huge memory", "u:$argon2id$v=19$m=4194304,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$6Cq31yn/2o3iRrbuYqAhSVuM1ygHYOKA+W4GW5LVJ44", 0, "out of range"},
		{"argon2 bad base64", "u:$argon2id$v=19$m=19456,t=2,p=1$!!$6Cq31yn", 0, "not unpadded base64"},
		{"argon2 old version", "u:$argon2id$v=16$m=19456,t=2,p=1$MDEy$MDEy", 0, "malformed argon2id hash"},
		{"long line", "u:" + strings.Repeat("x", maxLineLen+1), 0, "longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := ParsePasswordFile(strings.NewReader(tt.in))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tt.err == "" && err != nil || !strings.Contains(got, tt.err) {
				t.Fatalf("error = %q, want %q", got, tt.err)
			}
			if len(entries) != tt.users {
				t.Fatalf("entries = %d, want %d", len(entries), tt.users)
			}
		})
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword([]byte("correct horse"), testCost)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseHash(h)
	if err != nil || !c.verify([]byte("correct horse")) || c.verify([]byte("correct hors")) {
		t.Fatalf("round trip failed: %v", err)
	}
	for _, tt := range []struct {
		pw   string
		cost int
		err  string
	}{
		{"", testCost, "empty"},
		{strings.Repeat("p", 73), testCost, "longer than 72 bytes"},
		{"pw", 9, "outside 10..16"},
		{"pw", 17, "outside 10..16"},
	} {
		if _, err := HashPassword([]byte(tt.pw), tt.cost); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("HashPassword(len %d, cost %d) = %v, want %q", len(tt.pw), tt.cost, err, tt.err)
		}
	}
}

// TestLongPasswordRefused: bcrypt compares only 72 bytes; a longer
// password sharing them must not log in.
func TestLongPasswordRefused(t *testing.T) {
	pw := strings.Repeat("a", 72)
	c, err := parseHash(hashOf(t, pw))
	if err != nil {
		t.Fatal(err)
	}
	if !c.verify([]byte(pw)) || c.verify([]byte(pw+"tail")) {
		t.Fatal("72-byte prefix handling is wrong")
	}
}
