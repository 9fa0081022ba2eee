package auth

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Entry is one user of a password file.
type Entry struct {
	Username string
	Hash     string
	Line     int // 1-based line number in the file
}

// LineError is a problem on one line of a password file. Its message
// names the line and, when known, the user; never the hash or the line's
// text (a mistyped line may hold a plaintext password).
type LineError struct {
	Line int
	User string // "" when the line has no usable username
	Err  error
}

func (e *LineError) Error() string {
	if e.User != "" {
		return fmt.Sprintf("line %d: user %q: %v", e.Line, e.User, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// maxLineLen bounds one line of a password file.
const maxLineLen = 64 * 1024

// ParsePasswordFile reads mosquitto_passwd-style lines "user:hash".
// Blank lines and lines starting with '#' are ignored; a trailing "\r" is
// removed. Every bad line is reported (errors.Join of *LineError), with
// the entries of the good lines.
func ParsePasswordFile(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	var entries []Entry
	var errs []error
	seen := map[string]int{}
	n := 0
	for sc.Scan() {
		n++
		e, err := parseLine(sc.Text(), n)
		switch {
		case err != nil:
			errs = append(errs, err)
		case e == nil:
		case seen[e.Username] > 0:
			errs = append(errs, &LineError{Line: n, User: e.Username,
				Err: fmt.Errorf("duplicate user (first defined on line %d)", seen[e.Username])})
		default:
			seen[e.Username] = n
			entries = append(entries, *e)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line %d: longer than %d bytes", n+1, maxLineLen)
		}
		errs = append(errs, err)
	}
	return entries, errors.Join(errs...)
}

// parseLine returns nil, nil for blank and comment lines.
func parseLine(line string, n int) (*Entry, error) {
	line = strings.TrimSuffix(line, "\r")
	if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimLeft(line, " \t"), "#") {
		return nil, nil
	}
	user, hash, ok := strings.Cut(line, ":")
	if !ok {
		return nil, &LineError{Line: n, Err: errors.New("missing ':' between user and hash")}
	}
	if err := ValidateUsername(user); err != nil {
		return nil, &LineError{Line: n, Err: fmt.Errorf("username %w", err)}
	}
	if strings.Contains(hash, ":") {
		return nil, &LineError{Line: n, User: user, Err: errors.New("more than one ':' (a username cannot contain ':')")}
	}
	if _, err := parseHash(hash); err != nil {
		return nil, &LineError{Line: n, User: user, Err: err}
	}
	return &Entry{Username: user, Hash: hash, Line: n}, nil
}

// LoadPasswordFile parses the password file at path; errors name the path.
func LoadPasswordFile(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	entries, err := ParsePasswordFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("password file %s: %w", path, err)
	}
	return entries, nil
}

// FormatEntry is the password file line for a user (without newline).
func FormatEntry(username, hash string) string { return username + ":" + hash }
