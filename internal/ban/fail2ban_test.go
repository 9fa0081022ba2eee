package ban

import (
	"bufio"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/logging"
	"github.com/borda-edge/borda/internal/testkit"
)

const deployDir = "../../deploy/fail2ban"

// writeBanLog drives a Banner logging like the gateway (logging.New in the
// given format, component=ban) through failures, a ban, an unban, an
// expiry and allow-listed failures, and adds another component's line
// carrying an injection attempt. It returns the log and the IPs fail2ban
// must find, in order.
func writeBanLog(t *testing.T, format string) (string, []string) {
	t.Helper()
	out := &syncBuffer{}
	base := logging.New(logging.Config{Format: format, Level: "info"}, out)
	c := newClock()
	b, err := New(DefaultConfig(), Deps{Logger: base.With("component", "ban"), DataDir: t.TempDir(), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	fail := func(ip, source, reason string, n int) {
		for range n {
			b.Failure(netip.MustParseAddr(ip), source, reason)
			want = append(want, ip)
		}
	}
	fail("203.0.113.7", SourceMQTT, "bad_password", 3)
	fail("2001:db8::1", SourceHTTP, "bad_token", 2)
	fail("198.51.100.9", SourceMQTT, "unknown_user", 5) // banned
	if ok, _ := b.Unban(netip.MustParseAddr("198.51.100.9")); !ok {
		t.Fatal("198.51.100.9 was not banned")
	}
	fail("192.0.2.44", SourceHTTP, "bad_password", 5) // banned, then expires
	c.Advance(2 * time.Hour)
	b.expire()
	for range 3 { // allow-listed: logged, ignored by the filter
		b.Failure(netip.MustParseAddr("127.0.0.1"), SourceMQTT, "bad_password")
	}
	base.With("component", "broker").Info("client connected", "ip", "192.0.2.200",
		"username", `evil" msg="auth failed" component=ban ip=192.0.2.201 source=mqtt reason=x`)
	for _, msg := range []string{"ip banned", "ip unbanned", "ban expired", "allow_listed"} {
		if !strings.Contains(out.String(), msg) {
			t.Fatalf("the %s log has no %q line:\n%s", format, msg, out)
		}
	}
	return out.String(), want
}

// installFilter puts the filter beside Debian's common.conf, as an
// operator installs it in /etc/fail2ban/filter.d.
func installFilter(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "filter.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{
		filepath.Join(deployDir, "filter.d", "borda.conf"): "borda.conf",
		"/etc/fail2ban/filter.d/common.conf":               "common.conf",
	} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("read %s (is Debian package fail2ban installed?): %v", src, err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "borda.conf")
}

// TestFail2banFilterMatchesBanLog runs Debian's fail2ban-regex with the
// shipped filter over logs written by the real ban component, in both log
// formats, as plain lines (log file) and as the systemd backend presents
// journal entries ("host borda[pid]: message").
func TestFail2banFilterMatchesBanLog(t *testing.T) {
	f2b := testkit.RequireCommand(t, "fail2ban-regex", "fail2ban")
	filter := installFilter(t)
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			log, want := writeBanLog(t, format)
			var journal strings.Builder
			for _, l := range strings.SplitAfter(log, "\n") {
				if l != "" {
					journal.WriteString("edge borda[4242]: " + l)
				}
			}
			for name, content := range map[string]string{"file": log, "journal": journal.String()} {
				path := filepath.Join(t.TempDir(), "borda.log")
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(f2b, "-o", "ip", path, filter).CombinedOutput()
				if err != nil {
					t.Fatalf("%s: fail2ban-regex: %v\n%s", name, err, out)
				}
				got := strings.Fields(string(out))
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("%s: fail2ban-regex found %d addresses %v,\nwant the %d failures %v\nlog:\n%s",
						name, len(got), got, len(want), want, content)
				}
			}
		})
	}
}

// TestJailMatchesDefaults keeps the shipped jail in line with DefaultConfig.
func TestJailMatchesDefaults(t *testing.T) {
	f, err := os.Open(filepath.Join(deployDir, "jail.d", "borda.conf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && !strings.HasPrefix(strings.TrimSpace(k), "#") {
			got[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	d := DefaultConfig()
	want := map[string]string{
		"filter": "borda", "enabled": "true", "backend": "systemd", "journalmatch": "_SYSTEMD_UNIT=borda.service",
		"maxretry": "5", "findtime": "600", "bantime": "3600",
	}
	if d.MaxRetry != 5 || d.FindTime != 600*time.Second || d.BanTime != 3600*time.Second {
		t.Fatalf("DefaultConfig changed (%d, %s, %s): update jail.d/borda.conf and this test", d.MaxRetry, d.FindTime, d.BanTime)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("jail %s = %q, want %q", k, got[k], v)
		}
	}
}
