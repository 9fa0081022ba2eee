// Package systemd renders borda's hardened systemd unit (and the drop-in
// that grants network capabilities when netmon manages routes) and
// installs them under a root directory.
package systemd

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

//go:embed borda.service.tmpl
var unitText string

//go:embed netmon.conf.tmpl
var netmonDropIn []byte

var unitTmpl = template.Must(template.New("unit").Parse(unitText))

// Options are the install paths; Default() is the Debian package's layout.
type Options struct {
	Binary  string // absolute path of the borda binary
	Config  string // absolute path of borda.yaml
	DataDir string // under /var/lib (StateDirectory)
	User    string // system user (and group) borda runs as
	// ManageRoutes adds the netmon drop-in (CAP_NET_ADMIN, CAP_NET_RAW).
	ManageRoutes bool
}

// Default is /usr/bin/borda, /etc/borda/borda.yaml, /var/lib/borda, user borda.
func Default() Options {
	return Options{Binary: "/usr/bin/borda", Config: "/etc/borda/borda.yaml", DataDir: "/var/lib/borda", User: "borda"}
}

var userRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// Validate checks what goes into the unit file.
func (o Options) Validate() error {
	var errs []error
	for _, p := range []struct{ name, v string }{{"binary", o.Binary}, {"config", o.Config}, {"data dir", o.DataDir}} {
		if !filepath.IsAbs(p.v) || strings.ContainsAny(p.v, " \t\n\"'\\%$;") {
			errs = append(errs, fmt.Errorf("%s %q: want an absolute path without blanks, quotes, %%, $ or ;", p.name, p.v))
		}
	}
	if !strings.HasPrefix(o.DataDir, "/var/lib/") || filepath.Clean(o.DataDir) != o.DataDir {
		errs = append(errs, fmt.Errorf("data dir %q: must be a clean path under /var/lib (systemd StateDirectory)", o.DataDir))
	}
	if !userRE.MatchString(o.User) {
		errs = append(errs, fmt.Errorf("user %q is not a valid system user name", o.User))
	}
	return errors.Join(errs...)
}

// Unit renders borda.service.
func Unit(o Options) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	data := struct {
		Options
		StateDirectory string
	}{o, strings.TrimPrefix(o.DataDir, "/var/lib/")}
	var b bytes.Buffer
	if err := unitTmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render unit: %w", err)
	}
	return b.Bytes(), nil
}

// NetmonDropIn is borda.service.d/netmon.conf.
func NetmonDropIn() []byte { return bytes.Clone(netmonDropIn) }

// Paths of the installed files, relative to the root.
const (
	UnitPath   = "etc/systemd/system/borda.service"
	DropInPath = "etc/systemd/system/borda.service.d/netmon.conf"
)

// Action is one file operation of an install.
type Action struct {
	Op   string // "write" or "remove"
	Path string // absolute, under the root
	Data []byte
}

// Plan lists the file operations that install o under root: the unit,
// and the netmon drop-in written or (if present) removed.
func Plan(root string, o Options) ([]Action, error) {
	unit, err := Unit(o)
	if err != nil {
		return nil, err
	}
	acts := []Action{{Op: "write", Path: filepath.Join(root, UnitPath), Data: unit}}
	drop := filepath.Join(root, DropInPath)
	if o.ManageRoutes {
		acts = append(acts, Action{Op: "write", Path: drop, Data: NetmonDropIn()})
	} else if _, err := os.Stat(drop); err == nil {
		acts = append(acts, Action{Op: "remove", Path: drop})
	}
	return acts, nil
}

// HasUser reports whether root/etc/passwd has user.
func HasUser(root, user string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read passwd: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok && name == user {
			return true, nil
		}
	}
	return false, nil
}

// UserAddArgs is the useradd command line that creates the system user.
func UserAddArgs(o Options) []string {
	return []string{"useradd", "--system", "--user-group", "--home-dir", o.DataDir, "--no-create-home",
		"--shell", "/usr/sbin/nologin", "--comment", "borda edge gateway", o.User}
}
