// Package logging builds borda's slog loggers and a rate limiter for log
// lines that could otherwise flood the log (per-message warnings).
package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Config selects the log format and level.
type Config struct {
	Format string `yaml:"format"` // text (default) or json
	Level  string `yaml:"level"`  // debug, info (default), warn, error
}

// DefaultConfig returns text logs at info level.
func DefaultConfig() Config { return Config{Format: "text", Level: "info"} }

// Validate reports an unknown format or level.
func (c Config) Validate() error {
	var errs []error
	if c.Format != "text" && c.Format != "json" {
		errs = append(errs, fmt.Errorf("format: %q is not one of text, json", c.Format))
	}
	if _, err := ParseLevel(c.Level); err != nil {
		errs = append(errs, fmt.Errorf("level: %w", err))
	}
	return errors.Join(errs...)
}

// ParseLevel converts debug/info/warn/error (any case) to a slog.Level.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
}

// New returns a logger writing to w in the configured format and level.
// The config must have been validated.
func New(c Config, w io.Writer) *slog.Logger {
	lvl, _ := ParseLevel(c.Level)
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		opts.ReplaceAttr = fixedTime
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// TimeLayout is the timestamp of every log line: RFC 3339 with exactly
// three fraction digits, as slog's text handler writes it. The JSON
// handler's default (RFC 3339 nano with trailing zeros trimmed) varies in
// width, which log parsers such as fail2ban's datepattern trip over.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// fixedTime writes the record's time with TimeLayout.
func fixedTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
		return slog.String(slog.TimeKey, a.Value.Time().Format(TimeLayout))
	}
	return a
}
