package dashboard

import (
	"net/url"
	"testing"
	"unicode/utf8"
)

// FuzzParseDeviceQuery: any query string either fails with errBadParam or
// yields parameters within their bounds. The corpus in
// testdata/fuzz/FuzzParseDeviceQuery covers repeated parameters, limits at
// and past their bounds, integer overflow, multi-byte and invalid UTF-8
// searches, case folding that changes length, regex and quote characters
// in ids, and empty values.
func FuzzParseDeviceQuery(f *testing.F) {
	for _, s := range []string{"", "q=hall&limit=10", "offset=5&sort=last_seen", "limit=-1", "q=%ff", "id=s1&type=sensors"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseDeviceQuery(v)
		if err != nil {
			return
		}
		if q.limit < 1 || q.limit > maxPageSize || q.offset < 0 {
			t.Fatalf("out of bounds: %+v", q)
		}
		if q.sort != "id" && q.sort != "last_seen" {
			t.Fatalf("sort %q", q.sort)
		}
		// Lower-casing may lengthen a character (İ is 2 bytes, i̇ 3).
		if !utf8.ValidString(q.search) || utf8.RuneCountInString(q.search) > 2*maxSearchLen {
			t.Fatalf("search %q", q.search)
		}
		_ = pageOf(sampleDevices(3), q)
	})
}
