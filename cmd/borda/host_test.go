package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const netplanTestdata = "../../internal/hostsetup/netplan/testdata"

func TestHostNetplanStdout(t *testing.T) {
	var out, errb bytes.Buffer
	code := runHost([]string{"netplan", "-c", filepath.Join(netplanTestdata, "modem.yaml")}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	want, err := os.ReadFile(filepath.Join(netplanTestdata, "modem.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("stdout differs from modem.golden:\n%s", out.String())
	}
	if errb.Len() != 0 {
		t.Errorf("stderr: %s", errb.String())
	}
}

func TestHostNetplanOutputFile(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "50-borda.yaml")
	if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil { // replaced, and tightened
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := runHost([]string{"netplan", "-c", filepath.Join(netplanTestdata, "modem.yaml"), "-o", dst}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	if out.Len() != 0 {
		t.Errorf("stdout not empty with -o: %q", out.String())
	}
	st, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("mode %o, want 600", m)
	}
	got, _ := os.ReadFile(dst)
	want, _ := os.ReadFile(filepath.Join(netplanTestdata, "modem.golden"))
	if !bytes.Equal(got, want) {
		t.Errorf("file differs from modem.golden:\n%s", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestHostNetplanInvalid(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"err-no-apn.yaml", "modem.apn: required"},
		{"err-metric-order.yaml", "modem.route_metric:"},
		{"err-missing-password.yaml", "modem.password_file:"},
		{"err-unknown-key.yaml", "interfce"},
		{"does-not-exist.yaml", "no such file"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "out.yaml")
			var out, errb bytes.Buffer
			code := runHost([]string{"netplan", "-c", filepath.Join(netplanTestdata, tc.file), "-o", dst}, &out, &errb)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.want)
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Errorf("output written despite the error (%v)", err)
			}
		})
	}
}

func TestHostUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"netplan", "-x"},
		{"netplan", "-c", "a.yaml", "extra"},
		{"bogus"},
	} {
		var out, errb bytes.Buffer
		if code := runHost(args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if !strings.Contains(errb.String(), "Usage:") {
			t.Errorf("%q: no usage on stderr: %q", args, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := runHost([]string{"netplan", "-h"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "Usage:") {
		t.Errorf("-h: exit %d, stdout %q", code, out.String())
	}
}

// The same network from borda.yaml's host.netplan section renders the same
// file as the standalone input (secret paths relative to borda.yaml).
func TestHostNetplanFromBordaYAML(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"apn-password", "sim-pin"} {
		b, err := os.ReadFile(filepath.Join(netplanTestdata, "secrets", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "borda.yaml")
	if err := os.WriteFile(cfg, []byte(`host:
  netplan:
    ethernet: {interface: enp1s0, route_metric: 100}
    modem: {interface: cdc-wdm0, apn: internet.operator.example, username: borda,
            password_file: apn-password, pin_file: sim-pin, number: "*99#", route_metric: 700}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runHost([]string{"netplan", "-c", cfg}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want, _ := os.ReadFile(filepath.Join(netplanTestdata, "modem.golden"))
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("differs from modem.golden:\n%s", out.String())
	}

	// A bad section is refused with its key; no config renders the defaults.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("host:\n  netplan:\n    modem: {interface: cdc-wdm0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := runHost([]string{"netplan", "-c", bad}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "host.netplan") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	t.Setenv("BORDA_CONFIG", "")
	out.Reset()
	if code := runHost([]string{"netplan"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "eth0") {
		t.Fatalf("defaults: exit %d: %s %s", code, out.String(), errb.String())
	}
}
