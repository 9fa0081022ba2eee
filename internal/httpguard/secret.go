package httpguard

import "log/slog"

// Secret is a token or password from the configuration. It decodes from
// YAML as a plain string; every way of printing, logging or encoding it
// shows "<redacted>" instead (empty stays empty), so a configuration dump
// or a log line never reveals it.
type Secret string

const redacted = "<redacted>"

func (s Secret) show() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String redacts the secret (fmt verbs %v, %s, %q use it).
func (s Secret) String() string { return s.show() }

// GoString redacts the secret (%#v).
func (s Secret) GoString() string { return `httpguard.Secret("` + s.show() + `")` }

// LogValue redacts the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.show()) }

// MarshalText redacts the secret in JSON, YAML and other encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.show()), nil }
