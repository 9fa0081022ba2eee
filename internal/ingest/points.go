package ingest

import (
	"cmp"
	"slices"

	"github.com/borda-edge/borda/internal/telemetry"
)

// dedupeFields removes repeated keys in place, keeping the first position
// and the last value (telemetry.Point.SetField semantics) in linear time.
func dedupeFields(fs []telemetry.Field) []telemetry.Field {
	if len(fs) < 2 {
		return fs
	}
	if len(fs) <= 16 {
		out := fs[:0]
	next:
		for _, f := range fs {
			for i := range out {
				if out[i].Key == f.Key {
					out[i].Value = f.Value
					continue next
				}
			}
			out = append(out, f)
		}
		return out
	}
	pos := make(map[string]int, len(fs))
	out := fs[:0]
	for _, f := range fs {
		if i, ok := pos[f.Key]; ok {
			out[i].Value = f.Value
			continue
		}
		pos[f.Key] = len(out)
		out = append(out, f)
	}
	return out
}

// sortTags sorts tags by key and removes repeated keys, the last one
// winning, in O(n log n) (telemetry.Point.SetTag is O(n) per call).
func sortTags(ts []telemetry.Tag) []telemetry.Tag {
	slices.SortStableFunc(ts, func(a, b telemetry.Tag) int { return cmp.Compare(a.Key, b.Key) })
	out := ts[:0]
	for _, t := range ts {
		if n := len(out); n > 0 && out[n-1].Key == t.Key {
			out[n-1].Value = t.Value
			continue
		}
		out = append(out, t)
	}
	return out
}

// setTagIfAbsent adds a tag unless the point already has the key.
func setTagIfAbsent(p *telemetry.Point, key, value string) {
	if _, ok := p.Tag(key); !ok {
		p.SetTag(key, value)
	}
}
