// Package telemetry holds the plain data types that flow through borda:
// readings (Point), alerts, detections and status events. It depends on the
// standard library only, so every component can share these types without
// importing each other.
package telemetry

import (
	"sort"
	"time"
)

// Tag is one label of a Point (for example device_id=s1).
type Tag struct {
	Key   string
	Value string
}

// Field is one numeric value of a Point. Every number is a float64, so an
// integer 21 and a float 21.0 are the same value of the same series.
type Field struct {
	Key   string
	Value float64
}

// Point is one reading: a measurement with tags, one or more numeric fields
// and a timestamp.
type Point struct {
	Measurement string
	Tags        []Tag   // sorted by Key, unique keys (see SortTags)
	Fields      []Field // in decoding order, unique keys
	Time        time.Time
}

// Tag returns the value of tag key and whether it is present.
func (p *Point) Tag(key string) (string, bool) {
	for _, t := range p.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// Field returns the value of field key and whether it is present.
func (p *Point) Field(key string) (float64, bool) {
	for _, f := range p.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return 0, false
}

// SetTag sets (or replaces) a tag and keeps Tags sorted by key.
func (p *Point) SetTag(key, value string) {
	i := sort.Search(len(p.Tags), func(i int) bool { return p.Tags[i].Key >= key })
	if i < len(p.Tags) && p.Tags[i].Key == key {
		p.Tags[i].Value = value
		return
	}
	p.Tags = append(p.Tags, Tag{})
	copy(p.Tags[i+1:], p.Tags[i:])
	p.Tags[i] = Tag{Key: key, Value: value}
}

// SetField sets (or replaces) a field, keeping the first position of key.
func (p *Point) SetField(key string, value float64) {
	for i := range p.Fields {
		if p.Fields[i].Key == key {
			p.Fields[i].Value = value
			return
		}
	}
	p.Fields = append(p.Fields, Field{Key: key, Value: value})
}
