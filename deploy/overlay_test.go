package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/borda-edge/borda/internal/testkit"
)

// overlay is a copy-on-write view of this machine: an overlayfs whose
// lower layer is / and whose writes land in an upper directory in a
// temporary directory. Each command runs in a child process with a private
// mount namespace (the overlay, /dev, /proc and /sys are mounted there,
// with a fresh /run and /tmp) and chroot, so no mount and no write reaches
// the host: when the child exits, its namespace and mounts are gone, and
// the upper directory keeps what the commands changed for the next one.
// (A second lower layer cannot be used: overlayfs refuses lower layers
// inside one another, and every directory is inside /. Files are put into
// the upper directory instead.)
type overlay struct {
	opts   string // overlayfs mount options
	merged string // mount point
	upper  string // files here appear over /
	netns  string // when set, commands run in this network namespace (ip netns exec)
}

// requireRoot skips a test that mounts file systems when not run as root
// (make test in CI runs as root).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts an overlay of / in a private mount namespace (run as root)")
	}
}

// newOverlay prepares an overlay of /.
func newOverlay(t *testing.T) *overlay {
	t.Helper()
	requireRoot(t)
	testkit.RequireCommand(t, "chroot", "coreutils")
	dir := t.TempDir()
	o := &overlay{merged: filepath.Join(dir, "merged"), upper: filepath.Join(dir, "upper")}
	work := filepath.Join(dir, "work")
	o.opts = "lowerdir=/,upperdir=" + o.upper + ",workdir=" + work
	for _, d := range []string{o.upper, work, o.merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// setup runs as the child: it mounts the overlay and what programs
// expect in a root, then chroots into it and runs the command.
const setup = `set -e
m=$BORDA_OVERLAY_MERGED
mount -t overlay borda-test -o "$BORDA_OVERLAY_OPTS" "$m"
mount --rbind /dev "$m/dev"
mount --rbind /sys "$m/sys"
mount -t proc proc "$m/proc"
mount -t tmpfs -o mode=0755 tmpfs "$m/run"
mount -t tmpfs -o mode=1777 tmpfs "$m/tmp"
if [ -n "$BORDA_OVERLAY_NETNS" ]; then
  set -- ip netns exec "$BORDA_OVERLAY_NETNS" chroot "$m" "$@"
else
  set -- chroot "$m" "$@"
fi
unset BORDA_OVERLAY_MERGED BORDA_OVERLAY_OPTS BORDA_OVERLAY_NETNS
exec "$@"
`

// run runs args as root inside the overlay and returns their combined
// output; the error says which command failed and how.
func (o *overlay) run(args ...string) (string, error) {
	cmd := exec.Command("/bin/sh", append([]string{"-c", setup, "sh"}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "LC_ALL=C", "TMPDIR=/tmp", "DEBIAN_FRONTEND=noninteractive",
		"BORDA_OVERLAY_MERGED=" + o.merged, "BORDA_OVERLAY_OPTS=" + o.opts, "BORDA_OVERLAY_NETNS=" + o.netns}
	// A private mount namespace: Go makes / private (MS_REC|MS_PRIVATE)
	// in the child before running it, so no mount propagates to the host.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	b, err := cmd.CombinedOutput()
	if err != nil {
		return string(b), fmt.Errorf("in the overlay: %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return string(b), nil
}

// must runs args in the overlay and fails the test if they fail.
func (o *overlay) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := o.run(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var netnsSeq atomic.Int64

// inNetns makes the overlay's commands run in a network namespace of
// their own, created now and deleted when the test ends.
func (o *overlay) inNetns(t *testing.T) {
	t.Helper()
	ip := testkit.RequireCommand(t, "ip", "iproute2")
	o.netns = fmt.Sprintf("borda-deploy-%d-%d", os.Getpid(), netnsSeq.Add(1))
	if out, err := exec.Command(ip, "netns", "add", o.netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", o.netns, err, out)
	}
	t.Cleanup(func() { _ = exec.Command(ip, "netns", "delete", o.netns).Run() })
}

// put copies a host file into the overlay at path (absolute inside it)
// with mode perm.
func (o *overlay) put(t *testing.T, src, path string, perm os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(o.upper, path)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, perm); err != nil {
		t.Fatal(err)
	}
}

// changes lists what the commands changed: every path in the upper
// directory that is not merely a copied-up directory of the host, with
// "deleted " before the paths they removed (overlayfs whiteouts).
func (o *overlay) changes(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(o.upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == o.upper {
			return err
		}
		rel := "/" + strings.TrimPrefix(p, o.upper+"/")
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && info.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0 {
			out = append(out, "deleted "+rel)
			return nil
		}
		if d.IsDir() {
			if host, err := os.Lstat(rel); err == nil && host.IsDir() {
				return nil // copied up because something below it changed
			}
		}
		out = append(out, rel)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}
