package firewall

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files")

type testCase struct {
	Firewall  Config `yaml:"firewall"`
	Listeners []struct {
		Name    string `yaml:"name"`
		Address string `yaml:"address"`
		Port    int    `yaml:"port"`
	} `yaml:"listeners"`
}

func loadCase(t *testing.T, path string) (Config, []Listener) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c testCase
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var ls []Listener
	for _, l := range c.Listeners {
		ls = append(ls, Listener{Name: l.Name, Address: l.Address, Port: l.Port, Proto: "tcp"})
	}
	return c.Firewall, ls
}

func golden(t *testing.T, path string, got []byte) { t.Helper(); testkit.Golden(t, path, got, *update) }

// TestRenderGolden renders every testdata case for both backends and has
// nft check each nftables ruleset (`nft -c` only checks, it loads nothing).
func TestRenderGolden(t *testing.T) {
	nft := testkit.RequireCommand(t, "nft", "nftables")
	cases, _ := filepath.Glob("testdata/*.yaml")
	if len(cases) == 0 {
		t.Fatal("no test cases")
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			cfg, ls := loadCase(t, path)
			rules, notes, err := Rules(cfg, ls)
			if err != nil {
				t.Fatal(err)
			}
			set := RenderNFT(rules)
			golden(t, "testdata/"+name+".nft.golden", set)
			golden(t, "testdata/"+name+".ufw.golden", RenderUFW(rules))
			golden(t, "testdata/"+name+".notes.golden", []byte(strings.Join(notes, "\n")+"\n"))
			file := filepath.Join(t.TempDir(), name+".nft")
			if err := os.WriteFile(file, set, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(nft, "-c", "-f", file).CombinedOutput(); err != nil {
				t.Fatalf("nft -c -f rejects the ruleset: %v\n%s\n%s", err, out, set)
			}
		})
	}
}

func TestRulesErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ls   []Listener
		want string
	}{
		{"random port", DefaultConfig(), []Listener{{Name: "broker mqtt", Port: 0}}, "broker mqtt: port 0 cannot be opened"},
		{"bad allow", Config{SSHPort: 22, Allow: []string{"http"}}, nil, `firewall.allow[0]: "http"`},
		{"bad allow proto", Config{Allow: []string{"53/sctp"}}, nil, `protocol "sctp"`},
		{"bad ssh port", Config{SSHPort: 70000}, nil, "firewall.ssh_port: 70000"},
		{"bad listener proto", Config{}, []Listener{{Name: "x", Port: 1, Proto: "icmp"}}, `x: protocol "icmp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Rules(tt.cfg, tt.ls)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSplitUFW: `ufw show added` lines become arguments again (revert
// re-runs an admin's rule to give it its comment back).
func TestSplitUFW(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"ufw allow 22/tcp comment 'admin'", []string{"allow", "22/tcp", "comment", "admin"}},
		{"ufw allow to 10.1.2.3 port 1883 proto tcp comment 'broker mqtt'",
			[]string{"allow", "to", "10.1.2.3", "port", "1883", "proto", "tcp", "comment", "broker mqtt"}},
		{"ufw allow 5353/udp", []string{"allow", "5353/udp"}},
		{"ufw allow 80/tcp comment ''", []string{"allow", "80/tcp", "comment", ""}},
	}
	for _, tt := range tests {
		if got := splitUFW(tt.line); !slices.Equal(got, tt.want) {
			t.Errorf("splitUFW(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}
