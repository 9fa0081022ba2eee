package tlsclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/testkit"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir)
	cert, key := ca.Client(t, "client", "edge-1")
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"system roots", Config{}, ""},
		{"ca and client certificate", Config{CAFile: ca.CertFile, CertFile: cert, KeyFile: key}, ""},
		{"missing ca", Config{CAFile: filepath.Join(dir, "none.pem")}, "tls.ca_file"},
		{"ca without certificate", Config{CAFile: junk}, "no PEM certificate"},
		{"bad key pair", Config{CertFile: cert, KeyFile: junk}, "tls.cert_file/key_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := tt.cfg.Load()
			if tt.wantErr == "" {
				if err != nil || tc == nil {
					t.Fatalf("err %v", err)
				}
				if tt.cfg.CAFile != "" && tc.RootCAs == nil || tt.cfg.CertFile != "" && len(tc.Certificates) != 1 {
					t.Fatalf("files not loaded: %+v", tc)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}
