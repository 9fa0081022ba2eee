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
		{"netplan"},
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
