package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/borda-edge/borda/internal/auth"
	"golang.org/x/term"
)

const passwdUsage = `Usage:
  borda passwd [-c] [-cost N] FILE USER              set USER's password: asked twice on a
                                                     terminal, else one line of standard input
  borda passwd [-c] [-cost N] -b FILE USER PASSWORD  set USER's password from the command line
                                                     (visible in the process list and shell history)
  borda passwd -D FILE USER                          delete USER

  -c       create FILE, or overwrite it with only this user
  -b       take the password from the command line
  -D       delete the user
  -cost N  bcrypt cost, 10..16 (default 12; every step doubles the time of a login check)

FILE holds one user:bcrypt-hash per line (auth.password_file in borda.yaml);
it is replaced atomically with mode 0600. Send SIGHUP to borda to reload it.
Exit status: 0 done, 1 error, 2 usage.
`

type passwdOpts struct {
	create, batch, remove bool
	cost                  int
	file, user, password  string
}

// runPasswd is `borda passwd`: like mosquitto_passwd, but writing bcrypt
// hashes (Mosquitto 2.0 writes PBKDF2-SHA512 "$7$" hashes, which borda
// refuses as too weak, so the files are not interchangeable).
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parsePasswdArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, passwdUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "borda passwd: %v\n\n%s", err, passwdUsage)
		return 2
	}
	msg, err := passwd(o, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "borda passwd: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, msg)
	return 0
}

func parsePasswdArgs(args []string) (passwdOpts, error) {
	var o passwdOpts
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.create, "c", false, "create or overwrite FILE")
	fs.BoolVar(&o.batch, "b", false, "password on the command line")
	fs.BoolVar(&o.remove, "D", false, "delete USER")
	fs.IntVar(&o.cost, "cost", auth.DefaultBcryptCost, "bcrypt cost")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	want := 2
	switch {
	case o.create && o.remove:
		return o, errors.New("-c and -D cannot be used together")
	case o.batch && o.remove:
		return o, errors.New("-b and -D cannot be used together")
	case o.batch:
		want = 3
	}
	if fs.NArg() != want {
		return o, fmt.Errorf("expected %d arguments, got %d", want, fs.NArg())
	}
	o.file, o.user = fs.Arg(0), fs.Arg(1)
	if o.batch {
		o.password = fs.Arg(2)
	}
	return o, nil
}

// passwd applies the change and returns what to tell the operator.
func passwd(o passwdOpts, stdin io.Reader, stderr io.Writer) (string, error) {
	if err := auth.ValidateUsername(o.user); err != nil {
		return "", fmt.Errorf("username %q %w", o.user, err)
	}
	lines, entries, err := readPasswdFile(o)
	if err != nil {
		return "", err
	}
	idx := -1
	for _, e := range entries {
		if e.Username == o.user {
			idx = e.Line - 1
		}
	}
	verb := "deleted from"
	switch {
	case o.remove && idx < 0:
		return "", fmt.Errorf("user %q is not in %s", o.user, o.file)
	case o.remove:
		lines = append(lines[:idx], lines[idx+1:]...)
	default:
		line, err := newEntry(o, stdin, stderr)
		if err != nil {
			return "", err
		}
		verb = "password set in"
		if idx < 0 {
			lines = append(lines, line)
		} else {
			lines[idx] = line
		}
	}
	if err := writeFileAtomic(o.file, []byte(joinLines(lines))); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: %s %s (send SIGHUP to borda to reload)", o.user, verb, o.file), nil
}

// readPasswdFile returns the file's lines and users; with -c, none.
func readPasswdFile(o passwdOpts) ([]string, []auth.Entry, error) {
	if o.create {
		return nil, nil, nil
	}
	data, err := os.ReadFile(o.file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s does not exist (use -c to create it)", o.file)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read password file: %w", err)
	}
	entries, err := auth.ParsePasswordFile(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a valid password file; fix or remove these lines first:\n%w", o.file, err)
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil, entries, nil
	}
	return strings.Split(text, "\n"), entries, nil
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func newEntry(o passwdOpts, stdin io.Reader, stderr io.Writer) (string, error) {
	pw := []byte(o.password)
	if !o.batch {
		var err error
		if pw, err = readPassword(stdin, stderr); err != nil {
			return "", err
		}
	}
	hash, err := auth.HashPassword(pw, o.cost)
	if err != nil {
		return "", err
	}
	return auth.FormatEntry(o.user, hash), nil
}

// readPassword asks twice without echo on a terminal; otherwise it reads
// one line of stdin (for scripts: echo "$PW" | borda passwd FILE USER).
func readPassword(stdin io.Reader, stderr io.Writer) ([]byte, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		first, err := promptPassword(f, stderr, "Password: ")
		if err != nil {
			return nil, err
		}
		second, err := promptPassword(f, stderr, "Reenter password: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(first, second) {
			return nil, errors.New("the passwords do not match")
		}
		return first, nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read password from standard input: %w", err)
	}
	if line == "" {
		return nil, errors.New("no password on standard input")
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}

func promptPassword(f *os.File, stderr io.Writer, prompt string) ([]byte, error) {
	fmt.Fprint(stderr, prompt)
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, fmt.Errorf("read password from terminal: %w", err)
	}
	return pw, nil
}

// writeFileAtomic replaces path (following a symlink) with data, mode
// 0600: a temporary file in the same directory, synced, then renamed, so
// a reader sees the old file or the new one, never half of one. When the
// file existed, its owner is kept if the process may set it (root).
func writeFileAtomic(path string, data []byte) error {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file next to %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if st, err := os.Stat(path); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			_ = tmp.Chown(int(sys.Uid), int(sys.Gid)) // only root may; otherwise the file is ours
		}
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable
		d.Close()
	}
	return nil
}
