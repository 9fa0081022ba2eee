package record

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree is every path under root with its type, mode and content (or
// link target): two equal trees are the same files.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		v := info.Mode().String()
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			v += " -> " + target
		case info.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			v += " " + string(b)
		}
		out[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// undoCase is a tree and changes made to it.
type undoCase struct {
	name   string
	before map[string]string
	do     func(j *Journal) error
}

// undoCases are the changes TestUndoIsExact undoes.
func undoCases(t *testing.T) []undoCase {
	return []undoCase{
		{"replace a file", map[string]string{"etc/a.conf": "old\n"}, func(j *Journal) error {
			return j.WriteFile("etc/a.conf", []byte("new\n"), 0o644)
		}},
		{"new file in new directories", map[string]string{"etc/x": "x"}, func(j *Journal) error {
			return j.WriteFile("etc/nftables.d/sub/borda.nft", []byte("table\n"), 0o644)
		}},
		{"write twice keeps the first content", map[string]string{"etc/a": "first"}, func(j *Journal) error {
			if err := j.WriteFile("etc/a", []byte("second"), 0o600); err != nil {
				return err
			}
			return j.WriteFile("etc/a", []byte("third"), 0o644)
		}},
		{"remove a file", map[string]string{"etc/systemd/drop.conf": "[Service]\n"}, func(j *Journal) error {
			return j.Remove("etc/systemd/drop.conf")
		}},
		{"remove a missing file", nil, func(j *Journal) error { return j.Remove("etc/none") }},
		{"links", map[string]string{"lib/unit.service": "u"}, func(j *Journal) error {
			if _, err := j.Symlink("/lib/unit.service", "etc/wants/unit.service"); err != nil {
				return err
			}
			made, err := j.Symlink("/elsewhere", "etc/wants/unit.service") // there already: no change
			if made {
				t.Error("second symlink replaced the first")
			}
			return err
		}},
	}
}

// TestUndoIsExact: whatever the changes (files replaced, created in new
// directories, removed; links; directories), undoing them from the last
// saved state gives back the tree as it was, modes included.
func TestUndoIsExact(t *testing.T) {
	tests := undoCases(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tt.before)
			want := tree(t, root)
			var saved []byte
			j := &Journal{Root: root}
			j.Save = func() error {
				var err error
				saved, err = json.Marshal(j)
				return err
			}
			if err := tt.do(j); err != nil {
				t.Fatal(err)
			}
			var again Journal
			if len(saved) > 0 {
				if err := json.Unmarshal(saved, &again); err != nil {
					t.Fatal(err)
				}
			}
			again.Root = root
			lines, err := again.Undo(nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := tree(t, root); !equal(got, want) {
				t.Errorf("after undo (%s):\n%v\nwant\n%v", strings.Join(lines, "; "), got, want)
			}
		})
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestUndoKeepsDirectoriesInUse: a directory the journal created that now
// holds someone else's file is kept, and said so; done runs before the
// directories go.
func TestUndoKeepsDirectoriesInUse(t *testing.T) {
	root := t.TempDir()
	j := &Journal{Root: root}
	for _, rel := range []string{"etc/nftables.d/borda.nft", "etc/systemd/system/x.service.d/borda.conf"} {
		if err := j.WriteFile(rel, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeTree(t, root, map[string]string{"etc/nftables.d/admin.nft": "mine"})
	ran := false
	lines, err := j.Undo(func() error { ran = true; return nil })
	if err != nil || !ran {
		t.Fatalf("undo: %v, done ran %v", err, ran)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"removed " + filepath.Join(root, "etc/nftables.d/borda.nft"),
		"kept " + filepath.Join(root, "etc/nftables.d") + " (not empty)", "removed " + filepath.Join(root, "etc/systemd")} {
		if !strings.Contains(got, want) {
			t.Errorf("undo lacks %q:\n%s", want, got)
		}
	}
}

// TestStateFile: the state lives in ROOT/var/lib/borda-host (0700, state
// 0600: not in borda's own data directory, which the service may write),
// and the directory goes with the last state file.
func TestStateFile(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, StateDir, "firewall.json")
	var v struct{ A int }
	if err := Load(path, &v); err == nil || !strings.Contains(err.Error(), "nothing to revert") {
		t.Fatalf("load without a file: %v", err)
	}
	if err := Store(path, struct{ A int }{7}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", st, err)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("state directory: %v %v", st, err)
	}
	if err := Load(path, &v); err != nil || v.A != 7 {
		t.Fatalf("load: %v %+v", err, v)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Load(path, &v); err == nil || !strings.Contains(err.Error(), "decode state") {
		t.Fatalf("broken state: %v", err)
	}
	other := filepath.Join(root, StateDir, "sysctl.json")
	if err := Store(other, 1); err != nil {
		t.Fatal(err)
	}
	if err := Remove(root, path); err != nil || Remove(root, path) != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("the other state file: %v", err)
	}
	if err := Remove(root, other); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, StateDir)); !os.IsNotExist(err) {
		t.Errorf("state directory still there: %v", err)
	}
}
