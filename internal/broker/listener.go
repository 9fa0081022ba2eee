package broker

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"

	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
)

// accountedListener wraps a mochi-mqtt listener so that every connection
// that ends in an error (garbage bytes, oversized or truncated packets,
// refused connects) is counted by reason and logged at a bounded rate,
// instead of mochi-mqtt's unlabelled per-connection warning.
type accountedListener struct {
	listeners.Listener
	name   string
	errors *prometheus.CounterVec
	log    *slog.Logger // rate-limited
}

func (l *accountedListener) Serve(establish listeners.EstablishFn) {
	l.Listener.Serve(func(id string, c net.Conn) error {
		err := establish(id, c)
		reason := connErrorReason(err)
		if reason == "" {
			return nil
		}
		l.errors.WithLabelValues(l.name, reason).Inc()
		l.log.Info("client connection ended: "+reason, "listener", l.name,
			"remote", c.RemoteAddr().String(), "error", err)
		return nil
	})
}

// connErrorReason classifies why a client connection ended; "" means it
// ended normally (DISCONNECT, or closed by borda itself).
func connErrorReason(err error) string {
	var code packets.Code
	var nerr net.Error
	var tlsErr tls.RecordHeaderError
	switch {
	case err == nil, errors.Is(err, net.ErrClosed):
		return ""
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated_packet"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection_lost"
	case errors.As(err, &tlsErr), strings.Contains(err.Error(), "tls: "):
		return "tls_handshake"
	case errors.As(err, &nerr) && nerr.Timeout():
		return "keepalive_timeout"
	case errors.As(err, &code):
		return codeReason(code)
	}
	return "other"
}

func codeReason(code packets.Code) string {
	switch code.Code {
	case packets.ErrPacketTooLarge.Code:
		return "packet_too_large"
	case packets.ErrMalformedPacket.Code:
		return "malformed_packet"
	case packets.ErrProtocolViolation.Code, packets.ErrUnsupportedProtocolVersion.Code,
		packets.Err3UnsupportedProtocolVersion.Code:
		return "protocol_error"
	case packets.ErrServerBusy.Code, packets.ErrServerUnavailable.Code, packets.Err3ServerUnavailable.Code:
		return "max_connections"
	case packets.ErrNotAuthorized.Code, packets.ErrBadUsernameOrPassword.Code,
		packets.ErrClientIdentifierNotValid.Code, packets.Err3NotAuthorized.Code,
		packets.ErrMalformedUsernameOrPassword.Code, packets.Err3ClientIdentifierNotValid.Code:
		return "refused"
	case packets.ErrSessionTakenOver.Code:
		return "session_taken_over"
	case packets.ErrReceiveMaximum.Code:
		return "receive_maximum_exceeded"
	case packets.ErrKeepAliveTimeout.Code:
		return "keepalive_timeout"
	case packets.CodeDisconnect.Code:
		return ""
	}
	return "other"
}
