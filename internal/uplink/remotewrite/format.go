package remotewrite

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// AlertSeries is the metric name of alert events.
const AlertSeries = "borda_alert"

// format is remote_write 1.0: snappy-compressed prometheus.WriteRequest.
type format struct {
	url   string
	token string
	ext   []telemetry.Tag // external labels, added unless the point has the label
	buf   []byte          // snappy output, reused
}

// withExternal appends the external labels the series does not have.
func (f *format) withExternal(ls []label) []label {
	n := len(ls)
	for _, e := range f.ext {
		if !slices.ContainsFunc(ls[:n], func(l label) bool { return l.name == e.Key }) {
			ls = append(ls, label{name: e.Key, value: e.Value})
		}
	}
	return ls
}

func (f *format) Group() string { return "" }

// AppendPoints writes one series with one sample per field of every
// selected point.
func (f *format) AppendPoints(dst []byte, pts []telemetry.Point, keep func(string) bool) ([]byte, int, int) {
	n, skipped := 0, 0
	var ls []label
	for i := range pts {
		p := &pts[i]
		if !keep(p.Measurement) {
			continue
		}
		var ok bool
		if ls, ok = pointLabels(ls[:0], p); !ok || len(p.Fields) == 0 {
			skipped++
			continue
		}
		ls = f.withExternal(ls)
		ts := p.Time.UnixMilli()
		for _, fl := range p.Fields {
			ls[0].value = telemetry.SeriesName(p.Measurement, fl.Key)
			sortLabels(ls)
			dst = appendSeries(dst, ls, fl.Value, ts)
			n++
			moveName(ls)
		}
	}
	return dst, n, skipped
}

// pointLabels appends __name__ (value set per field) and the point's tags
// as labels the way the store names them: empty values left out, names
// sanitized; reserved (__*) or clashing names make the point invalid.
func pointLabels(ls []label, p *telemetry.Point) ([]label, bool) {
	if telemetry.MetricName(p.Measurement) == "" {
		return ls, false
	}
	ls = append(ls, label{name: "__name__"})
	for _, t := range p.Tags {
		if t.Value == "" {
			continue
		}
		n := telemetry.LabelName(t.Key)
		if n == "" || len(n) >= 2 && n[:2] == "__" {
			return ls, false
		}
		for _, l := range ls[1:] {
			if l.name == n {
				return ls, false
			}
		}
		ls = append(ls, label{name: n, value: t.Value})
	}
	return ls, true
}

// moveName puts __name__ back at index 0 after sorting.
func moveName(ls []label) {
	for i := range ls {
		if ls[i].name == "__name__" {
			ls[0], ls[i] = ls[i], ls[0]
			return
		}
	}
}

// AppendAlert writes borda_alert{device_id,rule,severity,state,type} = the reading.
func (f *format) AppendAlert(dst []byte, a telemetry.Alert) ([]byte, int) {
	ls := []label{{"__name__", AlertSeries}}
	for _, l := range []label{{"device_id", a.DeviceID}, {"rule", a.Rule}, {"severity", a.Severity},
		{"state", a.State}, {"type", a.Type}} {
		if l.value != "" {
			ls = append(ls, l)
		}
	}
	ls = f.withExternal(ls)
	sortLabels(ls)
	return appendSeries(dst, ls, a.Value, a.Time.UnixMilli()), 1
}

// Split decodes a payload and returns one WriteRequest per sample.
func (f *format) Split(payload []byte) ([][]byte, error) {
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(payload); err != nil {
		return nil, fmt.Errorf("decode write request: %w", err)
	}
	var out [][]byte
	for _, ts := range wr.Timeseries {
		for _, s := range ts.Samples {
			one := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: ts.Labels, Samples: []prompb.Sample{s}}}}
			b, err := one.Marshal()
			if err != nil {
				return nil, fmt.Errorf("encode write request: %w", err)
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// Request snappy-compresses the payload (block format, as the protocol says).
func (f *format) Request(_ string, payload []byte) (httpout.Request, error) {
	f.buf = snappy.Encode(f.buf[:cap(f.buf)], payload)
	h := http.Header{
		"Content-Type":                      {"application/x-protobuf"},
		"Content-Encoding":                  {"snappy"},
		"X-Prometheus-Remote-Write-Version": {"0.1.0"},
	}
	if f.token != "" {
		h.Set("Authorization", "Bearer "+f.token)
	}
	return httpout.Request{URL: f.url, Body: f.buf, Header: h}, nil
}
