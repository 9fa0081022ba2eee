package sysctl

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestDefaultIsTheSeed: the built-in profile is the seed's file, value
// for value and in its order.
func TestDefaultIsTheSeed(t *testing.T) {
	f, err := os.Open("testdata/seed-99-edge-performance.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, DefaultProfile()) {
		t.Errorf("seed file parses to\n%v\nwant\n%v", p, DefaultProfile())
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     Profile
		err      string
	}{
		{"comments and blanks", "# c\n; c\n\n  vm.swappiness=1  \n", Profile{{"vm.swappiness", "1"}}, ""},
		{"tabs collapse", "net.ipv4.tcp_rmem = 4096\t65536   16777216\n", Profile{{"net.ipv4.tcp_rmem", "4096 65536 16777216"}}, ""},
		{"slashes and ignore-errors dash", "-net/core/rmem_max = 5\n", Profile{{"net.core.rmem_max", "5"}}, ""},
		{"last value wins, first position", "a.b = 1\nc.d = 2\na.b = 3\n", Profile{{"a.b", "3"}, {"c.d", "2"}}, ""},
		{"no equals", "vm.swappiness 1\n", nil, `line 1: "vm.swappiness 1" has no '='`},
		{"path escape", "../../etc/passwd = x\n", nil, "is not a sysctl key"},
		{"single word key", "swappiness = 1\n", nil, "is not a sysctl key"},
		{"empty value", "vm.swappiness =  \n", nil, "value is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(p, tt.want) {
				t.Fatalf("got %v, %v; want %v", p, err, tt.want)
			}
		})
	}
}

func TestConfigProfile(t *testing.T) {
	c := Config{
		Set:  map[string]string{"vm.swappiness": "10", "vm.vfs_cache_pressure": "50", "net.core.somaxconn": "4096"},
		Skip: []string{"net.ipv4.tcp_low_latency", "kernel.sched_migration_cost_ns", "kernel.sched_min_granularity_ns"},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := c.Profile()
	if v, _ := p.Get("vm.swappiness"); v != "10" {
		t.Errorf("vm.swappiness = %q", v)
	}
	if _, ok := p.Get("net.ipv4.tcp_low_latency"); ok {
		t.Error("skipped key still in the profile")
	}
	n := len(p)
	if n != 14 || p[n-2].Key != "net.core.somaxconn" || p[n-1].Key != "vm.vfs_cache_pressure" {
		t.Errorf("profile %v", p)
	}
	bad := Config{Set: map[string]string{"../x": "1", "vm.a": "1\n2"}, Skip: []string{"x"}}
	err := bad.Validate()
	for _, want := range []string{`sysctl.set: "../x" is not a sysctl key`, "sysctl.set.vm.a:", `sysctl.skip[0]: "x"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want %q", err, want)
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts renders to a file
// that parses back to the same profile.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed-99-edge-performance.conf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("-net/core/rmem_max=1\n;x\n")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		back, err := Parse(strings.NewReader(string(p.Render(nil))))
		if err != nil {
			t.Fatalf("rendered profile does not parse: %v", err)
		}
		if len(p) > 0 && !reflect.DeepEqual(back, p) {
			t.Fatalf("round trip: %v != %v", back, p)
		}
	})
}
