package testkit

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// Server is an HTTP server program run as a child process on a fixed
// loopback port with its data in a test temp dir, so a test can stop it
// (gracefully or with kill -9) and start it again with the same data.
type Server struct {
	URL  string // http://127.0.0.1:<port> (https:// when the server has TLS)
	Port int
	Dir  string   // data directory (t.TempDir)
	Proc *Process // nil while stopped

	name  string   // for messages
	bin   string   // absolute path
	args  []string // command line
	ready string   // path answering 2xx once the server serves requests
}

// NewServer prepares (does not start) a server: bin is looked up on PATH
// (failing with the Debian package to install), ready is the URL path
// that answers 2xx when the server is up.
func NewServer(t testing.TB, bin, debianPackage, ready string, port int, dir string, args ...string) *Server {
	t.Helper()
	return &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Port: port, Dir: dir, name: bin,
		bin: RequireCommand(t, bin, debianPackage), args: args, ready: ready}
}

// Start runs the server (again, after Stop or Kill) and waits up to 30 s
// until its readiness path answers 2xx. It is stopped by PID when the
// test ends; its output is logged if the test failed.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	p := Start(t, s.bin, s.args...)
	s.Proc = p
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output:\n%s", s.name, p.Output())
		}
	})
	c := loopbackClient(time.Second)
	Eventually(t, 30*time.Second, s.name+" ready at "+s.URL+s.ready, func() bool {
		select {
		case <-p.done:
			t.Fatalf("%s exited: %s", s.name, p.Output())
		default:
		}
		resp, err := c.Get(s.URL + s.ready)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode/100 == 2
	})
	c.CloseIdleConnections()
}

// Stop ends the server by PID with SIGTERM (a clean shutdown) and waits
// for it to exit.
func (s *Server) Stop(t testing.TB) { t.Helper(); s.signal(t, syscall.SIGTERM) }

// Kill ends the server by PID with SIGKILL (a crash) and waits for it.
func (s *Server) Kill(t testing.TB) { t.Helper(); s.signal(t, syscall.SIGKILL) }

func (s *Server) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if s.Proc == nil {
		t.Fatalf("%s is not running", s.name)
	}
	if err := syscall.Kill(s.Proc.Cmd.Process.Pid, sig); err != nil {
		t.Fatalf("signal %s: %v", s.name, err)
	}
	s.Proc.WaitExit(t, 30*time.Second)
	s.Proc = nil
}

// loopbackClient is an HTTP client for the test's own servers: it trusts
// any certificate (they are self-signed, on loopback). Close its idle
// connections when done (goleak).
func loopbackClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test servers on loopback
}
