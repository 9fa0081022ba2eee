package main

import (
	"fmt"
	"testing"

	"github.com/borda-edge/borda/internal/vision"
)

func TestRecentDetectionsRing(t *testing.T) {
	r := newRecentDetections(3)
	for i := range 5 {
		r.add([]vision.Detection{{Camera: "door", Label: fmt.Sprint(i)}, {Camera: "yard", Label: "y" + fmt.Sprint(i)}})
	}
	got := ""
	for _, d := range r.Recent("door", 10) {
		got += d.Label
	}
	if got != "432" {
		t.Fatalf("door: %q, want newest first 432", got)
	}
	if d := r.Recent("yard", 1); len(d) != 1 || d[0].Label != "y4" {
		t.Fatalf("yard: %+v", d)
	}
	if d := r.Recent("none", 5); len(d) != 0 {
		t.Fatalf("none: %+v", d)
	}
}
