//go:build cgo

package ort_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/vision/ort"
	"github.com/borda-edge/borda/internal/vision/ort/orttest"
	"github.com/borda-edge/borda/internal/vision/preprocess"
)

// testModel returns the config of the nsfwjs MobileNetV2 that `make
// ml-deps` converts; the test fails when the library or model is missing.
func testModel(t testing.TB) ort.Config {
	t.Helper()
	model, _ := orttest.Require(t)
	return ort.Config{Path: model, Shape: []int64{1, 224, 224, 3}, Threads: 1}
}

// referenceInput builds the 224×224 RGB24 inputs that
// scripts/ml/nsfwjs-reference.js classified with tfjs + nsfwjs.
func referenceInput(kind string) []byte {
	bars := [8][3]byte{{255, 255, 255}, {255, 255, 0}, {0, 255, 255}, {0, 255, 0},
		{255, 0, 255}, {255, 0, 0}, {0, 0, 255}, {0, 0, 0}}
	b := make([]byte, 224*224*3)
	s := uint32(1)
	for i := range b {
		px := i / 3
		x, y, c := px%224, px/224, i%3
		switch kind {
		case "gray":
			b[i] = 128
		case "gradient":
			b[i] = byte((x + 2*y + 85*c) % 256)
		case "noise":
			s = s*1664525 + 1013904223
			b[i] = byte(s >> 24)
		case "bars":
			b[i] = bars[x*8/224][c]
		}
	}
	return b
}

type reference struct {
	Labels  []string             `json:"labels"`
	Outputs map[string][]float64 `json:"outputs"`
}

// TestMatchesTFJSReference: the converted model, fed through borda's
// preprocessing (scale 1/255, as nsfwjs), gives tfjs's probabilities
// within 1e-3.
func TestMatchesTFJSReference(t *testing.T) {
	cfg := testModel(t)
	var ref reference
	b, err := os.ReadFile("testdata/nsfwjs_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil || len(ref.Outputs) != 4 {
		t.Fatalf("reference: %v (%d outputs)", err, len(ref.Outputs))
	}
	m, err := ort.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if m.OutputSize() != len(ref.Labels) {
		t.Fatalf("output size %d, want %d", m.OutputSize(), len(ref.Labels))
	}
	p := preprocess.New(preprocess.Spec{Width: 224, Height: 224, Layout: preprocess.NHWC,
		Scale: 1.0 / 255, Std: [3]float32{1, 1, 1}})
	for kind, want := range ref.Outputs {
		t.Run(kind, func(t *testing.T) {
			if err := p.Into(s.Input(), referenceInput(kind), 224, 224); err != nil {
				t.Fatal(err)
			}
			got, err := s.Run()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("borda %v\n  tfjs %v", got, want)
			for i := range want {
				if d := math.Abs(float64(got[i]) - want[i]); d > 1e-3 {
					t.Errorf("%s: %v, tfjs %v (diff %.2g)", ref.Labels[i], got[i], want[i], d)
				}
			}
		})
	}
}

// TestShapeMismatchRefused: a config shape the model does not take is
// refused at Open with both shapes named.
func TestShapeMismatchRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape []int64
	}{
		{"nchw", []int64{1, 3, 224, 224}},
		{"size", []int64{1, 192, 192, 3}},
		{"rank", []int64{224, 224, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testModel(t)
			cfg.Shape = tc.shape
			m, err := ort.Open(cfg)
			if err == nil {
				m.Close()
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, "[1 224 224 3]") || !strings.Contains(msg, fmt.Sprint(tc.shape)) {
				t.Fatalf("message lacks both shapes: %s", msg)
			}
		})
	}
}

func TestUnknownInputName(t *testing.T) {
	cfg := testModel(t)
	cfg.Input = "pixels"
	if _, err := ort.Open(cfg); err == nil || !strings.Contains(err.Error(), "input_1") {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingLibraryIsOneClearError(t *testing.T) {
	_, err := ort.Open(ort.Config{Library: "/nonexistent/libonnxruntime.so.1", Path: "m.onnx", Shape: []int64{1}})
	if !errors.Is(err, ort.ErrNoLibrary) || !strings.Contains(err.Error(), "make ml-deps") {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkRawInference is ONNX Runtime alone on the test model (input
// already in the tensor): the baseline for borda's per-frame latency.
func BenchmarkRawInference(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			cfg := testModel(b)
			cfg.Threads = threads
			m, err := ort.Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			s, err := m.NewSession()
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for i, v := range referenceInput("gradient") {
				s.Input()[i] = float32(v) / 255
			}
			for b.Loop() {
				if _, err := s.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
