package dashboard

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseDeviceQuery(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		want    deviceQuery
		wantErr string // substring; "" for success
	}{
		{name: "defaults", query: "", want: deviceQuery{sort: "id", limit: defaultPageSize}},
		{name: "all set", query: "q=%20Hall%20&id=s1&type=sensors&sort=last_seen&offset=100&limit=25",
			want: deviceQuery{search: "hall", id: "s1", typ: "sensors", sort: "last_seen", offset: 100, limit: 25}},
		{name: "max limit", query: "limit=500", want: deviceQuery{sort: "id", limit: 500}},
		{name: "limit too large", query: "limit=501", wantErr: "limit"},
		{name: "limit zero", query: "limit=0", wantErr: "limit"},
		{name: "negative offset", query: "offset=-1", wantErr: "offset"},
		{name: "offset not a number", query: "offset=x", wantErr: "offset"},
		{name: "bad sort", query: "sort=name", wantErr: "sort"},
		{name: "search too long", query: "q=" + strings.Repeat("a", maxSearchLen+1), wantErr: "q:"},
		{name: "search of 200 two-byte characters", query: "q=" + strings.Repeat("%C3%89", maxSearchLen),
			want: deviceQuery{search: strings.Repeat("é", maxSearchLen), sort: "id", limit: defaultPageSize}},
		{name: "search not UTF-8", query: "q=%ff", wantErr: "q:"},
		{name: "every error named", query: "sort=x&limit=x&offset=x", wantErr: "offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseDeviceQuery(v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errBadParam) {
					t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
