package broker

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

func TestConnErrorReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{net.ErrClosed, ""},
		{packets.CodeDisconnect, ""},
		{io.EOF, "connection_lost"},
		{fmt.Errorf("read connection: %w", io.ErrUnexpectedEOF), "truncated_packet"},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, "connection_lost"},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, "keepalive_timeout"},
		{packets.ErrPacketTooLarge, "packet_too_large"},
		{fmt.Errorf("read connection: %w", packets.ErrMalformedFlags), "malformed_packet"},
		{packets.ErrProtocolViolationRequireFirstConnect, "protocol_error"},
		{packets.ErrServerBusy, "max_connections"},
		{packets.ErrBadUsernameOrPassword, "refused"},
		{packets.ErrSessionTakenOver, "session_taken_over"},
		{packets.ErrReceiveMaximum, "receive_maximum_exceeded"},
		{errors.New("something new"), "other"},
	}
	for _, tt := range tests {
		if got := connErrorReason(tt.err); got != tt.want {
			t.Errorf("connErrorReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
