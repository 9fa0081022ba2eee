package dashboard

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestStaticPages(t *testing.T) {
	d := newTestDashboard(t, Deps{})
	tests := []struct {
		method, target string
		code           int
		contains       string
	}{
		{"GET", "/", 200, "<title>borda</title>"},
		{"HEAD", "/", 200, ""},
		{"GET", "/ui/js/core.js", 200, "startStream"},
		{"GET", "/ui/app.css", 200, "--accent"},
		{"GET", "/ui/vendor/uPlot.iife.min.js", 200, "uPlot"},
		{"GET", "/ui/vendor/uPlot.LICENSE", 200, "MIT"},
		{"GET", "/ui/missing.js", 404, ""},
		{"GET", "/nope", 404, "no such page"},
		{"POST", "/", 405, ""},
		{"GET", "/api/v1/dashboard/cameras", 200, `"enabled":false`},
	}
	mux := http.NewServeMux()
	d.Register(mux)
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Fatalf("%d %q, want %d containing %q", rec.Code, rec.Body.String()[:min(200, rec.Body.Len())], tt.code, tt.contains)
			}
			if tt.code == 200 && tt.target == "/" && !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("CSP %q", rec.Header().Get("Content-Security-Policy"))
			}
		})
	}
}

// TestAssetsSelfContained: every script and style the page loads is
// embedded, and nothing is fetched from another host (isolated networks).
func TestAssetsSelfContained(t *testing.T) {
	index, err := fs.ReadFile(assets, "assets/index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/ui/[^"]+)"`).FindAllStringSubmatch(string(index), -1)
	if len(refs) < 5 {
		t.Fatalf("found %d asset references", len(refs))
	}
	for _, r := range refs {
		if _, err := fs.Stat(assets, "assets/"+strings.TrimPrefix(r[1], "/ui/")); err != nil {
			t.Errorf("%s is not embedded: %v", r[1], err)
		}
	}
	err = fs.WalkDir(assets, "assets", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.Contains(p, "vendor/") {
			return err
		}
		b, _ := fs.ReadFile(assets, p)
		if m := regexp.MustCompile(`(?:src|href)=["']https?://|fetch\(['"]https?://`).Find(b); m != nil {
			t.Errorf("%s loads from another host: %s", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAssetCaching: the page names its assets by the build's version, so
// they are cached for a year and a reload fetches none of them; the page
// itself and unversioned or outdated URLs are revalidated by ETag (304).
// Every asset route is one of StaticRoutes (not rate limited).
func TestAssetCaching(t *testing.T) {
	d := newTestDashboard(t, Deps{})
	mux := http.NewServeMux()
	d.Register(mux)
	get := func(target, etag string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", target, nil)
		if etag != "" {
			r.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		return rec
	}
	page := get("/", "")
	ver := d.assets.version
	if !strings.Contains(page.Body.String(), `src="/ui/`+ver+`/js/core.js"`) {
		t.Fatalf("page does not load versioned assets (%s):\n%s", ver, page.Body)
	}
	if page.Header().Get("Cache-Control") != revalidate || page.Header().Get("ETag") == "" {
		t.Errorf("page headers %v", page.Header())
	}
	if rec := get("/", page.Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Errorf("page revalidated: %d, want 304", rec.Code)
	}
	for _, tt := range []struct {
		target, cache string
		code          int
	}{
		{"/ui/" + ver + "/js/core.js", immutable, 200},
		{"/ui/" + ver + "/vendor/uPlot.min.css", immutable, 200},
		{"/ui/v000000000000/js/core.js", revalidate, 200}, // a page from an older build
		{"/ui/js/core.js", revalidate, 200},
		{"/ui/" + ver + "/index.html", "no-store", 404},
		{"/ui/" + ver + "/nope.js", "no-store", 404},
	} {
		rec := get(tt.target, "")
		if rec.Code != tt.code || rec.Header().Get("Cache-Control") != tt.cache {
			t.Errorf("%s: %d %q, want %d %q", tt.target, rec.Code, rec.Header().Get("Cache-Control"), tt.code, tt.cache)
			continue
		}
		if tt.code != 200 {
			continue
		}
		if again := get(tt.target, rec.Header().Get("ETag")); again.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", tt.target, again.Code)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", tt.target)
		}
	}
	if got := StaticRoutes(); strings.Join(got, ",") != "GET /{$},GET /index.html{$},GET /ui" {
		t.Errorf("static routes %v", got)
	}
}
