package netplan

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// load reads testdata/name.yaml as the CLI does.
func load(t *testing.T, name string) (Config, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := Decode(f)
	if err != nil {
		return Config{}, err
	}
	cfg.ResolvePaths("testdata")
	return cfg, nil
}

// parsed is the rendered document read back generically.
type parsed struct {
	Network struct {
		Version   int                       `yaml:"version"`
		Renderer  string                    `yaml:"renderer"`
		Ethernets map[string]map[string]any `yaml:"ethernets"`
		Modems    map[string]map[string]any `yaml:"modems"`
	} `yaml:"network"`
}

func metricOf(t *testing.T, dev map[string]any) int {
	t.Helper()
	if o, ok := dev["dhcp4-overrides"].(map[string]any); ok {
		return o["route-metric"].(int)
	}
	if rs, ok := dev["routes"].([]any); ok && len(rs) > 0 {
		return rs[0].(map[string]any)["metric"].(int)
	}
	t.Fatalf("no route metric in %v", dev)
	return 0
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		name        string
		eth         string // ethernet interface
		ethMetric   int
		modem       string // modem interface, "" for none
		apn         string
		modemMetric int
		password    string
		pin         string
	}{
		{name: "dhcp", eth: "eth0", ethMetric: 100},
		{name: "modem", eth: "enp1s0", ethMetric: 100, modem: "cdc-wdm0", apn: "internet.operator.example",
			modemMetric: 700, password: `s3cr3t "pass"`, pin: "1234"},
		{name: "static", eth: "eth1", ethMetric: 50, modem: "cdc-wdm0", apn: "iot.example", modemMetric: 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Render(cfg)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Render(cfg)
			if err != nil || !bytes.Equal(out, again) {
				t.Fatalf("render is not deterministic (err %v)", err)
			}
			testkit.Golden(t, filepath.Join("testdata", tc.name+".golden"), out, *update)

			var doc parsed
			if err := yaml.Unmarshal(out, &doc); err != nil {
				t.Fatalf("rendered YAML does not parse: %v", err)
			}
			n := doc.Network
			if n.Version != 2 || n.Renderer != "NetworkManager" {
				t.Errorf("version %d renderer %q, want 2 NetworkManager", n.Version, n.Renderer)
			}
			eth, ok := n.Ethernets[tc.eth]
			if len(n.Ethernets) != 1 || !ok {
				t.Fatalf("ethernets %v, want only %s", n.Ethernets, tc.eth)
			}
			if m := metricOf(t, eth); m != tc.ethMetric {
				t.Errorf("ethernet metric %d, want %d", m, tc.ethMetric)
			}
			netplanGenerate(t, out)
			if tc.modem == "" {
				if n.Modems != nil {
					t.Errorf("modems %v, want none", n.Modems)
				}
				return
			}
			md, ok := n.Modems[tc.modem]
			if len(n.Modems) != 1 || !ok {
				t.Fatalf("modems %v, want only %s", n.Modems, tc.modem)
			}
			if md["apn"] != tc.apn {
				t.Errorf("apn %v, want %s", md["apn"], tc.apn)
			}
			mm := metricOf(t, md)
			if mm != tc.modemMetric || mm <= tc.ethMetric {
				t.Errorf("modem metric %d, want %d (> ethernet %d)", mm, tc.modemMetric, tc.ethMetric)
			}
			if got, _ := md["password"].(string); got != tc.password {
				t.Errorf("password %q, want %q", got, tc.password)
			}
			if got, _ := md["pin"].(string); got != tc.pin { // a string, not the number 1234
				t.Errorf("pin %#v, want string %q", md["pin"], tc.pin)
			}
		})
	}
}

// netplanGenerate runs the real netplan on the output when it is installed.
func netplanGenerate(t *testing.T, out []byte) {
	t.Helper()
	bin := testkit.RequireCommand(t, "netplan", "netplan.io") // make test installs it
	root := t.TempDir()
	dir := filepath.Join(root, "etc", "netplan")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "50-borda.yaml"), out, FileMode); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(bin, "generate", "--root-dir", root).CombinedOutput(); err != nil {
		t.Fatalf("netplan generate: %v\n%s", err, msg)
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string // substrings of the error
	}{
		{"err-no-apn", []string{"modem.apn: required"}},
		{"err-metric-order", []string{"modem.route_metric: 700 must be greater than ethernet.route_metric (800)"}},
		{"err-missing-password", []string{"modem.password_file:", "does-not-exist", "no such file"}},
		{"err-empty-password", []string{"modem.password_file:", "is empty"}},
		{"err-bad-values", []string{
			"ethernet.interface:", "ethernet.addresses[0]:", "CIDR",
			"ethernet.route_metric: 2147483648 is outside", "modem.interface:", "longer than 15",
			"modem.apn:",
		}},
		{"err-unknown-key", []string{"interfce", "not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.name)
			if err == nil {
				_, err = Render(cfg)
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := DefaultConfig()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	if err := (Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "ethernet.addresses") {
		t.Errorf("zero config (dhcp4 false, no addresses): %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string // "" for valid
	}{
		{"gateway without v4 address", func(c *Config) { c.Ethernet.Addresses = []string{"fd00::1/64"}; c.Ethernet.Gateway4 = "10.0.0.1" }, "ethernet.gateway4"},
		{"gateway not v4", func(c *Config) { c.Ethernet.Addresses = []string{"10.0.0.2/24"}; c.Ethernet.Gateway4 = "fd00::1" }, "ethernet.gateway4"},
		{"bad nameserver", func(c *Config) { c.Ethernet.Nameservers = []string{"dns.example"} }, "ethernet.nameservers[0]"},
		{"negative metric", func(c *Config) { c.Ethernet.RouteMetric = -1 }, "ethernet.route_metric"},
		{"max metric", func(c *Config) { c.Ethernet.RouteMetric = 0; c.Modem = &ModemConfig{APN: "a", RouteMetric: 1<<31 - 1} }, ""},
		{"space in interface", func(c *Config) { c.Ethernet.Interface = "eth 0" }, "ethernet.interface"},
		{"same interface", func(c *Config) { c.Modem = &ModemConfig{APN: "a", Interface: "eth0"} }, "modem.interface"},
		{"apn empty label", func(c *Config) { c.Modem = &ModemConfig{APN: "internet..example"} }, "modem.apn"},
		{"apn hyphen edge", func(c *Config) { c.Modem = &ModemConfig{APN: "-internet"} }, "modem.apn"},
		{"apn too long", func(c *Config) { c.Modem = &ModemConfig{APN: strings.Repeat("a", 101)} }, "modem.apn"},
		{"apn ok", func(c *Config) { c.Modem = &ModemConfig{APN: "Internet.MNC001.MCC262.gprs"} }, ""},
		{"bad number", func(c *Config) { c.Modem = &ModemConfig{APN: "a", Number: "99 x"} }, "modem.number"},
		{"password without user", func(c *Config) { c.Modem = &ModemConfig{APN: "a", PasswordFile: "/x"} }, "modem.password_file"},
		{"equal metrics", func(c *Config) { c.Modem = &ModemConfig{APN: "a", RouteMetric: 100} }, "modem.route_metric"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want+":")):
				t.Errorf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestBadPIN(t *testing.T) {
	dir := t.TempDir()
	pin := filepath.Join(dir, "pin")
	if err := os.WriteFile(pin, []byte("12ab\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Modem = &ModemConfig{APN: "internet", PINFile: pin}
	if _, err := Render(c); err == nil || !strings.Contains(err.Error(), "modem.pin_file:") {
		t.Errorf("err %v, want one naming modem.pin_file", err)
	}
	if err := os.WriteFile(pin, []byte("1234\n5678\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Render(c); err == nil || !strings.Contains(err.Error(), "more than one line") {
		t.Errorf("two lines: err %v", err)
	}
}

func TestDecode(t *testing.T) {
	c, err := Decode(strings.NewReader(""))
	if err != nil || !reflect.DeepEqual(c, DefaultConfig()) {
		t.Errorf("empty input: %+v %v, want defaults", c, err)
	}
	c, err = Decode(strings.NewReader("ethernet: {route_metric: 0}\n"))
	if err != nil || c.Ethernet.RouteMetric != 0 || !c.Ethernet.DHCP4 || c.Ethernet.Interface != "eth0" {
		t.Errorf("explicit metric 0: %+v %v", c.Ethernet, err)
	}
	if _, err := Decode(strings.NewReader("ethernet: {}\n---\nmodem: {}\n")); err == nil {
		t.Error("two documents accepted")
	}
}
