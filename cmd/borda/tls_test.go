package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/borda-edge/borda/internal/broker"
	"github.com/borda-edge/borda/internal/testkit"
)

// TestTLSListener serves MQTT over TLS with a configured certificate and
// checks a Paho client and mosquitto_sub/pub (trusting only that
// certificate) can exchange messages over it.
func TestTLSListener(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := testkit.SelfSignedCert(t, dir)
	cfg := testConfig(t)
	cfg.Broker.Listeners = append(cfg.Broker.Listeners, broker.ListenerConfig{
		Name: "mqtts", Protocol: broker.ProtocolMQTT, Address: "127.0.0.1",
		TLS: &broker.TLSConfig{CertFile: certFile, KeyFile: keyFile},
	})
	g := startGateway(t, cfg)
	addr := g.broker.Addr("mqtts").String()

	rec := newReceived()
	opts := mqtt3.NewClientOptions().AddBroker("ssl://" + addr).SetClientID("tls-sub").
		SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}).SetAutoReconnect(false)
	sub := mqtt3.NewClient(opts)
	waitToken(t, "connect over TLS", sub.Connect())
	defer sub.Disconnect(100)
	waitToken(t, "subscribe", sub.Subscribe("secure/#", 1, func(_ mqtt3.Client, m mqtt3.Message) {
		rec.add(msg{topic: m.Topic(), payload: string(m.Payload())})
	}))

	pubBin := testkit.RequireCommand(t, "mosquitto_pub", "mosquitto-clients")
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command(pubBin, "-h", host, "-p", port, "--cafile", certFile, "-q", "1",
		"-t", "secure/hello", "-m", "over tls").CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_pub over TLS: %v: %s", err, out)
	}
	if m := rec.wait(t, 1)[0]; m.payload != "over tls" {
		t.Fatalf("got %+v", m)
	}

	// A plain-text client on the TLS port is refused and counted.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write(publishPacket("secure/x", []byte("plain"), 0))
	c.Close()
	testkit.Eventually(t, 10*time.Second, "plain-text client counted", func() bool {
		body := httpGet(t, g.httpURL()+"/metrics", 200)
		return strings.Contains(body, `borda_mqtt_connection_errors_total{listener="mqtts",reason="tls_handshake"}`)
	})
}

// TestMutualTLSAndCertificateReload: a listener with client_certs: require
// accepts mosquitto_pub with a client certificate signed by the configured
// CA and refuses it without one; after the server certificate files are
// replaced (rotation by another CA) and a reload, new connections get the
// new certificate.
func TestMutualTLSAndCertificateReload(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t, filepath.Join(dir))
	serverCert, serverKey := ca.Server(t, "server")
	clientCert, clientKey := ca.Client(t, "device", "sensor-17")
	cfg := testConfig(t)
	cfg.Broker.Listeners = append(cfg.Broker.Listeners, broker.ListenerConfig{
		Name: "mqtts", Protocol: broker.ProtocolMQTT, Address: "127.0.0.1",
		TLS: &broker.TLSConfig{CertFile: serverCert, KeyFile: serverKey, ClientCAFile: ca.CertFile,
			ClientCerts: broker.ClientCertsRequire},
	})
	g := startGateway(t, cfg)
	host, port, _ := net.SplitHostPort(g.broker.Addr("mqtts").String())
	pub := func(cafile string, extra ...string) error {
		args := append([]string{"-h", host, "-p", port, "--cafile", cafile, "-q", "1", "-t", "secure/m", "-m", "x"}, extra...)
		out, err := exec.Command(testkit.RequireCommand(t, "mosquitto_pub", "mosquitto-clients"), args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := pub(ca.CertFile, "--cert", clientCert, "--key", clientKey); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	if err := pub(ca.CertFile); err == nil {
		t.Fatal("a client without a certificate was accepted by a client_certs: require listener")
	}

	ca2 := testkit.NewCA(t, t.TempDir()) // rotation: same file names, new issuer
	newCert, newKey := ca2.Server(t, "server")
	for src, dst := range map[string]string{newCert: serverCert, newKey: serverKey} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	postReload(t, g, 200)
	if err := pub(ca2.CertFile, "--cert", clientCert, "--key", clientKey); err != nil {
		t.Fatalf("after rotation, trusting the new CA: %v", err)
	}
	if err := pub(ca.CertFile, "--cert", clientCert, "--key", clientKey); err == nil {
		t.Fatal("after rotation the old certificate is still served")
	}
}

// TestWebSocketOverTLS: MQTT over secure WebSocket (wss://) on a websocket
// listener with a tls block.
func TestWebSocketOverTLS(t *testing.T) {
	certFile, keyFile, pool := testkit.SelfSignedCert(t, t.TempDir())
	cfg := testConfig(t)
	cfg.Broker.Listeners = append(cfg.Broker.Listeners, broker.ListenerConfig{
		Name: "wss", Protocol: broker.ProtocolWebsocket, Address: "127.0.0.1",
		TLS: &broker.TLSConfig{CertFile: certFile, KeyFile: keyFile},
	})
	g := startGateway(t, cfg)
	rec := newReceived()
	sub := v5Client(t, g.mqttAddr(), "wss-sub", true, rec)
	v5Subscribe(t, sub, "wss/#", 1)
	opts := mqtt3.NewClientOptions().AddBroker("wss://" + g.broker.Addr("wss").String() + "/mqtt").SetClientID("wss-pub").
		SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}).SetAutoReconnect(false)
	pub := mqtt3.NewClient(opts)
	waitToken(t, "connect over wss", pub.Connect())
	defer pub.Disconnect(100)
	waitToken(t, "publish over wss", pub.Publish("wss/hello", 1, false, "over secure websocket"))
	if got := rec.wait(t, 1)[0]; got.payload != "over secure websocket" {
		t.Fatalf("got %+v", got)
	}
}
