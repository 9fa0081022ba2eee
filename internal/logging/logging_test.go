package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", DefaultConfig(), ""},
		{"json debug", Config{Format: "json", Level: "DEBUG"}, ""},
		{"bad format", Config{Format: "xml", Level: "info"}, `format: "xml" is not one of text, json`},
		{"bad level", Config{Format: "text", Level: "loud"}, `level: "loud" is not one of debug, info, warn, error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRateLimitedFoldsRepeats(t *testing.T) {
	var buf bytes.Buffer
	h := NewRateLimited(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), time.Minute)
	now := time.Unix(1000, 0)
	h.now = func() time.Time { return now }
	log := slog.New(h).With("component", "test")
	for range 5 {
		log.Warn("queue full")
	}
	log.Info("other message")
	log.Debug("debug passes")
	log.Debug("debug passes")
	now = now.Add(2 * time.Minute)
	log.Warn("queue full")

	out := buf.String()
	if got := strings.Count(out, "queue full"); got != 2 {
		t.Fatalf("queue full written %d times, want 2:\n%s", got, out)
	}
	if !strings.Contains(out, "suppressed=4") {
		t.Fatalf("missing suppressed=4:\n%s", out)
	}
	if got := strings.Count(out, "debug passes"); got != 2 {
		t.Fatalf("debug lines = %d, want 2", got)
	}
	if !strings.Contains(out, "component=test") {
		t.Fatalf("attrs lost:\n%s", out)
	}
}

// Both formats write the time with exactly three fraction digits, also
// when the milliseconds end in zeros (fail2ban's datepattern needs one width).
func TestTimeFixedWidth(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log := New(Config{Format: format, Level: "info"}, &buf)
			at := time.Date(2025, 1, 2, 15, 4, 5, 100_000_000, time.FixedZone("", 3600))
			r := slog.NewRecord(at, slog.LevelInfo, "m", 0)
			if err := log.Handler().Handle(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			if want := "2025-01-02T15:04:05.100+01:00"; !strings.Contains(buf.String(), want) {
				t.Fatalf("line %q does not hold %q", buf.String(), want)
			}
		})
	}
}
