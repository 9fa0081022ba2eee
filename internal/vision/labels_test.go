package vision

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestParseLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
		err  string
	}{
		{name: "lines", in: "person\nbicycle\ncar\n", want: []string{"person", "bicycle", "car"}},
		{name: "no final newline", in: "a\nb", want: []string{"a", "b"}},
		{name: "CRLF and spaces", in: " person \r\n\tcar\r\n", want: []string{"person", "car"}},
		{name: "byte order mark", in: "\ufeffperson\ncar\n", want: []string{"person", "car"}},
		{name: "empty lines keep their ids", in: "a\n\n c\n", want: []string{"a", "", "c"}},
		{name: "empty file", in: "", want: nil},
		{name: "UTF-8 labels", in: "Fußgänger\n歩行者\n", want: []string{"Fußgänger", "歩行者"}},
		{name: "invalid UTF-8", in: "ok\nbad\xff\n", err: "line 2: not valid UTF-8"},
		{name: "CR line ends", in: "a\rb\rc\r", err: `line 1: control character '\r'`},
		{name: "tab inside", in: "a\tb\n", err: `line 1: control character '\t'`},
		{name: "line over 64 KiB", in: "a\n" + strings.Repeat("x", 70_000) + "\n", err: "line 2: bufio.Scanner: token too long"},
		{name: "too many lines", in: strings.Repeat("x\n", maxLabels+1), err: "more than 100000 lines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLabels(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestLoadClasses: labels by id, class_<id> past the file or for an
// empty line, alert classes by label or id; a bad file names its path.
func TestLoadClasses(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "labels.txt"), filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(good, []byte("person\n\ncar\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("\xfe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadClasses(ModelConfig{Labels: good, AlertClasses: []string{"person", "2"}})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range []string{"person", "class_1", "car", "class_3"} {
		if got := c.label(id); got != want {
			t.Errorf("label(%d) = %q, want %q", id, got, want)
		}
	}
	if !c.isAlert(0, "person") || !c.isAlert(2, "car") || c.isAlert(1, "class_1") {
		t.Error("alert classes by label and id")
	}
	for _, m := range []ModelConfig{{Labels: bad}, {Labels: filepath.Join(dir, "missing.txt")}} {
		if _, err := loadClasses(m); err == nil || !strings.Contains(err.Error(), filepath.Base(m.Labels)) {
			t.Errorf("%s: err = %v", m.Labels, err)
		}
	}
}

// FuzzParseLabels: any labels file gives labels that are valid UTF-8,
// trimmed, one per line, or an error; never a panic.
func FuzzParseLabels(f *testing.F) {
	f.Add([]byte("person\nbicycle\ncar\n"))
	f.Add([]byte("\ufeff a \r\n\r\nb"))
	f.Add([]byte("ok\n\xff\xfe\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		labels, err := parseLabels(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		if lines := strings.Count(string(b), "\n") + 1; len(labels) > lines {
			t.Fatalf("%d labels from %d lines", len(labels), lines)
		}
		c := &classes{labels: labels}
		for id, l := range labels {
			if !utf8.ValidString(l) || strings.TrimSpace(l) != l || strings.IndexFunc(l, unicode.IsControl) >= 0 {
				t.Fatalf("label %d %q", id, l)
			}
			if got := c.label(id); got == "" || (l != "" && got != l) {
				t.Fatalf("label(%d) = %q for %q", id, got, l)
			}
		}
	})
}
