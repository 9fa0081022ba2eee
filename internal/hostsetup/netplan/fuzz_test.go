package netplan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzDecodeRender: whatever the input, Decode and Render never panic;
// an input Render accepts gives a netplan v2 document with exactly one
// Ethernet interface and at most one modem, named as configured, whose
// APN comes back as configured: no value can add keys or interfaces.
// Secret files are always the test's own (never a path from the input).
func FuzzDecodeRender(f *testing.F) {
	for _, name := range []string{"dhcp", "static", "modem", "err-bad-values", "err-unknown-key", "err-metric-order"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg, err := Decode(bytes.NewReader(in))
		if err != nil {
			return
		}
		if m := cfg.Modem; m != nil {
			if m.PasswordFile != "" {
				m.PasswordFile = filepath.Join("testdata", "secrets", "apn-password")
			}
			if m.PINFile != "" {
				m.PINFile = filepath.Join("testdata", "secrets", "sim-pin")
			}
		}
		out, err := Render(cfg)
		if err != nil {
			return
		}
		checkRendered(t, cfg.normalized(), out)
	})
}

func checkRendered(t *testing.T, cfg Config, out []byte) {
	t.Helper()
	if !bytes.HasPrefix(out, []byte(Header)) {
		t.Fatalf("no header:\n%s", out)
	}
	var doc struct {
		Network struct {
			Version   int                       `yaml:"version"`
			Ethernets map[string]map[string]any `yaml:"ethernets"`
			Modems    map[string]map[string]any `yaml:"modems"`
		} `yaml:"network"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("rendered YAML does not parse: %v\n%s", err, out)
	}
	n := doc.Network
	if n.Version != 2 || len(n.Ethernets) != 1 || n.Ethernets[cfg.Ethernet.Interface] == nil {
		t.Fatalf("want one ethernet %q in a v2 document:\n%s", cfg.Ethernet.Interface, out)
	}
	if cfg.Modem == nil {
		if len(n.Modems) != 0 {
			t.Fatalf("modems without a modem:\n%s", out)
		}
		return
	}
	m := n.Modems[cfg.Modem.Interface]
	if len(n.Modems) != 1 || m == nil || m["apn"] != cfg.Modem.APN {
		t.Fatalf("want one modem %q with apn %q:\n%s", cfg.Modem.Interface, cfg.Modem.APN, out)
	}
	if strings.Count(string(out), "\nnetwork:") != 1 {
		t.Fatalf("more than one network key:\n%s", out)
	}
}
