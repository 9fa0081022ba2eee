package ban

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

func TestBanAfterExactlyMaxRetryFailures(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	f.fail("203.0.113.7", 4)
	if isBanned(f.b, "203.0.113.7") {
		t.Fatal("banned after 4 failures, max_retry is 5")
	}
	f.clock.Advance(9 * time.Minute)
	f.fail("203.0.113.7", 1)
	until, ok := f.b.Banned(netip.MustParseAddr("203.0.113.7"))
	if !ok {
		t.Fatal("not banned after the 5th failure within find_time")
	}
	if want := t0.Add(9*time.Minute + time.Hour); !until.Equal(want) {
		t.Errorf("until = %s, want %s", until, want)
	}
	if isBanned(f.b, "203.0.113.8") {
		t.Error("another IP is banned")
	}
	if got := len(logLines(f.log, `msg="auth failed" component=ban ip=203.0.113.7 source=mqtt reason=bad_password`)); got != 5 {
		t.Errorf("auth failed lines = %d, want 5:\n%s", got, f.log)
	}
	banned := logLines(f.log, `msg="ip banned"`)
	want := `level=WARN msg="ip banned" component=ban ip=203.0.113.7 source=mqtt reason=bad_password failures=5 ban_seconds=3600 until=2023-11-14T23:22:20Z`
	if len(banned) != 1 || !strings.HasSuffix(banned[0], want) {
		t.Errorf("ban lines = %q, want one ending in %q", banned, want)
	}
	for name, want := range map[string]float64{"borda_bans_total": 1, "borda_bans_active": 1, "borda_auth_failures_total": 5} {
		if got := testkit.MetricValue(t, f.reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Further failures of a banned IP are logged but do not ban it again.
	f.fail("203.0.113.7", 5)
	if got := len(logLines(f.log, `msg="ip banned"`)); got != 1 {
		t.Errorf("ban lines after more failures = %d, want 1", got)
	}
}

func TestFailuresSpreadBeyondFindTimeDoNotBan(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	// One failure every 2m30s: any 10-minute window holds at most 4.
	for range 20 {
		f.fail("198.51.100.1", 1)
		f.clock.Advance(150 * time.Second)
	}
	if isBanned(f.b, "198.51.100.1") {
		t.Fatal("banned although no find_time window held 5 failures")
	}
	// Now the failure of exactly find_time ago no longer counts: 4 in the window.
	f.fail("198.51.100.1", 1)
	if isBanned(f.b, "198.51.100.1") {
		t.Fatal("banned with 4 failures in the window")
	}
	f.fail("198.51.100.1", 1)
	if !isBanned(f.b, "198.51.100.1") {
		t.Fatal("not banned with 5 failures in the window")
	}
}

func TestBanExpiresAfterBanTime(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	f.fail("192.0.2.1", 5)
	f.clock.Advance(time.Hour - time.Second)
	f.b.expire()
	if !isBanned(f.b, "192.0.2.1") {
		t.Fatal("ban lifted before ban_time")
	}
	f.clock.Advance(time.Second)
	if isBanned(f.b, "192.0.2.1") {
		t.Fatal("still banned after ban_time (before the sweep)")
	}
	f.b.expire()
	lines := logLines(f.log, `msg="ban expired"`)
	want := `msg="ban expired" component=ban ip=192.0.2.1 source=mqtt reason=bad_password cause=expired banned_seconds=3600`
	if len(lines) != 1 || !strings.HasSuffix(lines[0], want) {
		t.Errorf("expiry lines = %q, want one ending in %q", lines, want)
	}
	if n := len(f.b.List()); n != 0 {
		t.Errorf("List has %d bans after expiry", n)
	}
	if got := testkit.MetricValue(t, f.reg, "borda_bans_active"); got != 0 {
		t.Errorf("borda_bans_active = %v", got)
	}
	if got := testkit.MetricValue(t, f.reg, "borda_bans_removed_total", "cause", "expired"); got != 1 {
		t.Errorf("removed{expired} = %v", got)
	}
	// The failures that led to the ban do not count again.
	f.fail("192.0.2.1", 4)
	if isBanned(f.b, "192.0.2.1") {
		t.Fatal("banned again after 4 new failures")
	}
}

func TestRunLiftsExpiredBans(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	f.run(t)
	f.fail("192.0.2.9", 5)
	f.clock.Advance(2 * time.Hour)
	testkit.Eventually(t, 5*time.Second, "the sweep to lift the ban", func() bool {
		return len(logLines(f.log, `msg="ban expired"`)) == 1
	})
}

func TestBansSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, testConfig(), dir)
	f.fail("192.0.2.1", 5) // before Run: written when the file opens
	stop := f.run(t)
	f.fail("2001:db8::1", 5)
	f.clock.Advance(30 * time.Minute)
	f.fail("192.0.2.3", 5)
	stop()

	g := newFixture(t, testConfig(), dir)
	g.clock.Advance(80 * time.Minute) // 192.0.2.1 and 2001:db8::1 have expired, 192.0.2.3 has not
	g.run(t)
	got := g.b.List()
	if len(got) != 1 || got[0].IP != netip.MustParseAddr("192.0.2.3") {
		t.Fatalf("bans after restart = %+v, want only 192.0.2.3", got)
	}
	want := Ban{IP: got[0].IP, Since: t0.Add(30 * time.Minute), Until: t0.Add(90 * time.Minute),
		Source: SourceMQTT, Reason: "bad_password", Failures: 5}
	if !got[0].Since.Equal(want.Since) || !got[0].Until.Equal(want.Until) || got[0].Source != want.Source ||
		got[0].Reason != want.Reason || got[0].Failures != 5 {
		t.Errorf("ban after restart = %+v, want %+v", got[0], want)
	}
	if n := len(logLines(g.log, `msg="ban expired"`)); n != 2 {
		t.Errorf("expired at open: %d lines, want 2:\n%s", n, g.log)
	}
	if gauge := testkit.MetricValue(t, g.reg, "borda_bans_active"); gauge != 1 {
		t.Errorf("borda_bans_active = %v", gauge)
	}
}

func TestAllowListedIPsAreNeverBanned(t *testing.T) {
	cfg := DefaultConfig() // loopback allow-listed
	f := newFixture(t, cfg, t.TempDir())
	f.fail("127.0.0.1", 20)
	f.fail("::1", 6)
	if isBanned(f.b, "127.0.0.1") || isBanned(f.b, "::1") {
		t.Fatal("an allow-listed IP is banned")
	}
	if got := testkit.MetricValue(t, f.reg, "borda_auth_failures_total"); got != 26 {
		t.Errorf("failures counted = %v, want 26", got)
	}
	// max_retry lines go to the stable log; past that they are rate-limited.
	if got := len(logLines(f.log, `msg="auth failed" component=ban ip=127.0.0.1 source=mqtt reason=bad_password allow_listed=true`)); got != 5 {
		t.Errorf("stable lines for 127.0.0.1 = %d, want 5", got)
	}
	if got := len(logLines(f.limited, `msg="auth failed"`)); got != 1 {
		t.Errorf("rate-limited lines = %d, want 1 (the rest folded)", got)
	}
	f.fail("10.1.1.1", 5)
	if !isBanned(f.b, "10.1.1.1") {
		t.Fatal("an IP outside the allow list is not banned")
	}
}

func TestFailureTrackingIsBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxTrackedIPs = 3
	f := newFixture(t, cfg, t.TempDir())
	f.fail("192.0.2.100", 4)
	for i := range 10 {
		f.fail(fmt.Sprintf("192.0.2.%d", i), 1)
	}
	if n := f.b.fails.len(); n != 3 {
		t.Errorf("tracked IPs = %d, want 3", n)
	}
	if got := testkit.MetricValue(t, f.reg, "borda_ban_tracker_evictions_total"); got != 8 {
		t.Errorf("evictions = %v, want 8", got)
	}
	f.fail("192.0.2.100", 1) // its 4 earlier failures were forgotten
	if isBanned(f.b, "192.0.2.100") {
		t.Fatal("banned although its earlier failures were evicted")
	}
	f.clock.Advance(10 * time.Minute)
	f.b.expire()
	if n := f.b.fails.len(); n != 0 {
		t.Errorf("tracked IPs after find_time = %d, want 0", n)
	}
}

func TestMaxBansLiftsTheSoonestExpiring(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBans = 2
	f := newFixture(t, cfg, t.TempDir())
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		f.fail(ip, 5)
		f.clock.Advance(time.Minute)
	}
	if isBanned(f.b, "192.0.2.1") || !isBanned(f.b, "192.0.2.2") || !isBanned(f.b, "192.0.2.3") {
		t.Fatalf("bans = %+v, want 192.0.2.2 and 192.0.2.3", f.b.List())
	}
	if n := len(logLines(f.log, `msg="ip unbanned" component=ban ip=192.0.2.1 source=mqtt reason=bad_password cause=max_bans`)); n != 1 {
		t.Errorf("max_bans unban lines = %d, want 1:\n%s", n, f.log)
	}
}

func TestUnbanForgetsFailures(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	f.run(t)
	f.fail("192.0.2.1", 5)
	ok, err := f.b.Unban(netip.MustParseAddr("192.0.2.1"))
	if !ok || err != nil {
		t.Fatalf("Unban = %v, %v", ok, err)
	}
	if ok, _ := f.b.Unban(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("second Unban reported a ban")
	}
	f.fail("192.0.2.1", 4)
	if isBanned(f.b, "192.0.2.1") {
		t.Fatal("banned again after 4 failures following an unban")
	}
	if n := len(logLines(f.log, `msg="ip unbanned" component=ban ip=192.0.2.1 source=mqtt reason=bad_password cause=api`)); n != 1 {
		t.Errorf("unban lines = %d:\n%s", n, f.log)
	}
}

func TestDisabledLogsButNeverBans(t *testing.T) {
	cfg := testConfig()
	cfg.Enabled = false
	f := newFixture(t, cfg, t.TempDir())
	f.run(t)
	f.fail("192.0.2.1", 10)
	if isBanned(f.b, "192.0.2.1") {
		t.Fatal("banned while disabled")
	}
	if n := len(logLines(f.log, `msg="auth failed"`)); n != 10 {
		t.Errorf("auth failed lines = %d, want 10 (for an external fail2ban)", n)
	}
}

func TestIPv4MappedAndZonedAddressesShareOneBan(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	f.fail("::ffff:192.0.2.5", 3)
	f.fail("192.0.2.5", 2)
	if !isBanned(f.b, "192.0.2.5") || !isBanned(f.b, "::ffff:192.0.2.5") {
		t.Fatal("mapped and plain IPv4 are tracked separately")
	}
	f.fail("fe80::1%eth0", 5)
	if !isBanned(f.b, "fe80::1") {
		t.Fatal("zoned address not banned as the plain address")
	}
}

func TestOnBanIsCalledOncePerBan(t *testing.T) {
	var got []Ban
	b, err := New(testConfig(), Deps{DataDir: t.TempDir(), Now: newClock().Now, OnBan: func(v Ban) { got = append(got, v) }})
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		b.Failure(netip.MustParseAddr("192.0.2.77"), SourceMQTT, "bad_password")
	}
	if len(got) != 1 || got[0].IP != netip.MustParseAddr("192.0.2.77") || got[0].Failures != 5 {
		t.Errorf("OnBan calls = %+v, want one for 192.0.2.77", got)
	}
}

func TestReporterAuthFailed(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	r := f.b.Reporter(SourceMQTT)
	for _, remote := range []string{"192.0.2.61", "192.0.2.61:1883", "[::ffff:192.0.2.61]:5", "192.0.2.61", "192.0.2.61"} {
		r.AuthFailed(remote, `evil" ip=10.0.0.1`, "unknown_user")
	}
	if !isBanned(f.b, "192.0.2.61") {
		t.Fatal("5 reported failures did not ban")
	}
	if strings.Contains(f.log.String(), "evil") {
		t.Errorf("the client-supplied user name was logged:\n%s", f.log)
	}
}

func TestLabelSanitizes(t *testing.T) {
	for in, want := range map[string]string{
		"bad_password": "bad_password", "Bad-Password": "bad_password", "": "unknown",
		`x" ip=1.2.3.4`: "x_ip1_2_3_4", strings.Repeat("a", 40): strings.Repeat("a", 32), "\n\x00": "unknown",
	} {
		if got := label(in); got != want {
			t.Errorf("label(%q) = %q, want %q", in, got, want)
		}
	}
}
