package telemetry

import (
	"reflect"
	"testing"
)

func TestSetTagKeepsSortedAndUnique(t *testing.T) {
	var p Point
	for _, kv := range [][2]string{{"location", "a"}, {"device_id", "s1"}, {"zone", "z"}, {"location", "b"}} {
		p.SetTag(kv[0], kv[1])
	}
	want := []Tag{{"device_id", "s1"}, {"location", "b"}, {"zone", "z"}}
	if !reflect.DeepEqual(p.Tags, want) {
		t.Fatalf("tags = %v, want %v", p.Tags, want)
	}
	if v, ok := p.Tag("location"); !ok || v != "b" {
		t.Fatalf("Tag(location) = %q, %v", v, ok)
	}
	if _, ok := p.Tag("missing"); ok {
		t.Fatal("Tag(missing) reported present")
	}
}

func TestSetFieldReplaces(t *testing.T) {
	var p Point
	p.SetField("value", 21)
	p.SetField("quality", 1)
	p.SetField("value", 21.5)
	want := []Field{{"value", 21.5}, {"quality", 1}}
	if !reflect.DeepEqual(p.Fields, want) {
		t.Fatalf("fields = %v, want %v", p.Fields, want)
	}
	if v, ok := p.Field("quality"); !ok || v != 1 {
		t.Fatalf("Field(quality) = %v, %v", v, ok)
	}
}
