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
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
