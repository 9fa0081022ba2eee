package store

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/annotations"
)

// metaParams are the parameters of /series, /labels and /label/x/values.
type metaParams struct {
	start, end int64 // milliseconds
	matchers   [][]*labels.Matcher
}

func (s *Store) metaParams(r *http.Request) (metaParams, error) {
	var p metaParams
	start, err := timeParam(r.FormValue, "start", minTime)
	if err != nil {
		return p, err
	}
	end, err := timeParam(r.FormValue, "end", maxTime)
	if err != nil {
		return p, err
	}
	if end.Before(start) {
		return p, paramError("end", errors.New("end timestamp must not be before start time"))
	}
	p.start, p.end = start.UnixMilli(), end.UnixMilli()
	if ms := r.Form["match[]"]; len(ms) > 0 {
		if p.matchers, err = s.parser.ParseMetricSelectors(ms); err != nil {
			return p, paramError("match[]", err)
		}
		for _, set := range p.matchers {
			if !matchesSomething(set) {
				return p, paramError("match[]", errors.New("match[] must contain at least one non-empty matcher"))
			}
		}
	}
	return p, nil
}

// matchesSomething reports whether a selector has a matcher that does not
// match the empty string (Prometheus refuses selectors like {a=~".*"}).
func matchesSomething(ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches("") {
			return true
		}
	}
	return false
}

// withQuerier runs fn with a querier over the parameters' time range.
func (s *Store) withQuerier(r *http.Request, fn func(context.Context, storage.Querier, metaParams) (any, error)) (any, error) {
	p, err := s.metaParams(r)
	if err != nil {
		return nil, err
	}
	return s.withDB(r, func(ctx context.Context, db *tsdb.DB) (any, error) {
		q, err := db.Querier(p.start, p.end)
		if err != nil {
			return nil, err
		}
		defer q.Close()
		return fn(ctx, q, p)
	})
}

func (s *Store) series(r *http.Request) (any, error) {
	if len(r.Form["match[]"]) == 0 {
		return nil, badData(errors.New("no match[] parameter provided"))
	}
	return s.withQuerier(r, func(ctx context.Context, q storage.Querier, p metaParams) (any, error) {
		hints := &storage.SelectHints{Start: p.start, End: p.end, Func: "series"}
		sets := make([]storage.SeriesSet, 0, len(p.matchers))
		for _, ms := range p.matchers {
			sets = append(sets, q.Select(ctx, len(p.matchers) > 1, hints, ms...))
		}
		set := sets[0]
		if len(sets) > 1 {
			set = storage.NewMergeSeriesSet(sets, 0, storage.ChainedSeriesMerge)
		}
		out := []labels.Labels{}
		for set.Next() {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			out = append(out, set.At().Labels())
		}
		if err := set.Err(); err != nil {
			return nil, err
		}
		return withAnnotations{data: out, annos: set.Warnings()}, nil
	})
}

func (s *Store) labelNames(r *http.Request) (any, error) {
	return s.withQuerier(r, func(ctx context.Context, q storage.Querier, p metaParams) (any, error) {
		hints := &storage.LabelHints{}
		return collectStrings(p.matchers, func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
			return q.LabelNames(ctx, hints, ms...)
		})
	})
}

func (s *Store) labelValues(r *http.Request) (any, error) {
	name := r.PathValue("name")
	if name == "" || !utf8.ValidString(name) {
		return nil, badData(errors.New("invalid label name: " + name))
	}
	return s.withQuerier(r, func(ctx context.Context, q storage.Querier, p metaParams) (any, error) {
		hints := &storage.LabelHints{}
		return collectStrings(p.matchers, func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
			return q.LabelValues(ctx, name, hints, ms...)
		})
	})
}

// collectStrings runs get once without matchers, or once per selector, and
// returns the sorted union.
func collectStrings(sets [][]*labels.Matcher, get func([]*labels.Matcher) ([]string, annotations.Annotations, error)) (any, error) {
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	var all []string
	var annos annotations.Annotations
	for _, ms := range sets {
		vals, a, err := get(ms)
		if err != nil {
			return nil, err
		}
		annos.Merge(a)
		all = append(all, vals...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if all == nil {
		all = []string{}
	}
	return withAnnotations{data: all, annos: annos}, nil
}
