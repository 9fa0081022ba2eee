package broker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
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
	h := TapHook(tap, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
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

type recordingForwarder struct {
	origins []string
	err     error
}

func (f *recordingForwarder) Wants(topic string) bool { return topic != "local/only" }
func (f *recordingForwarder) Forward(_ context.Context, _ string, _ []byte, _ bool, origin string) error {
	f.origins = append(f.origins, origin)
	return f.err
}

// TestTapForwards: client and inline publishes are forwarded (with the
// origin mark of inline ones); a forwarder that cannot queue does not make
// the publish fail, and unwanted topics are not forwarded.
func TestTapForwards(t *testing.T) {
	fwd := &recordingForwarder{err: errors.New("disk full")}
	h := TapHook(&countingTap{}, fwd, slog.New(slog.NewTextHandler(io.Discard, nil)))
	marked := packets.Packet{TopicName: "cmd/valve", FixedHeader: packets.FixedHeader{Qos: 1},
		Properties: packets.Properties{User: []packets.UserProperty{{Key: OriginProperty, Val: "cloud"}}}}
	for _, tt := range []struct {
		name   string
		inline bool
		pk     packets.Packet
	}{
		{"client", false, packets.Packet{TopicName: "sensors/a", FixedHeader: packets.FixedHeader{Qos: 1}}},
		{"inline from cloud", true, marked},
		{"client claiming an origin", false, marked}, // only inline publishes carry a trusted origin
		{"unwanted", false, packets.Packet{TopicName: "local/only"}},
	} {
		cl := &mqtt.Client{ID: tt.name, Net: mqtt.ClientConnection{Inline: tt.inline}}
		if _, err := h.OnPublish(cl, tt.pk); err != nil {
			t.Fatalf("%s: publish refused: %v", tt.name, err)
		}
	}
	if want := []string{"", "cloud", ""}; !slices.Equal(fwd.origins, want) {
		t.Fatalf("forwarded origins %q, want %q", fwd.origins, want)
	}
}
