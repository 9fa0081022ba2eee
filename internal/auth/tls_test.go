package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// testCA issues certificates for the mTLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	dir  string
	file string // PEM of the CA certificate
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, pool: x509.NewCertPool(), dir: t.TempDir()}
	ca.pool.AddCert(cert)
	ca.file = filepath.Join(ca.dir, "ca.crt")
	writePEMFile(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue returns a certificate for cn (a server certificate for 127.0.0.1
// when server is set) and the paths of its PEM files.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	name := cn
	if name == "" {
		name = "no-cn"
	}
	certFile, keyFile := filepath.Join(ca.dir, name+".crt"), filepath.Join(ca.dir, name+".key")
	writePEMFile(t, certFile, "CERTIFICATE", der)
	writePEMFile(t, keyFile, "EC PRIVATE KEY", keyDER)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certFile, keyFile
}

func writePEMFile(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCertificateCN: with use_cert_cn_as_username, a verified client
// certificate's CN is the username (ACL %u included); clients without a
// certificate fall back to passwords; unverified certificates give no
// identity.
func TestCertificateCN(t *testing.T) {
	ca := newTestCA(t, "borda test CA")
	other := newTestCA(t, "someone else's CA")
	serverCert, _, _ := ca.issue(t, "server", true)
	device, devCert, devKey := ca.issue(t, "device-7", false)
	noCN, _, _ := ca.issue(t, "", false)
	forged, _, _ := other.issue(t, "device-7", false)

	file := tempPath(t, "passwd")
	writePasswd(t, file, "alice", "alice-pw")
	f := newFixture(t, Config{PasswordFile: file, UseCertCNAsUsername: true,
		ACL: []Rule{{UserAny, "sensors/%u/#", AccessReadWrite}}})
	verified := startServer(t, f.hook, "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverCert},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: ca.pool, MinVersion: tls.VersionTLS12})
	unverified := startServer(t, f.hook, "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverCert},
		ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12})

	client := func(certs ...tls.Certificate) *tls.Config {
		return &tls.Config{RootCAs: ca.pool, Certificates: certs, MinVersion: tls.VersionTLS12}
	}
	tests := []struct {
		name, addr, user, pass string
		tls                    *tls.Config
		reason                 string // "" : accepted
		publishAs              string // accepted: the %u the ACL sees
	}{
		{"verified cert", verified.addr, "", "", client(device), "", "device-7"},
		{"cert wins over username", verified.addr, "alice", "wrong", client(device), "", "device-7"},
		{"cert without CN", verified.addr, "", "", client(noCN), ReasonCertificateCN, ""},
		{"no cert, password", verified.addr, "alice", "alice-pw", client(), "", "alice"},
		{"no cert, anonymous", verified.addr, "", "", client(), ReasonAnonymous, ""},
		{"unverified cert", unverified.addr, "", "", client(forged), ReasonAnonymous, ""},
		{"unverified cert, password", unverified.addr, "alice", "alice-pw", client(forged), "", "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ca, err := connectV5(t, tt.addr, v5{id: "tls-" + tt.name, user: tt.user, pass: tt.pass, tls: tt.tls})
			if tt.reason != "" {
				if err == nil || ca == nil || ca.ReasonCode != packets.ErrBadUsernameOrPassword.Code {
					t.Fatalf("accepted or wrong refusal: %v %+v", err, ca)
				}
				all := f.fail.all()
				if last := all[len(all)-1]; last.reason != tt.reason {
					t.Fatalf("Failures reason %q, want %q", last.reason, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v %+v", err, ca)
			}
			if code := publishV5(t, c, "sensors/"+tt.publishAs+"/t", 1); code != 0 {
				t.Errorf("publish as %s: 0x%02x", tt.publishAs, code)
			}
			if code := publishV5(t, c, "sensors/someone-else/t", 1); code != packets.ErrNotAuthorized.Code {
				t.Errorf("publish as someone else: 0x%02x", code)
			}
		})
	}
	if got := f.counter(t, "successes", MethodCertificate); got != 2 {
		t.Errorf("successes{certificate} = %v, want 2", got)
	}

	t.Run("mosquitto_pub", func(t *testing.T) {
		host, port := hostPort(t, verified.addr)
		code, out := mosquitto(t, "mosquitto_pub", "-h", host, "-p", port, "--cafile", ca.file,
			"--cert", devCert, "--key", devKey, "-q", "1", "-t", "sensors/device-7/t", "-m", "x")
		if code != 0 {
			t.Fatalf("mosquitto_pub with a client certificate: exit %d: %s", code, out)
		}
		code, out = mosquitto(t, "mosquitto_pub", "-h", host, "-p", port, "--cafile", ca.file, "-t", "x", "-m", "x")
		if code == 0 {
			t.Fatalf("mosquitto_pub without certificate or password accepted: %s", out)
		}
	})
}

// wrapped hides a connection's methods, as a WebSocket adapter does.
type wrapped struct{ net.Conn }

// unwrappable exposes the connection it wraps.
type unwrappable struct{ net.Conn }

func (u unwrappable) NetConn() net.Conn { return u.Conn }

// TestPeerCNThroughWrappers: the CN is found through NetConn() wrappers
// (a WebSocket listener's connection must provide it), not otherwise.
func TestPeerCNThroughWrappers(t *testing.T) {
	ca := newTestCA(t, "ca")
	serverCert, _, _ := ca.issue(t, "server", true)
	device, _, _ := ca.issue(t, "device-9", false)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	srv := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool})
	cli := tls.Client(b, &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{device}})
	if cn, ok := peerCN(srv); ok || cn != "" {
		t.Fatalf("before the handshake: %q %v", cn, ok)
	}
	errc := make(chan error, 1)
	go func() { errc <- cli.Handshake() }()
	if err := srv.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		conn net.Conn
		want bool
	}{{srv, true}, {unwrappable{unwrappable{srv}}, true}, {wrapped{srv}, false}, {b, false}, {nil, false}} {
		if cn, ok := peerCN(tt.conn); ok != tt.want || (ok && cn != "device-9") {
			t.Errorf("peerCN(%T) = %q, %v; want %v", tt.conn, cn, ok, tt.want)
		}
	}
}
