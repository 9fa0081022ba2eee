package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// rawClient speaks just enough MQTT 3.1.1 by hand to misbehave on purpose:
// never acknowledge, never read, send garbage or cut a packet short.
type rawClient struct {
	conn net.Conn
	r    *bufio.Reader
}

func mqttString(s string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(s)))
	return append(b, s...)
}

func remainingLength(n int) []byte {
	var out []byte
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if n == 0 {
			return out
		}
	}
}

func packet(header byte, body []byte) []byte {
	return append(append([]byte{header}, remainingLength(len(body))...), body...)
}

// rawConnect dials addr and completes an MQTT 3.1.1 CONNECT (clean session).
func rawConnect(t *testing.T, addr, id string) *rawClient {
	t.Helper()
	c := rawConnect0(t, addr)
	body := append(mqttString("MQTT"), 4, 0x02, 0, 60)
	body = append(body, mqttString(id)...)
	c.write(t, packet(0x10, body))
	hdr, ack := c.read(t, 5*time.Second)
	if hdr != 0x20 || len(ack) != 2 || ack[1] != 0 {
		t.Fatalf("CONNACK = %x %x", hdr, ack)
	}
	return c
}

func (c *rawClient) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// read returns the next packet's first byte and body.
func (c *rawClient) read(t *testing.T, timeout time.Duration) (byte, []byte) {
	t.Helper()
	hdr, body, err := c.tryRead(timeout)
	if err != nil {
		t.Fatalf("read packet: %v", err)
	}
	return hdr, body
}

func (c *rawClient) tryRead(timeout time.Duration) (byte, []byte, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	hdr, err := c.r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(b&0x7f) * mult
		mult *= 128
		if b&0x80 == 0 {
			break
		}
	}
	body := make([]byte, n)
	_, err = io.ReadFull(c.r, body)
	return hdr, body, err
}

// subscribe sends SUBSCRIBE for one filter and waits for the SUBACK.
func (c *rawClient) subscribe(t *testing.T, filter string, qos byte) {
	t.Helper()
	body := append([]byte{0, 1}, mqttString(filter)...)
	c.write(t, packet(0x82, append(body, qos)))
	if hdr, ack := c.read(t, 5*time.Second); hdr != 0x90 || ack[len(ack)-1] != qos {
		t.Fatalf("SUBACK = %x %x", hdr, ack)
	}
}

// publishPacket builds a PUBLISH; packet id 1 is used for QoS > 0.
func publishPacket(topic string, payload []byte, qos byte) []byte {
	body := mqttString(topic)
	if qos > 0 {
		body = append(body, 0, 1)
	}
	return packet(0x30|qos<<1, append(body, payload...))
}

// rawConnect0 dials addr without sending anything.
func rawConnect0(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{conn: conn, r: bufio.NewReader(conn)}
}

// rawConnectPersistent is rawConnect with a persistent session.
func rawConnectPersistent(t *testing.T, addr, id string) *rawClient {
	t.Helper()
	c := rawConnect0(t, addr)
	body := append(mqttString("MQTT"), 4, 0x00, 0, 60)
	body = append(body, mqttString(id)...)
	c.write(t, packet(0x10, body))
	if hdr, ack := c.read(t, 5*time.Second); hdr != 0x20 || len(ack) != 2 || ack[1] != 0 {
		t.Fatalf("CONNACK = %x %x", hdr, ack)
	}
	return c
}
