// Package ort runs ONNX models on ONNX Runtime through
// github.com/yalue/onnxruntime_go. The runtime is a shared library loaded
// at run time (`make ml-deps` fetches it); builds without cgo compile, and
// Open then says that vision is unavailable.
package ort

import (
	"errors"
	"fmt"
)

// Config says which model to run and how.
type Config struct {
	// Library is the path of libonnxruntime.so.1; empty: $BORDA_ORT_LIB,
	// else the cache that scripts/ml-deps.sh fills. (vision.ort_library
	// in borda.yaml.)
	Library string `yaml:"-"`
	// Path is the .onnx model file.
	Path string `yaml:"path"`
	// Input is the model input to feed; empty: the model's first input.
	Input string `yaml:"input_name"`
	// Output is the model output to read; empty: the model's first output.
	Output string `yaml:"output_name"`
	// Shape is the input shape the preprocessing produces, batch first
	// (for example [1, 224, 224, 3]); the model must accept it.
	Shape []int64 `yaml:"input_shape"`
	// Threads is ONNX Runtime's intra-op thread count per session.
	Threads int `yaml:"intra_op_threads"`
}

// Validate reports problems with field paths.
func (c Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path: required"))
	}
	if len(c.Shape) == 0 {
		errs = append(errs, errors.New("input_shape: required"))
	}
	for i, d := range c.Shape {
		if d < 1 {
			errs = append(errs, fmt.Errorf("input_shape[%d]: %d must be at least 1", i, d))
		}
	}
	if c.Threads < 0 {
		errs = append(errs, fmt.Errorf("intra_op_threads: %d must not be negative", c.Threads))
	}
	return errors.Join(errs...)
}

// Elements is the number of values in one input tensor.
func (c Config) Elements() int {
	n := int64(1)
	for _, d := range c.Shape {
		n *= d
	}
	return int(n)
}
