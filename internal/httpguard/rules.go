package httpguard

import (
	"fmt"
	"net/http"
	"path"
	"strings"
)

// rule selects requests by method and path: "POST /write" matches POST
// requests to /write and below it (/write/x); "/api/v1/bans" matches every
// method. A GET rule also matches HEAD. A path ending in "{$}" (as in Go's
// ServeMux patterns) matches that path only: "GET /{$}" is the root and
// nothing below it, "GET /index.html{$}" that page.
type rule struct {
	method string // "" for every method
	path   string // cleaned, without trailing slash except for "/"
	exact  bool   // the path only, not below it
}

// exactSuffix marks a rule matching its path only.
const exactSuffix = "{$}"

// parseRule parses "METHOD /path" or "/path" (either may end in {$}).
func parseRule(s string) (rule, error) {
	fields := strings.Fields(s)
	var r rule
	switch len(fields) {
	case 1:
		r.path = fields[0]
	case 2:
		r.method, r.path = fields[0], fields[1]
		if !validMethod(r.method) {
			return rule{}, fmt.Errorf("%q: method %q is not an upper-case HTTP method", s, r.method)
		}
	default:
		return rule{}, fmt.Errorf("%q is not \"METHOD /path\" or \"/path\"", s)
	}
	if !strings.HasPrefix(r.path, "/") {
		return rule{}, fmt.Errorf("%q: path must start with /", s)
	}
	if p, ok := strings.CutSuffix(r.path, exactSuffix); ok && p != "" {
		r.path, r.exact = p, true
	}
	if strings.ContainsAny(r.path, "?#{}*") {
		return rule{}, fmt.Errorf("%q: path must be a plain prefix (no query, pattern or wildcard)", s)
	}
	r.path = path.Clean(r.path)
	return r, nil
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// parseRules parses a list, reporting every bad entry with its index.
func parseRules(list []string) ([]rule, []error) {
	out := make([]rule, 0, len(list))
	var errs []error
	for i, s := range list {
		r, err := parseRule(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("[%d]: %w", i, err))
			continue
		}
		out = append(out, r)
	}
	return out, errs
}

// requestPath is the cleaned request path rules are matched against, so
// that "//write" or "/x/../write" cannot slip past a rule for "/write".
func requestPath(r *http.Request) string {
	p := r.URL.Path
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	return path.Clean(p)
}

func (r rule) matches(method, p string) bool {
	if r.method != "" && r.method != method && !(r.method == http.MethodGet && method == http.MethodHead) {
		return false
	}
	if p == r.path {
		return true
	}
	if r.exact {
		return false
	}
	return r.path == "/" || strings.HasPrefix(p, r.path+"/")
}

func anyMatches(rules []rule, method, p string) bool {
	for _, r := range rules {
		if r.matches(method, p) {
			return true
		}
	}
	return false
}
