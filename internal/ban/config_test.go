package ban

import (
	"net/netip"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := DefaultConfig()
	bad.MaxRetry = 0
	bad.FindTime = 0
	bad.BanTime = -1
	bad.AllowList = []string{"10.0.0.0/8", "nope", "10.0.0.0/33"}
	bad.MaxTrackedIPs = 0
	bad.MaxBans = 0
	bad.ConnectionRate.Connections = 0
	bad.ConnectionRate.Period = 0
	bad.ConnectionRate.Burst = 0
	bad.ConnectionRate.MaxTrackedIPs = 0
	want := []string{
		"max_retry: 0 is out of range 1..1000",
		"find_time: 0s must be at least 1s",
		"ban_time: -1ns must be at least 1s",
		`allow_list[1]: "nope" is not an IP address or CIDR prefix`,
		`allow_list[2]: "10.0.0.0/33" is not an IP address or CIDR prefix`,
		"max_tracked_ips: 0 is out of range 1..10000000",
		"max_bans: 0 is out of range 1..10000000",
		"connection_rate.connections: 0 must be at least 1",
		"connection_rate.period: 0s must be at least 1ms",
		"connection_rate.burst: 0 must be at least 1",
		"connection_rate.max_tracked_ips: 0 is out of range 1..10000000",
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestAllowList(t *testing.T) {
	l, err := ParseAllowList([]string{"10.0.0.0/8", " 192.0.2.7 ", "::ffff:198.51.100.0/120", "2001:db8::/32", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{
		"10.200.0.1": true, "192.0.2.7": true, "192.0.2.8": false, "198.51.100.9": true,
		"::ffff:10.0.0.1": true, "2001:db8::1": true, "2001:db9::1": false, "127.0.0.1": false,
	} {
		if got := l.Contains(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", ip, got, want)
		}
	}
	if got := l.String(); got != "10.0.0.0/8,192.0.2.7/32,198.51.100.0/24,2001:db8::/32,10.0.0.0/8" {
		t.Errorf("String = %s", got)
	}
	for _, bad := range []string{"", "fe80::1%eth0", "::ffff:1.2.3.4/64", "1.2.3.4/", "host.example"} {
		if _, err := ParseAllowList([]string{bad}); err == nil {
			t.Errorf("ParseAllowList(%q) accepted", bad)
		}
	}
}
