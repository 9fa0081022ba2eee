package ingest

import (
	"bytes"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

func TestDecodeLineProtocol(t *testing.T) {
	tests := []struct {
		line string
		want want
	}{
		{"weather,location=us-midwest temperature=82 1465839830100400200",
			want{"weather", map[string]string{"location": "us-midwest"}, map[string]float64{"temperature": 82}, time.Unix(0, 1465839830100400200)}},
		{"m f=1", want{"m", nil, map[string]float64{"f": 1}, recv}},
		{"m a=1i,b=2u,c=-3i,d=1.5,e=-1.5e3,f=.5,g=7.,h=1E-2,i=-0i,j=18446744073709551615u",
			want{"m", nil, map[string]float64{"a": 1, "b": 2, "c": -3, "d": 1.5, "e": -1500, "f": 0.5, "g": 7, "h": 0.01, "i": 0, "j": 18446744073709551615}, recv}},
		{"m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE",
			want{"m", nil, map[string]float64{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 0, "g": 0, "h": 0, "i": 0, "j": 0}, recv}},
		{`m s="hello, world = x",v=1,t="with \"quote\" and \\ backslash",w=2,e=""`,
			want{"m", nil, map[string]float64{"v": 1, "w": 2}, recv}},
		{`my\ meas\,urement,tag\ key\,x\=y=tag\ val\,ue\=z field\ key\,a\=b=1`,
			want{"my meas,urement", map[string]string{"tag key,x=y": "tag val,ue=z"}, map[string]float64{"field key,a=b": 1}, recv}},
		{`a=b f=1`, want{"a=b", nil, map[string]float64{"f": 1}, recv}},
		{`m\=x f=1`, want{`m\=x`, nil, map[string]float64{"f": 1}, recv}},
		{`m\x,t=a\b f\n=1`, want{`m\x`, map[string]string{"t": `a\b`}, map[string]float64{`f\n`: 1}, recv}},
		{`m,t=a\\,u f=1`, want{"m", map[string]string{"t": `a\,u`}, map[string]float64{"f": 1}, recv}},
		{`m,t=a\\\ b f=1`, want{"m", map[string]string{"t": `a\\ b`}, map[string]float64{"f": 1}, recv}},
		{"m,z=1,a=2,z=3 f=1,g=2,f=3", want{"m", map[string]string{"a": "2", "z": "3"}, map[string]float64{"f": 3, "g": 2}, recv}},
		{"  m f=1  1465839830100400200 \t\r", want{"m", nil, map[string]float64{"f": 1}, time.Unix(0, 1465839830100400200)}},
		{"m  f=1", want{"m", nil, map[string]float64{"f": 1}, recv}},
		{"m,t=日本 温度=21.5", want{"m", map[string]string{"t": "日本"}, map[string]float64{"温度": 21.5}, recv}},
		{"m big=1e308,small=1e-400", want{"m", nil, map[string]float64{"big": 1e308, "small": 0}, recv}},
	}
	for _, tc := range tests {
		pts, err := DecodeLineProtocol([]byte(tc.line), 0, recv, nil)
		if err != nil || len(pts) != 1 {
			t.Errorf("%s: %v %v", tc.line, pts, err)
			continue
		}
		checkPoint(t, pts[0], tc.want)
	}
}

func TestDecodeLineProtocolRejects(t *testing.T) {
	tests := []struct{ line, reason string }{
		{"m", ReasonBadLineProtocol}, {"m ", ReasonBadLineProtocol}, {"m f", ReasonBadLineProtocol},
		{"m f=", ReasonBadLineProtocol}, {"m =1", ReasonBadLineProtocol}, {"m f=1,", ReasonBadLineProtocol},
		{"m f=1,,g=2", ReasonBadLineProtocol}, {",t=1 f=1", ReasonBadLineProtocol}, {" f=1", ReasonBadLineProtocol}, {`m,t=a\\,u=b f=1`, ReasonBadLineProtocol},
		{"m, f=1", ReasonBadLineProtocol}, {"m,t f=1", ReasonBadLineProtocol}, {"m,t= f=1", ReasonBadLineProtocol},
		{"m,=v f=1", ReasonBadLineProtocol}, {"m,t=a=b f=1", ReasonBadLineProtocol}, {"m,t=a", ReasonBadLineProtocol},
		{`m f="unterminated`, ReasonBadLineProtocol}, {`m f="a"x`, ReasonBadLineProtocol},
		{"m f=abc", ReasonBadLineProtocol}, {"m f=NaN", ReasonBadLineProtocol}, {"m f=Inf", ReasonBadLineProtocol},
		{"m f=+1", ReasonBadLineProtocol}, {"m f=0x10", ReasonBadLineProtocol}, {"m f=1_000", ReasonBadLineProtocol},
		{"m f=1.5i", ReasonBadLineProtocol}, {"m f=-1u", ReasonBadLineProtocol}, {"m f=u", ReasonBadLineProtocol},
		{"m f=i", ReasonBadLineProtocol}, {"m f=yes", ReasonBadLineProtocol}, {"m f=tRUE", ReasonBadLineProtocol},
		{"m f=1 2 3", ReasonBadTimestamp}, {"m f=1 12a", ReasonBadTimestamp}, {"m f=1 1.5", ReasonBadTimestamp},
		{"m f=1 -1465839830100400200", ReasonBadTimestamp}, {"m f=1 99999999999999999999", ReasonBadTimestamp},
		{"m f=1 946684799999999999", ReasonBadTimestamp},
		{"m f=9223372036854775808i", ReasonOutOfRange}, {"m f=18446744073709551616u", ReasonOutOfRange},
		{"m f=1e309", ReasonOutOfRange}, {"m f=-1e309", ReasonOutOfRange},
		{`m s="only strings"`, ReasonNoNumericField},
		{"m\xff f=1", ReasonBadLineProtocol}, {"m,t=\x01 f=1", ReasonBadLineProtocol}, {"m\x7f f=1", ReasonBadLineProtocol},
		{"# only a comment", ReasonEmpty}, {"\n\n  \n# c\n", ReasonEmpty}, {"", ReasonEmpty},
	}
	for _, tc := range tests {
		pts, err := DecodeLineProtocol([]byte(tc.line), time.Nanosecond, recv, nil)
		if got := reasonOf(err); got != tc.reason || len(pts) != 0 {
			t.Errorf("%q: %v, reason %q (%v), want %q", tc.line, pts, got, err, tc.reason)
		}
	}
}

func TestDecodeLineProtocolPrecision(t *testing.T) {
	want := time.Date(2024, 11, 24, 20, 26, 40, 0, time.UTC)
	for prec, line := range map[time.Duration]string{
		time.Second:      "m f=1 1732480000",
		time.Millisecond: "m f=1 1732480000000",
		time.Microsecond: "m f=1 1732480000000000",
		time.Nanosecond:  "m f=1 1732480000000000000",
		0:                "m f=1 1732480000000000000",
	} {
		pts, err := DecodeLineProtocol([]byte(line), prec, recv, nil)
		if err != nil || !pts[0].Time.Equal(want) {
			t.Errorf("precision %s %q: %v %v", prec, line, pts, err)
		}
	}
}

func TestDecodeLineProtocolBatch(t *testing.T) {
	data, err := os.ReadFile("testdata/telegraf.lp")
	if err != nil {
		t.Fatal(err)
	}
	pts, err := DecodeLineProtocol(data, time.Nanosecond, recv, nil)
	if len(pts) != 8 {
		t.Fatalf("got %d points, want 8", len(pts))
	}
	rs := Rejections(err)
	if len(rs) != 2 || rs[0].Reason != ReasonNoNumericField || rs[1].Reason != ReasonBadLineProtocol ||
		!strings.Contains(rs[0].Error(), "line 8:") || !strings.Contains(rs[1].Error(), "line 10:") {
		t.Fatalf("rejections = %v", err)
	}
	checkPoint(t, pts[7], want{"mqtt_consumer", map[string]string{"host": "edge-01", "topic": "sensors/s1/temperature"},
		map[string]float64{"value": 23.5}, time.Unix(1732480000, 0)})
	checkPoint(t, pts[6], want{"temp", map[string]string{"host": "edge-01", "sensor": "cpu thermal"},
		map[string]float64{"temp": 51.5, "critical": 0}, time.Unix(1732480000, 0)})
	if v, _ := pts[4].Field("uptime"); v != 864000 {
		t.Errorf("uptime = %v", v)
	}
}

// encodeLP writes p as a line-protocol line (the fuzz round trip).
func encodeLP(p telemetry.Point) string {
	esc := func(s, chars string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if strings.IndexByte(chars, s[i]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	var b strings.Builder
	b.WriteString(esc(p.Measurement, measurementEscapes))
	for _, t := range p.Tags {
		b.WriteString("," + esc(t.Key, keyEscapes) + "=" + esc(t.Value, keyEscapes))
	}
	for i, f := range p.Fields {
		b.WriteString(map[bool]string{true: " ", false: ","}[i == 0])
		b.WriteString(esc(f.Key, keyEscapes) + "=" + strconv.FormatFloat(f.Value, 'g', -1, 64))
	}
	b.WriteString(" " + strconv.FormatInt(p.Time.UnixNano(), 10))
	return b.String()
}

// FuzzDecodeLineProtocol checks the invariants of decoded points, that
// re-encoding a point decodes to the same point, and that every line of a
// batch decodes the same on its own.
func FuzzDecodeLineProtocol(f *testing.F) {
	f.Add([]byte("weather,location=us-midwest temperature=82,ok=t,n=3i 1465839830100400200\n# c\nm f=\"s\""))
	f.Add([]byte(`my\ m,tag\,k=v\=1 f\ k=1u`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		pts, err := DecodeLineProtocol(payload, time.Nanosecond, recv, nil)
		for _, rej := range Rejections(err) {
			if !knownReason(rej.Reason) {
				t.Fatalf("unknown reason %q", rej.Reason)
			}
		}
		var each []telemetry.Point
		var eachRejs int
		for _, line := range bytes.Split(payload, []byte("\n")) {
			p, err := DecodeLineProtocol(line, time.Nanosecond, recv, nil)
			each = append(each, p...)
			if r := reasonOf(err); r != "" && r != ReasonEmpty {
				eachRejs++
			}
		}
		if !reflect.DeepEqual(pts, each) {
			t.Fatalf("%q: batch gives %v, line by line %v", payload, pts, each)
		}
		if rs := reasons(err); len(rs) != eachRejs && !(len(rs) == 1 && rs[0] == ReasonEmpty) {
			t.Fatalf("%q: batch rejections %v, line by line %d", payload, rs, eachRejs)
		}
		for _, p := range pts {
			if e := pointInvariants(p); e != nil {
				t.Fatalf("%q: %v", payload, e)
			}
			line := encodeLP(p)
			again, err := DecodeLineProtocol([]byte(line), time.Nanosecond, recv, nil)
			if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], p) {
				t.Fatalf("%q: round trip via %q gives %v, %v; want %v", payload, line, again, err, p)
			}
		}
	})
}

func BenchmarkDecodeLineProtocol(b *testing.B) {
	data, err := os.ReadFile("testdata/telegraf.lp")
	if err != nil {
		b.Fatal(err)
	}
	var good [][]byte // the batch without its two bad lines
	for _, line := range bytes.Split(data, []byte("\n")) {
		if !bytes.Contains(line, []byte("broken")) && !bytes.Contains(line, []byte("uptime_format")) {
			good = append(good, line)
		}
	}
	batch := bytes.Join(good, []byte("\n"))
	dst := make([]telemetry.Point, 0, 16)
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		dst, err = DecodeLineProtocol(batch, time.Nanosecond, recv, dst[:0])
		if err != nil || len(dst) != 8 {
			b.Fatal(len(dst), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(dst)), "ns/line")
}
