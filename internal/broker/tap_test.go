package broker

import (
	"io"
	"log/slog"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

type countingTap struct{ n int }

func (c *countingTap) Wants(string) bool { return true }
func (c *countingTap) Ingest(string, []byte, byte, time.Time) error {
	c.n++
	return nil
}

// TestTapSkipsInlinePublishes: what borda publishes itself (alerts,
// commands) is not ingested; client publishes are.
func TestTapSkipsInlinePublishes(t *testing.T) {
	tap := &countingTap{}
	h := TapHook(tap, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pk := packets.Packet{TopicName: "alerts/critical", Payload: []byte(`{"value":1}`)}
	for _, tt := range []struct {
		name   string
		inline bool
		want   int
	}{{"inline client", true, 0}, {"network client", false, 1}} {
		cl := &mqtt.Client{ID: tt.name, Net: mqtt.ClientConnection{Inline: tt.inline}}
		tap.n = 0
		if _, err := h.OnPublish(cl, pk); err != nil {
			t.Fatal(err)
		}
		if tap.n != tt.want {
			t.Errorf("%s: ingested %d times, want %d", tt.name, tap.n, tt.want)
		}
	}
}
