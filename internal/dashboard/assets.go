package dashboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

// The dashboard shell: the page and its embedded assets. They hold no
// data, so the HTTP guard serves them without credentials and without
// counting them against the per-IP request rate (StaticRoutes).
const (
	assetPrefix = "/ui/"
	// immutable is the Cache-Control of versioned asset URLs: their
	// content never changes (a new build has a new version).
	immutable = "public, max-age=31536000, immutable"
	// revalidate makes the browser ask again, answered 304 when the ETag
	// still matches.
	revalidate = "no-cache"
)

// StaticRoutes are the dashboard shell's requests, as httpguard rules
// (httpguard.Deps.Static): the page at / and /index.html, and /ui/*.
func StaticRoutes() []string {
	return []string{"GET /{$}", "GET /index.html{$}", "GET /ui"}
}

// asset is one embedded file with its content-hash ETag.
type asset struct {
	name string // for the Content-Type (by extension)
	data []byte
	etag string
}

// assetSet holds the embedded files, the build's version (a hash of every
// file) and index.html with its asset URLs versioned:
// /ui/<version>/js/core.js is cached for a year, since a new build gets a
// new version; unversioned or outdated URLs are revalidated by ETag.
type assetSet struct {
	version string
	files   map[string]asset // by path below assets/
	index   asset
}

func loadAssets(fsys fs.FS) (*assetSet, error) {
	set := &assetSet{files: map[string]asset{}}
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		set.files[p] = asset{name: p, data: b, etag: etagOf(b)}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard assets: %w", err)
	}
	idx, ok := set.files["index.html"]
	if !ok {
		return nil, fmt.Errorf("dashboard assets: no index.html")
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s %s\n", n, set.files[n].etag)
	}
	set.version = "v" + hex.EncodeToString(h.Sum(nil))[:12]
	page := bytes.ReplaceAll(idx.data, []byte(`"`+assetPrefix), []byte(`"`+assetPrefix+set.version+"/"))
	set.index = asset{name: "index.html", data: page, etag: etagOf(page)}
	return set, nil
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// isVersion reports whether seg looks like an asset version (v + 12 hex).
func isVersion(seg string) bool {
	if len(seg) != 13 || seg[0] != 'v' {
		return false
	}
	_, err := hex.DecodeString(seg[1:])
	return err == nil
}

// serveAsset answers GET /ui/[<version>/]<path>.
func (a *assetSet) serveAsset(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(path.Clean(r.URL.Path), assetPrefix)
	cache := revalidate
	if seg, after, ok := strings.Cut(rest, "/"); ok && isVersion(seg) {
		rest = after
		if seg == a.version {
			cache = immutable
		} // an outdated page: today's file, revalidated
	}
	f, ok := a.files[rest]
	if !ok || rest == "index.html" {
		writeError(w, http.StatusNotFound, "not_found", "no such file: "+r.URL.Path)
		return
	}
	a.serve(w, r, f, cache)
}

// serve writes one asset with its ETag (304 when If-None-Match matches).
func (a *assetSet) serve(w http.ResponseWriter, r *http.Request, f asset, cache string) {
	h := w.Header()
	setSecurityHeaders(h)
	h.Set("Cache-Control", cache)
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
}

// setSecurityHeaders: everything comes from this server (no CDN), nothing
// may frame the pages.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy",
		"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
