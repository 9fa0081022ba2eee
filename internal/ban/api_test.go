package ban

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBansAPI(t *testing.T) {
	f := newFixture(t, testConfig(), t.TempDir())
	mux := http.NewServeMux()
	f.b.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f.fail("192.0.2.1", 5)
	f.fail("2001:db8::7", 5)

	code, body := do(t, http.MethodGet, srv.URL+"/api/v1/bans")
	var list struct {
		Status string `json:"status"`
		Data   []Ban  `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || code != 200 {
		t.Fatalf("GET = %d %s (%v)", code, body, err)
	}
	if list.Status != "success" || len(list.Data) != 2 || list.Data[0].IP.String() != "192.0.2.1" ||
		list.Data[0].Failures != 5 || list.Data[0].Source != "mqtt" || !list.Data[0].Until.Equal(t0.Add(3600e9)) {
		t.Errorf("GET data = %+v", list)
	}

	for _, tt := range []struct {
		path string
		code int
		want string
	}{
		{"/api/v1/bans/2001:db8::7", 200, `"unbanned":true`},
		{"/api/v1/bans/2001:db8::7", 404, "2001:db8::7 is not banned"},
		{"/api/v1/bans/not-an-ip", 400, "not an IP address"},
		{"/api/v1/bans/::ffff:192.0.2.1", 200, `"ip":"192.0.2.1"`},
	} {
		code, body := do(t, http.MethodDelete, srv.URL+tt.path)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("DELETE %s = %d %s, want %d containing %s", tt.path, code, body, tt.code, tt.want)
		}
	}
	if n := len(f.b.List()); n != 0 {
		t.Errorf("%d bans left", n)
	}
}

func do(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
