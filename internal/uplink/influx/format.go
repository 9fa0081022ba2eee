package influx

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// AlertMeasurement is the measurement alert events are written to.
const AlertMeasurement = "borda_alerts"

// format is line protocol for one server. A queue entry's group is the
// precision its timestamps were written in, so entries queued before a
// precision change are still sent with the right one.
type format struct {
	prec    string
	line    lineFormat
	base    *url.URL
	cfg     Config
	urls    map[string]string // by precision
	gz      *gzip.Writer
	gzOut   bytes.Buffer
	version int
	ext     []telemetry.Tag // external labels
}

func newFormat(c Config) (*format, error) {
	base, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", c.URL, err)
	}
	p, _ := precisionOf(c.Precision) // validated
	f := &format{prec: c.Precision, base: base, cfg: c, urls: map[string]string{}, version: c.APIVersion(), ext: c.SortedExternalLabels(),
		line: lineFormat{unit: p.unit, v2: c.APIVersion() == 2}}
	if c.Gzip {
		f.gz = gzip.NewWriter(&f.gzOut)
	}
	for _, name := range []string{"ns", "us", "ms", "s"} {
		f.urls[name] = f.writeURL(name)
	}
	return f, nil
}

// writeURL is the write endpoint for precision p, keeping any path prefix
// and query parameters of the configured URL.
func (f *format) writeURL(name string) string {
	p, _ := precisionOf(name)
	u := *f.base
	q := u.Query()
	if f.version == 2 {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v2/write"
		q.Set("org", f.cfg.Org)
		q.Set("bucket", f.cfg.Bucket)
		q.Set("precision", p.v2)
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/write"
		q.Set("db", f.cfg.Database)
		if f.cfg.RetentionPolicy != "" {
			q.Set("rp", f.cfg.RetentionPolicy)
		}
		if p.v1 != "" {
			q.Set("precision", p.v1)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (f *format) Group() string { return f.prec }

// withExternal returns tags plus the external labels they lack. Points
// and alerts are formatted concurrently: the merged list is a new slice.
func (f *format) withExternal(tags []telemetry.Tag) []telemetry.Tag {
	if len(f.ext) == 0 {
		return tags
	}
	out := make([]telemetry.Tag, len(tags), len(tags)+len(f.ext))
	copy(out, tags)
	for _, e := range f.ext {
		if !slices.ContainsFunc(tags, func(t telemetry.Tag) bool { return t.Key == e.Key }) {
			out = append(out, e)
		}
	}
	return out
}

// AppendPoints writes one line per selected point.
func (f *format) AppendPoints(dst []byte, pts []telemetry.Point, keep func(string) bool) ([]byte, int, int) {
	n, skipped := 0, 0
	for i := range pts {
		p := &pts[i]
		if !keep(p.Measurement) {
			continue
		}
		var ok bool
		if dst, ok = appendLine(dst, p.Measurement, f.withExternal(p.Tags), p.Fields, p.Time, f.line); ok {
			n++
		} else {
			skipped++
		}
	}
	return dst, n, skipped
}

// AppendAlert writes borda_alerts,device_id=,rule=,severity=,state=,type= value=<reading>.
func (f *format) AppendAlert(dst []byte, a telemetry.Alert) ([]byte, int) {
	dst, ok := appendLine(dst, AlertMeasurement, f.withExternal(alertTags(a)), []telemetry.Field{{Key: "value", Value: a.Value}},
		a.Time, f.line)
	if !ok { // a non-finite reading: the event still counts
		dst, _ = appendLine(dst, AlertMeasurement, f.withExternal(alertTags(a)), []telemetry.Field{{Key: "value", Value: 0}},
			a.Time, f.line)
	}
	return dst, 1
}

// Split returns the lines of a payload (written lines never contain a raw
// newline: it is escaped).
func (f *format) Split(payload []byte) ([][]byte, error) {
	return splitLines(payload), nil
}

func splitLines(payload []byte) [][]byte {
	var out [][]byte
	for len(payload) > 0 {
		i := bytes.IndexByte(payload, '\n')
		if i < 0 {
			return append(out, payload)
		}
		if i > 0 {
			out = append(out, payload[:i+1])
		}
		payload = payload[i+1:]
	}
	return out
}

// Request gzips the payload (when configured) for the group's precision.
func (f *format) Request(group string, payload []byte) (httpout.Request, error) {
	u, ok := f.urls[group]
	if !ok {
		return httpout.Request{}, fmt.Errorf("queue entry with unknown precision %q", group)
	}
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	if f.cfg.Token != "" {
		h.Set("Authorization", "Token "+f.cfg.Token)
	}
	if f.gz == nil {
		return httpout.Request{URL: u, Body: payload, Header: h}, nil
	}
	f.gzOut.Reset()
	f.gz.Reset(&f.gzOut)
	if _, err := f.gz.Write(payload); err != nil {
		return httpout.Request{}, fmt.Errorf("gzip: %w", err)
	}
	if err := f.gz.Close(); err != nil {
		return httpout.Request{}, fmt.Errorf("gzip: %w", err)
	}
	h.Set("Content-Encoding", "gzip")
	return httpout.Request{URL: u, Body: f.gzOut.Bytes(), Header: h}, nil
}
