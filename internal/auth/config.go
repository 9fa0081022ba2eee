// Package auth authenticates MQTT clients (password file, inline users,
// client-certificate CN, anonymous policy) and enforces topic ACLs, as a
// mochi-mqtt hook. It also owns the password file format that
// `borda passwd` writes.
package auth

import (
	"errors"
	"fmt"
	"strings"
)

// Config is the auth section of borda.yaml.
type Config struct {
	// Anonymous decides whether clients without a username may connect:
	// auto (default: loopback while no users are configured, off once any
	// are), off/false, loopback (127.0.0.0/8 and ::1 only) or on/true.
	Anonymous string `yaml:"anonymous"`
	// PasswordFile is a mosquitto_passwd-style file of user:hash lines
	// managed with `borda passwd`. Re-read by Reload (SIGHUP).
	PasswordFile string `yaml:"password_file"`
	// Users are inline users for small setups: hashes only, never passwords.
	Users []User `yaml:"users"`
	// UseCertCNAsUsername makes the CN of a verified client certificate
	// (mTLS listeners) the client's username; no password is needed.
	UseCertCNAsUsername bool `yaml:"use_cert_cn_as_username"`
	// ACL rules. Empty: every connected client may publish and subscribe
	// to every topic. Non-empty: what no rule grants is denied.
	ACL []Rule `yaml:"acl"`
}

// User is an inline user.
type User struct {
	Username     string `yaml:"username"`
	PasswordHash string `yaml:"password_hash"` // bcrypt ($2a$/$2b$/$2y$) or argon2id PHC string
}

// Rule grants (or denies) one kind of access to the topics matching a
// pattern, for one user, every authenticated user (%any) or anonymous
// clients (%anonymous). Patterns may use + and # and the whole-level
// substitutions %u (username) and %c (client id).
type Rule struct {
	User   string `yaml:"user"`
	Topic  string `yaml:"topic"`
	Access string `yaml:"access"`
}

// Anonymous policies (Config.Anonymous). Aliases: false/no for off,
// true/yes for on; case does not matter.
const (
	AnonymousAuto     = "auto"
	AnonymousOff      = "off"
	AnonymousLoopback = "loopback"
	AnonymousOn       = "on"
)

// Access values of a Rule.
const (
	AccessRead      = "read"      // subscribe within the pattern and receive its messages
	AccessWrite     = "write"     // publish
	AccessReadWrite = "readwrite" // read and write
	AccessSubscribe = "subscribe" // subscribe (wildcard filters) within the pattern; delivery still needs read
	AccessDeny      = "deny"      // deny read, write and subscribe, whatever else grants them
)

// Special values of Rule.User.
const (
	UserAny       = "%any"       // every authenticated client
	UserAnonymous = "%anonymous" // clients connected without a username
)

// DefaultConfig is the zero-config behaviour: no users, anonymous clients
// from loopback only, no ACL.
func DefaultConfig() Config {
	return Config{Anonymous: AnonymousAuto}
}

// hasUsers reports whether any way of authenticating users is configured;
// it decides what anonymous: auto means.
func (c Config) hasUsers() bool {
	return c.PasswordFile != "" || len(c.Users) > 0 || c.UseCertCNAsUsername
}

// anonymousPolicy resolves the configured policy to off, loopback or on.
func (c Config) anonymousPolicy() (string, error) {
	switch strings.ToLower(c.Anonymous) {
	case "", AnonymousAuto:
		if c.hasUsers() {
			return AnonymousOff, nil
		}
		return AnonymousLoopback, nil
	case AnonymousOff, "false", "no":
		return AnonymousOff, nil
	case AnonymousLoopback:
		return AnonymousLoopback, nil
	case AnonymousOn, "true", "yes":
		return AnonymousOn, nil
	}
	return "", fmt.Errorf("anonymous: %q is not one of auto, off, loopback, on", c.Anonymous)
}

// Validate reports every problem in the configuration, each starting with
// its key. It does not read the password file (New and Reload do).
func (c Config) Validate() error {
	var errs []error
	if _, err := c.anonymousPolicy(); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		p := fmt.Sprintf("users[%d]", i)
		if err := ValidateUsername(u.Username); err != nil {
			errs = append(errs, fmt.Errorf("%s.username: %w", p, err))
		} else if seen[u.Username] {
			errs = append(errs, fmt.Errorf("%s.username: %q is already defined", p, u.Username))
		}
		seen[u.Username] = true
		if u.PasswordHash == "" {
			errs = append(errs, fmt.Errorf("%s.password_hash: is required (create one with borda passwd)", p))
		} else if _, err := parseHash(u.PasswordHash); err != nil {
			errs = append(errs, fmt.Errorf("%s.password_hash: %w", p, err))
		}
	}
	for i, r := range c.ACL {
		for _, err := range r.validate() {
			errs = append(errs, fmt.Errorf("acl[%d].%w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (r Rule) validate() []error {
	var errs []error
	switch {
	case r.User == "":
		errs = append(errs, fmt.Errorf("user: is required (a username, %s or %s)", UserAny, UserAnonymous))
	case strings.HasPrefix(r.User, "%") && r.User != UserAny && r.User != UserAnonymous:
		errs = append(errs, fmt.Errorf("user: %q is not a username, %s or %s", r.User, UserAny, UserAnonymous))
	}
	if _, err := parsePattern(r.Topic); err != nil {
		errs = append(errs, fmt.Errorf("topic %q: %w", r.Topic, err))
	}
	if _, err := parseAccess(r.Access); err != nil {
		errs = append(errs, fmt.Errorf("access: %w", err))
	}
	return errs
}

// ValidateUsername reports why a name cannot be a username: empty, ':'
// (the password file separator), a leading '%' (ACL keywords), leading or
// trailing spaces, control characters or invalid UTF-8.
func ValidateUsername(name string) error {
	switch {
	case name == "":
		return errors.New("is empty")
	case strings.ContainsRune(name, ':'):
		return errors.New("contains ':'")
	case strings.HasPrefix(name, "%"):
		return errors.New("starts with '%' (reserved for ACL keywords)")
	case strings.TrimSpace(name) != name:
		return errors.New("has leading or trailing spaces")
	case !validText(name):
		return errors.New("contains control characters or invalid UTF-8")
	case len(name) > 65535:
		return errors.New("is longer than 65535 bytes")
	}
	return nil
}
