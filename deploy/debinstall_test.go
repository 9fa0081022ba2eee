package deploy

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/testkit"
)

// TestDebInstall installs the real package (the cgo binary scripts/deb.sh
// builds) with dpkg on this Debian machine — inside a copy-on-write
// overlay of / in a private mount namespace, so the host is not changed —
// and checks what an operator gets: the user, the conffile and the data
// directory with their owners and modes, the unit (systemd-analyze verify
// accepts it), `borda check` as user borda and `borda version`. Then it
// removes and purges the package: only the user, dpkg's own records and
// the data borda wrote are left. The host has no trace of any of it.
func TestDebInstall(t *testing.T) {
	requireRoot(t)
	for _, c := range [][2]string{{"dpkg", "dpkg"}, {"systemd-analyze", "systemd"}, {"setpriv", "util-linux"}, {"getent", "libc-bin"}} {
		testkit.RequireCommand(t, c[0], c[1])
	}
	t.Parallel()
	deb := debPackage(t)
	host := hostTraces(t)
	t.Cleanup(func() {
		if after := hostTraces(t); !slices.Equal(after, host) {
			t.Errorf("the host changed:\nbefore %q\nafter  %q", host, after)
		}
	})
	o := newOverlay(t)
	o.put(t, deb, "/borda-test/borda.deb", 0o644)
	if out := o.must(t, "dpkg", "-i", "/borda-test/borda.deb"); strings.Contains(out, "warning") {
		t.Errorf("dpkg -i warns:\n%s", out)
	}
	checkInstalled(t, o)
	checkRemoveAndPurge(t, o)
}

// checkInstalled checks the installed package from inside the overlay.
func checkInstalled(t *testing.T, o *overlay) {
	t.Helper()
	passwd := o.must(t, "getent", "passwd", "borda")
	if !regexp.MustCompile(`^borda:x:\d+:\d+:borda edge gateway:/var/lib/borda:/usr/sbin/nologin\n$`).MatchString(passwd) {
		t.Errorf("user borda: %q", passwd)
	}
	if groups := strings.Fields(o.must(t, "id", "-nG", "borda")); !slices.Contains(groups, "borda") || !slices.Contains(groups, "video") {
		t.Errorf("borda's groups: %v, want borda and video", groups)
	}
	want := []string{
		"/usr/bin/borda root:root 755 regular file",
		"/lib/systemd/system/borda.service root:root 644 regular file",
		"/etc/borda/borda.yaml root:borda 640 regular file",
		"/var/lib/borda borda:borda 750 directory",
	}
	args := []string{"stat", "-c", "%n %U:%G %a %F"}
	for _, w := range want {
		args = append(args, strings.Fields(w)[0])
	}
	if got := strings.Split(strings.TrimSpace(o.must(t, args...)), "\n"); !slices.Equal(got, want) {
		t.Errorf("installed files:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	status := o.must(t, "dpkg-query", "-W", "-f", "${Status} ${Version}\n${Conffiles}\n", "borda")
	if !strings.HasPrefix(status, "install ok installed "+debVersion+"-1\n /etc/borda/borda.yaml ") {
		t.Errorf("dpkg-query: %q", status)
	}
	if out := o.must(t, "systemd-analyze", "verify", "/lib/systemd/system/borda.service"); strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify of the installed unit warns:\n%s", out)
	}
	// As the unit runs it: user borda reads the 0640 config.
	o.must(t, "setpriv", "--reuid=borda", "--regid=borda", "--init-groups",
		"/usr/bin/borda", "check", "-c", "/etc/borda/borda.yaml")
	if v := o.must(t, "/usr/bin/borda", "version"); !strings.HasPrefix(v, "borda "+debVersion+" ") ||
		!strings.Contains(v, "vision compiled in") {
		t.Errorf("borda version: %q, want %s with vision compiled in", v, debVersion)
	}
}

// checkRemoveAndPurge: remove keeps the conffile; purge takes it and every
// file of the package; the data borda wrote and the user stay (documented).
func checkRemoveAndPurge(t *testing.T, o *overlay) {
	t.Helper()
	o.must(t, "setpriv", "--reuid=borda", "--regid=borda", "--init-groups", "sh", "-c", "echo data > /var/lib/borda/broker.db")
	o.must(t, "dpkg", "--remove", "borda")
	if st := o.must(t, "dpkg-query", "-W", "-f", "${Status}", "borda"); st != "deinstall ok config-files" {
		t.Errorf("after remove: %q", st)
	}
	o.must(t, "test", "-f", "/etc/borda/borda.yaml")
	out := o.must(t, "dpkg", "--purge", "borda")
	if strings.Count(out, "warning") != 1 || !strings.Contains(out, "directory '/var/lib/borda' not empty so not removed") {
		t.Errorf("dpkg --purge: want only the warning that /var/lib/borda keeps data:\n%s", out)
	}
	if _, err := o.run("dpkg-query", "-W", "borda"); err == nil {
		t.Error("dpkg still knows borda after purge")
	}
	o.must(t, "getent", "passwd", "borda")
	var left []string
	changes := o.changes(t)
	t.Logf("after purge the overlay differs from the host in %d paths: %s", len(changes), strings.Join(changes, " "))
	for _, p := range changes {
		if !purgeKeeps(p) {
			left = append(left, p)
		}
	}
	if len(left) > 0 {
		t.Errorf("purge left behind:\n%s", strings.Join(left, "\n"))
	}
}

// purgeKeeps is what may differ from the host after purge: the user and
// group borda (with the backups and lock of the shadow tools), dpkg's
// database and log, the data
// borda wrote, and the package file the test brought in.
func purgeKeeps(p string) bool {
	if p == "/etc/.pwd.lock" { // useradd's lock file
		return true
	}
	for _, f := range []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/subuid", "/etc/subgid"} {
		if p == f || p == f+"-" {
			return true
		}
	}
	for _, dir := range []string{"/var/lib/dpkg/", "/var/log/", "/var/lib/borda", "/borda-test"} {
		if strings.HasPrefix(p, dir) {
			return true
		}
	}
	return false
}

// hostTraces is what an install would leave on this machine: the user and
// group, the paths the package writes, dpkg's record.
func hostTraces(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, q := range [][]string{{"getent", "passwd", "borda"}, {"getent", "group", "borda"},
		{"dpkg-query", "-W", "-f", "${Status}", "borda"}} {
		b, err := exec.Command(q[0], q[1:]...).CombinedOutput()
		out = append(out, strings.Join(q, " ")+": "+strings.TrimSpace(string(b))+errText(err))
	}
	for _, p := range []string{"/usr/bin/borda", "/etc/borda", "/var/lib/borda", "/lib/systemd/system/borda.service",
		"/usr/share/doc/borda"} {
		_, err := os.Lstat(p)
		out = append(out, p+errText(err))
	}
	return out
}

func errText(err error) string {
	if err != nil {
		return " (" + err.Error() + ")"
	}
	return ""
}
