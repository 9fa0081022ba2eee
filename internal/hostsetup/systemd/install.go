package systemd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/borda-edge/borda/internal/hostsetup/record"
)

// StatePath is where install-service records what it changed (default),
// relative to the root.
const StatePath = record.StateDir + "/service.json"

// WantsPath is the link `systemctl enable borda` creates.
const WantsPath = "etc/systemd/system/multi-user.target.wants/borda.service"

// ErrNotInstalled is returned by Uninstall when install-service recorded nothing.
var ErrNotInstalled = record.ErrNotApplied

// Runner runs programs (useradd, userdel, systemctl).
type Runner interface {
	LookPath(name string) (string, error)
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// Installer installs the unit under Root ("/" on a real host). On / it
// also creates the user and reloads systemd; elsewhere it says what to run.
type Installer struct {
	Root   string
	State  string // default Root/StatePath
	Runner Runner
	Log    *slog.Logger // nil: discarded
}

// serviceState is what install-service changed.
type serviceState struct {
	record.Journal
	// UserCreated is the user install-service created ("" when it existed).
	UserCreated string `json:"user_created,omitempty"`
}

func (in Installer) root() string {
	if in.Root == "" {
		return "/"
	}
	return in.Root
}

func (in Installer) statePath() string {
	if in.State != "" {
		return in.State
	}
	return filepath.Join(in.root(), StatePath)
}

func (in Installer) log() *slog.Logger {
	if in.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return in.Log.With("component", "systemd")
}

// load reads the state file or starts a new one (fresh reports which).
func (in Installer) load() (st *serviceState, fresh bool, err error) {
	st = &serviceState{}
	if err = record.Load(in.statePath(), st); errors.Is(err, record.ErrNotApplied) {
		st, fresh, err = &serviceState{}, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	st.Journal.Root = in.root()
	st.Journal.Save = func() error { return record.Store(in.statePath(), st) }
	if fresh {
		st.Journal.StateFile(in.statePath())
	}
	return st, fresh, nil
}

// Install carries out Plan(Root, o), recording every change first, then
// creates the user (on /, when it is missing) and reloads systemd.
// Installing again keeps the first record.
func (in Installer) Install(ctx context.Context, o Options) ([]string, error) {
	acts, err := Plan(in.root(), o)
	if err != nil {
		return nil, err
	}
	st, _, err := in.load()
	if err != nil {
		return nil, err
	}
	var done []string
	for _, a := range acts {
		rel, _ := filepath.Rel(in.root(), a.Path)
		if a.Op == "write" {
			err = st.Journal.WriteFile(filepath.ToSlash(rel), a.Data, 0o644)
		} else {
			err = st.Journal.Remove(filepath.ToSlash(rel))
		}
		if err != nil {
			return done, fmt.Errorf("install %s: %w", a.Path, err)
		}
		done = append(done, map[string]string{"write": "wrote ", "remove": "removed "}[a.Op]+a.Path)
	}
	lines, err := in.createUser(ctx, st, o)
	done = append(done, lines...)
	if err != nil {
		return done, err
	}
	in.log().Info("service installed", "root", in.root(), "state", in.statePath())
	return append(done, in.daemonReload(ctx)...), nil
}

// createUser runs useradd on / when the user is missing, recorded first.
func (in Installer) createUser(ctx context.Context, st *serviceState, o Options) ([]string, error) {
	has, err := HasUser(in.root(), o.User)
	if err != nil || has {
		return nil, err
	}
	args := UserAddArgs(o)
	if in.root() != "/" {
		return []string{"then, on the host: " + strings.Join(args, " ")}, nil
	}
	path, err := in.Runner.LookPath(args[0])
	if err != nil {
		return nil, fmt.Errorf("create user %s: useradd not found (Debian package passwd): %w", o.User, err)
	}
	st.UserCreated = o.User
	if err := st.Journal.Save(); err != nil {
		return nil, err
	}
	if _, err := in.Runner.Run(ctx, nil, path, args[1:]...); err != nil {
		return nil, fmt.Errorf("create user %s: %w", o.User, err)
	}
	return []string{"ran " + strings.Join(args, " ")}, nil
}

// daemonReload reloads systemd on a real host (see record.DaemonReload).
func (in Installer) daemonReload(ctx context.Context) []string {
	return record.DaemonReload(ctx, in.Runner, in.root())
}

// Uninstall removes exactly what Install recorded: the files are removed
// or get their previous content back, the user it created is deleted
// (userdel: its files, e.g. the data in /var/lib/borda, stay), systemd is
// reloaded. It refuses while borda.service is enabled. ErrNotInstalled
// without a state file.
func (in Installer) Uninstall(ctx context.Context) ([]string, error) {
	st, fresh, err := in.load()
	if err != nil {
		return nil, err
	}
	if fresh {
		return nil, fmt.Errorf("%w: no state file %s", ErrNotInstalled, in.statePath())
	}
	if _, err := os.Lstat(filepath.Join(in.root(), WantsPath)); err == nil {
		return nil, fmt.Errorf("borda.service is enabled (%s): run systemctl disable --now borda first",
			filepath.Join(in.root(), WantsPath))
	}
	var done []string
	if st.UserCreated != "" && in.root() == "/" {
		path, err := in.Runner.LookPath("userdel")
		if err == nil {
			_, err = in.Runner.Run(ctx, nil, path, st.UserCreated)
		}
		if err != nil {
			return nil, fmt.Errorf("delete user %s: %w", st.UserCreated, err)
		}
		done = append(done, "ran userdel "+st.UserCreated)
		st.UserCreated = ""
		if err := st.Journal.Save(); err != nil {
			return done, err
		}
	}
	lines, err := st.Journal.Undo(func() error { return record.Remove(in.root(), in.statePath()) })
	done = append(done, lines...)
	if err != nil {
		return done, err
	}
	in.log().Info("service uninstalled", "root", in.root())
	return append(done, in.daemonReload(ctx)...), nil
}
