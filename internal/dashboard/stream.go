package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Stream limits.
const (
	maxStreams     = 64               // concurrent live pages; more get 503
	heartbeatEvery = 15 * time.Second // a comment line keeps proxies from closing an idle stream
	writeTimeout   = 30 * time.Second // per event, instead of the server's whole-response timeout
)

// serveStream is GET /api/v1/dashboard/stream, Server-Sent Events: an
// "overview" event whenever the figures change, at most once per Interval
// however fast data arrives. Pages read it with fetch (not EventSource) so
// that it carries the Authorization header like every other request.
func (d *Dashboard) serveStream(w http.ResponseWriter, r *http.Request) {
	if d.streams.Add(1) > maxStreams {
		d.streams.Add(-1)
		writeError(w, http.StatusServiceUnavailable, "unavailable",
			fmt.Sprintf("more than %d live dashboard streams", maxStreams))
		return
	}
	d.clients.Inc()
	defer func() { d.streams.Add(-1); d.clients.Dec() }()

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var last []byte
	tick := time.NewTicker(d.deps.Interval)
	defer tick.Stop()
	lastWrite := time.Now()
	for {
		o := d.overvw.get()
		key := changeKey(o)
		switch {
		case !bytes.Equal(key, last):
			if d.send(rc, w, "overview", o) != nil {
				return
			}
			last, lastWrite = key, time.Now()
		case time.Since(lastWrite) >= heartbeatEvery:
			if d.write(rc, w, []byte(": heartbeat\n\n")) != nil {
				return
			}
			lastWrite = time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-d.closing:
			return
		case <-tick.C:
		}
	}
}

// changeKey is the overview without its clock, so that only real changes
// are sent.
func changeKey(o *Overview) []byte {
	c := *o
	c.Time, c.Uptime = time.Time{}, 0
	b, _ := json.Marshal(&c)
	return b
}

func (d *Dashboard) send(rc *http.ResponseController, w http.ResponseWriter, event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", event, err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "event: %s\ndata: %s\n\n", event, b)
	return d.write(rc, w, buf.Bytes())
}

func (d *Dashboard) write(rc *http.ResponseController, w http.ResponseWriter, b []byte) error {
	_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // unsupported writers keep the server's
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	if err := rc.Flush(); err != nil {
		return fmt.Errorf("flush event: %w", err)
	}
	return nil
}
