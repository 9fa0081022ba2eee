package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/auth"
)

// passwdRun runs `borda passwd args` with stdin and returns the exit
// code, stdout and stderr.
func passwdRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runPasswd(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestPasswdUsage(t *testing.T) {
	tests := []struct {
		args []string
		err  string
	}{
		{nil, "expected 2 arguments, got 0"},
		{[]string{"f"}, "expected 2 arguments, got 1"},
		{[]string{"f", "u", "pw"}, "expected 2 arguments, got 3"},
		{[]string{"-b", "f", "u"}, "expected 3 arguments, got 2"},
		{[]string{"-c", "-D", "f", "u"}, "-c and -D cannot be used together"},
		{[]string{"-b", "-D", "f", "u", "p"}, "-b and -D cannot be used together"},
		{[]string{"-x", "f", "u"}, "flag provided but not defined: -x"},
		{[]string{"-cost", "many", "f", "u"}, "invalid value"},
	}
	for _, tt := range tests {
		code, _, stderr := passwdRun(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.err) || !strings.Contains(stderr, "Usage:") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.err)
		}
	}
	if code, stdout, _ := passwdRun(t, "", "-h"); code != 0 || !strings.Contains(stdout, "borda passwd -D FILE USER") {
		t.Errorf("-h: exit %d, %q", code, stdout)
	}
}

// TestPasswdLifecycle creates a file, adds, changes and deletes users,
// and checks the file after each step: comments and order kept, mode
// 0600, no temporary files left, hashes accepted by the auth hook.
func TestPasswdLifecycle(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "passwd")
	steps := []struct {
		stdin string
		args  []string
		users map[string]string // user -> password expected to log in
	}{
		{"", []string{"-c", "-b", "-cost", "10", file, "alice", "alice-1"}, map[string]string{"alice": "alice-1"}},
		{"bob-1\n", []string{"-cost", "10", file, "bob"}, map[string]string{"alice": "alice-1", "bob": "bob-1"}},
		{"alice-2\r\n", []string{"-cost", "10", file, "alice"}, map[string]string{"alice": "alice-2", "bob": "bob-1"}},
		{"", []string{"-D", file, "alice"}, map[string]string{"bob": "bob-1"}},
		{"", []string{"-c", "-b", "-cost", "10", file, "carol", "carol-1"}, map[string]string{"carol": "carol-1"}},
	}
	for i, st := range steps {
		if i == 2 { // an operator's comment must survive edits
			passwdAppendFile(t, file, "# keep me\n")
		}
		code, stdout, stderr := passwdRun(t, st.stdin, st.args...)
		if code != 0 {
			t.Fatalf("step %d %v: exit %d: %s", i, st.args, code, stderr)
		}
		if !strings.Contains(stdout, "send SIGHUP to borda to reload") {
			t.Errorf("step %d: stdout %q", i, stdout)
		}
		checkPasswdFile(t, file, st.users)
		if i >= 2 && i < 4 && !strings.Contains(passwdReadFile(t, file), "# keep me\n") {
			t.Errorf("step %d: comment lost:\n%s", i, passwdReadFile(t, file))
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in %s: %v", dir, entries)
	}
}

// checkPasswdFile: mode 0600, the parser accepts the file, exactly these
// users exist, and each logs in through the auth hook with its password.
func checkPasswdFile(t *testing.T, file string, users map[string]string) {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %s: %v %v", file, st.Mode(), err)
	}
	entries, err := auth.LoadPasswordFile(file)
	if err != nil || len(entries) != len(users) {
		t.Fatalf("parse: %d entries, %v; want %d", len(entries), err, len(users))
	}
	hook, err := auth.New(auth.Config{PasswordFile: file}, auth.Deps{Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	for user, pw := range users {
		for _, try := range []struct {
			pw   string
			want bool
		}{{pw, true}, {pw + "x", false}} {
			pk := packets.Packet{Connect: packets.ConnectParams{UsernameFlag: true, Username: []byte(user),
				PasswordFlag: true, Password: []byte(try.pw)}}
			if got := hook.OnConnectAuthenticate(&mqtt.Client{}, pk); got != try.want {
				t.Fatalf("%s with %q: accepted=%v", user, try.pw, got)
			}
		}
	}
}

func TestPasswdDefaultCost(t *testing.T) {
	file := filepath.Join(t.TempDir(), "passwd")
	if code, _, stderr := passwdRun(t, "", "-c", "-b", file, "u", "pw"); code != 0 {
		t.Fatal(stderr)
	}
	if got := passwdReadFile(t, file); !strings.HasPrefix(got, "u:$2a$12$") || len(got) != len("u:")+60+1 {
		t.Fatalf("file = %q", got)
	}
}

func TestPasswdErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	badText := "alice:plaintext-pw\n"
	if err := os.WriteFile(bad, []byte(badText), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good")
	if code, _, stderr := passwdRun(t, "", "-c", "-b", "-cost", "10", good, "alice", "pw"); code != 0 {
		t.Fatal(stderr)
	}
	goodText := passwdReadFile(t, good)
	tests := []struct {
		name, stdin string
		args        []string
		err         string
	}{
		{"missing file", "pw\n", []string{filepath.Join(dir, "nope"), "u"}, "does not exist (use -c to create it)"},
		{"bad file", "pw\n", []string{bad, "bob"}, `line 1: user "alice": not a password hash`},
		{"colon in user", "", []string{"-b", good, "a:b", "pw"}, `username "a:b" contains ':'`},
		{"empty user", "", []string{"-b", good, "", "pw"}, `username "" is empty`},
		{"long password", "", []string{"-b", good, "u", strings.Repeat("p", 73)}, "longer than 72 bytes"},
		{"empty password", "\n", []string{good, "u"}, "the password is empty"},
		{"no stdin", "", []string{good, "u"}, "no password on standard input"},
		{"weak cost", "", []string{"-b", "-cost", "8", good, "u", "pw"}, "bcrypt cost 8 is outside 10..16"},
		{"delete unknown", "", []string{"-D", good, "zed"}, `user "zed" is not in`},
	}
	for _, tt := range tests {
		code, _, stderr := passwdRun(t, tt.stdin, tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.err) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", tt.name, code, stderr, tt.err)
		}
		if strings.Contains(stderr, "plaintext-pw") {
			t.Errorf("%s: stderr shows a password: %q", tt.name, stderr)
		}
	}
	if passwdReadFile(t, bad) != badText || passwdReadFile(t, good) != goodText {
		t.Error("a failed command changed a file")
	}
}

// TestPasswdFollowsSymlink: the link's target is replaced, the link kept.
func TestPasswdFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	if code, _, stderr := passwdRun(t, "", "-c", "-b", "-cost", "10", target, "a", "pw"); code != 0 {
		t.Fatal(stderr)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := passwdRun(t, "", "-b", "-cost", "10", link, "b", "pw"); code != 0 {
		t.Fatal(stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link replaced: %v", err)
	}
	if got := passwdReadFile(t, target); !strings.Contains(got, "\nb:$2a$10$") {
		t.Fatalf("target = %q", got)
	}
}

func passwdReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func passwdAppendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, text); err != nil {
		t.Fatal(err)
	}
}
