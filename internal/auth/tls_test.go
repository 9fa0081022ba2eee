package auth

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/borda-edge/borda/internal/testkit"
)

// testCA issues certificates for the mTLS tests (testkit.CA, plus the
// loaded key pair the in-process TLS listeners need).
type testCA struct {
	*testkit.CA
	pool *x509.CertPool
	file string // PEM of the CA certificate
	n    int
}

func newTestCA(t *testing.T, _ string) *testCA {
	t.Helper()
	ca := testkit.NewCA(t, t.TempDir())
	return &testCA{CA: ca, pool: ca.Pool, file: ca.CertFile}
}

// issue returns a certificate for cn (a server certificate for 127.0.0.1
// when server is set) and the paths of its PEM files.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (tls.Certificate, string, string) {
	t.Helper()
	ca.n++
	name := fmt.Sprintf("cert-%d", ca.n)
	var certFile, keyFile string
	if server {
		certFile, keyFile = ca.Server(t, name)
	} else {
		certFile, keyFile = ca.Client(t, name, cn)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certFile, keyFile
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
