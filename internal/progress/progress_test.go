package progress

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		notes  string // written after the writes
		done   bool
		want   string
	}{
		{"one line", []string{"sent 1\n"}, "", false, "\r\033[Ksent 1"},
		{"replaces the previous line", []string{"sent 1\n", "sent 2\n"}, "", true, "\r\033[Ksent 1\r\033[Ksent 2\n"},
		{"partial writes", []string{"sen", "t 3\nsent", " 4\n"}, "", false, "\r\033[Ksent 3\r\033[Ksent 4"},
		{"CRLF", []string{"sent 5\r\n"}, "", false, "\r\033[Ksent 5"},
		{"notes clear the line", []string{"sent 6\n"}, "== next\n", false, "\r\033[Ksent 6\r\033[K== next\n"},
		{"notes without progress", nil, "== first\n", true, "== first\n"},
		{"done without progress", nil, "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := NewLine(&buf)
			for _, w := range tt.writes {
				if n, err := l.Write([]byte(w)); err != nil || n != len(w) {
					t.Fatalf("write %q: %d, %v", w, n, err)
				}
			}
			if tt.notes != "" {
				_, _ = l.Notes().Write([]byte(tt.notes))
			}
			if tt.done {
				Finish(l)
			}
			if buf.String() != tt.want {
				t.Errorf("got %q, want %q", buf.String(), tt.want)
			}
		})
	}
}

func TestFor(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var buf bytes.Buffer
	tests := []struct {
		name   string
		out    any
		always bool
		want   string // "nil", "same", "line"
	}{
		{"file is quiet", f, false, "nil"},
		{"buffer is quiet", &buf, false, "nil"},
		{"forced on a file", f, true, "same"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.out.(interface{ Write([]byte) (int, error) })
			got := For(w, tt.always)
			switch {
			case tt.want == "nil" && got != nil, tt.want == "same" && got != w:
				t.Errorf("For = %T %v, want %s", got, got, tt.want)
			}
		})
	}
	if IsTerminal(f) || IsTerminal(&buf) {
		t.Error("a file is not a terminal")
	}
}

// TestForTerminal: on a real pseudo-terminal progress is drawn in place.
func TestForTerminal(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	if _, ok := For(pts, false).(*Line); !ok {
		t.Errorf("For(terminal) = %T, want *Line", For(pts, false))
	}
}
