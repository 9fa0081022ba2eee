package broker

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// Client certificate policies of a TLS listener (TLSConfig.ClientCerts).
const (
	ClientCertsNone     = "none"     // no client certificate asked for (default)
	ClientCertsOptional = "optional" // verified against client_ca_file when a client sends one
	ClientCertsRequire  = "require"  // mTLS: a certificate signed by client_ca_file is required
)

func (t TLSConfig) clientAuth() tls.ClientAuthType {
	switch t.ClientCerts {
	case ClientCertsOptional:
		return tls.VerifyClientCertIfGiven
	case ClientCertsRequire:
		return tls.RequireAndVerifyClientCert
	}
	return tls.NoClientCert
}

func (t TLSConfig) validate() []error {
	var errs []error
	if t.CertFile == "" {
		errs = append(errs, errors.New("tls.cert_file: is required when tls is set"))
	}
	if t.KeyFile == "" {
		errs = append(errs, errors.New("tls.key_file: is required when tls is set"))
	}
	switch t.ClientCerts {
	case "", ClientCertsNone:
	case ClientCertsOptional, ClientCertsRequire:
		if t.ClientCAFile == "" {
			errs = append(errs, fmt.Errorf("tls.client_ca_file: is required with client_certs: %s", t.ClientCerts))
		}
	default:
		errs = append(errs, fmt.Errorf("tls.client_certs: %q is not one of none, optional, require", t.ClientCerts))
	}
	return errs
}

// tlsMaterial is what a listener serves: its certificate and the CAs it
// verifies client certificates with.
type tlsMaterial struct {
	cert      *tls.Certificate
	clientCAs *x509.CertPool
}

// certSource serves a listener's TLS material and can re-read it from
// disk (SIGHUP), so certificates are rotated without a restart; until a
// reload succeeds the previous material stays in use.
type certSource struct {
	cfg TLSConfig
	cur atomic.Pointer[tlsMaterial]
}

func newCertSource(cfg TLSConfig) (*certSource, error) {
	s := &certSource{cfg: cfg}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// reload reads the files again; on error the current material is kept.
func (s *certSource) reload() error {
	cert, err := tls.LoadX509KeyPair(s.cfg.CertFile, s.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate: %w", err)
	}
	m := &tlsMaterial{cert: &cert}
	if s.cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(s.cfg.ClientCAFile)
		if err != nil {
			return fmt.Errorf("read client CA file: %w", err)
		}
		m.clientCAs = x509.NewCertPool()
		if !m.clientCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("client CA file %s: no PEM certificate in it", s.cfg.ClientCAFile)
		}
	}
	s.cur.Store(m)
	return nil
}

// config is the listener's tls.Config: TLS 1.2 or newer, material looked
// up per handshake.
func (s *certSource) config() *tls.Config {
	auth := s.cfg.clientAuth()
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			m := s.cur.Load()
			return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*m.cert},
				ClientAuth: auth, ClientCAs: m.clientCAs}, nil
		},
	}
}
