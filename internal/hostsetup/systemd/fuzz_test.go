package systemd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzHasUser: whatever /etc/passwd holds, HasUser never fails or panics
// on a readable file; it finds a user exactly when a line's first field
// is that name (so "root:x" or "roo" never match root's line), and an
// appended line for the user is always found.
func FuzzHasUser(f *testing.F) {
	f.Add("root:x:0:0:root:/root:/bin/bash\nborda:x:999:999::/var/lib/borda:/usr/sbin/nologin\n", "borda")
	f.Add("root:x:0:0:root:/root:/bin/bash\n", "root:x")
	f.Add("+::::::\n#comment\n\n:x:1:1::/:/bin/false\n", "")
	f.Add("bordauser:x:1000:1000::/home/b:/bin/sh\r\nborda", "borda")
	f.Fuzz(func(t *testing.T, passwd, user string) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		write := func(s string) {
			if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write(passwd)
		got, err := HasUser(root, user)
		if err != nil {
			t.Fatal(err)
		}
		want := false
		for _, line := range strings.Split(passwd, "\n") {
			if i := strings.IndexByte(line, ':'); i >= 0 && line[:i] == user {
				want = true
			}
		}
		if got != want {
			t.Fatalf("HasUser(%q) = %v, want %v in %q", user, got, want, passwd)
		}
		if user == "" || strings.ContainsAny(user, ":\n") {
			return
		}
		write(passwd + "\n" + user + ":x:1:1::/:/usr/sbin/nologin\n")
		if ok, err := HasUser(root, user); !ok || err != nil {
			t.Fatalf("appended %q not found: %v", user, err)
		}
	})
}
