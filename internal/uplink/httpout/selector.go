package httpout

import (
	"path"
	"sync"
)

// selector decides by measurement which points an output takes. Results
// are cached (bounded), so the globs are matched once per measurement.
type selector struct {
	include, exclude []string
	all              bool // no patterns: everything, without a lookup

	mu    sync.RWMutex
	cache map[string]bool
}

const maxSelectorCache = 10000

func newSelector(include, exclude []string) *selector {
	return &selector{include: include, exclude: exclude, all: len(include) == 0 && len(exclude) == 0,
		cache: map[string]bool{}}
}

// keep reports whether points of measurement m are selected.
func (s *selector) keep(m string) bool {
	if s.all {
		return true
	}
	s.mu.RLock()
	v, ok := s.cache[m]
	s.mu.RUnlock()
	if ok {
		return v
	}
	v = s.match(m)
	s.mu.Lock()
	if len(s.cache) >= maxSelectorCache {
		clear(s.cache)
	}
	s.cache[m] = v
	s.mu.Unlock()
	return v
}

func (s *selector) match(m string) bool {
	in := len(s.include) == 0
	for _, g := range s.include {
		if ok, _ := path.Match(g, m); ok { // patterns are validated
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, g := range s.exclude {
		if ok, _ := path.Match(g, m); ok {
			return false
		}
	}
	return true
}
