//go:build cgo

package ort

import (
	"errors"
	"fmt"
	"os"
	"slices"

	onnx "github.com/yalue/onnxruntime_go"
)

// Model is one loaded model: its input and output checked against the
// config. Sessions made from it run inferences; each is used by one
// goroutine at a time.
type Model struct {
	cfg      Config
	input    string
	output   string
	outShape onnx.Shape
	opts     *onnx.SessionOptions
}

// Open loads the runtime library (see ResolveLibrary) and checks the
// model: its input must accept cfg.Shape as float32, else Open fails with
// both shapes in the message.
func Open(cfg Config) (*Model, error) {
	lib, err := ResolveLibrary(cfg.Library, os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := acquire(lib); err != nil {
		return nil, err
	}
	m, err := open(cfg)
	if err != nil {
		_ = release()
		return nil, err
	}
	return m, nil
}

func open(cfg Config) (*Model, error) {
	ins, outs, err := onnx.GetInputOutputInfo(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", cfg.Path, err)
	}
	in, err := pick(ins, cfg.Input, "input")
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", cfg.Path, err)
	}
	if err := checkInput(in, cfg.Shape); err != nil {
		return nil, fmt.Errorf("model %s: %w", cfg.Path, err)
	}
	out, err := pick(outs, cfg.Output, "output")
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", cfg.Path, err)
	}
	if out.DataType != onnx.TensorElementDataTypeFloat {
		return nil, fmt.Errorf("model %s: output %q is %v, not float32", cfg.Path, out.Name, out.DataType)
	}
	opts, err := sessionOptions(cfg.Threads)
	if err != nil {
		return nil, err
	}
	return &Model{cfg: cfg, input: in.Name, output: out.Name, outShape: concrete(out.Dimensions), opts: opts}, nil
}

// pick returns the named input or output, or the first when name is "".
func pick(infos []onnx.InputOutputInfo, name, what string) (onnx.InputOutputInfo, error) {
	if len(infos) == 0 {
		return onnx.InputOutputInfo{}, fmt.Errorf("has no %s", what)
	}
	if name == "" {
		return infos[0], nil
	}
	names := make([]string, len(infos))
	for i, in := range infos {
		if in.Name == name {
			return in, nil
		}
		names[i] = in.Name
	}
	return onnx.InputOutputInfo{}, fmt.Errorf("has no %s %q (it has %q)", what, name, names)
}

// checkInput refuses an input whose type or shape does not take shape;
// a dynamic dimension (-1) takes any size.
func checkInput(in onnx.InputOutputInfo, shape []int64) error {
	if in.OrtValueType != onnx.ONNXTypeTensor || in.DataType != onnx.TensorElementDataTypeFloat {
		return fmt.Errorf("input %q is not a float32 tensor (%v)", in.Name, in.DataType)
	}
	ok := len(in.Dimensions) == len(shape)
	for i := 0; ok && i < len(shape); i++ {
		ok = in.Dimensions[i] < 0 || in.Dimensions[i] == shape[i]
	}
	if !ok {
		return fmt.Errorf("input %q has shape %v, but the config's input_shape is %v",
			in.Name, []int64(in.Dimensions), shape)
	}
	return nil
}

// concrete replaces dynamic dimensions (the batch) with 1.
func concrete(s onnx.Shape) onnx.Shape {
	c := slices.Clone(s)
	for i := range c {
		if c[i] < 1 {
			c[i] = 1
		}
	}
	return c
}

func sessionOptions(threads int) (*onnx.SessionOptions, error) {
	o, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	err = errors.Join(o.SetInterOpNumThreads(1), o.SetIntraOpNumThreads(threads),
		// Spinning intra-op threads would burn the cores other workers,
		// cameras and the broker need.
		o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"))
	if err != nil {
		_ = o.Destroy()
		return nil, fmt.Errorf("session options: %w", err)
	}
	return o, nil
}

// InputName and OutputName are the model's input and output in use.
func (m *Model) InputName() string  { return m.input }
func (m *Model) OutputName() string { return m.output }

// OutputSize is the number of values one inference produces.
func (m *Model) OutputSize() int { return int(m.outShape.FlattenedSize()) }

// Close releases the model; close its sessions first.
func (m *Model) Close() error {
	return errors.Join(m.opts.Destroy(), release())
}

// Session is one inference context with its own input and output
// buffers. Not safe for concurrent use: give each worker its own.
type Session struct {
	s   *onnx.AdvancedSession
	in  *onnx.Tensor[float32]
	out *onnx.Tensor[float32]
}

// NewSession creates a session of m.
func (m *Model) NewSession() (*Session, error) {
	in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(m.cfg.Shape...))
	if err != nil {
		return nil, fmt.Errorf("input tensor: %w", err)
	}
	out, err := onnx.NewEmptyTensor[float32](m.outShape)
	if err != nil {
		_ = in.Destroy()
		return nil, fmt.Errorf("output tensor: %w", err)
	}
	s, err := onnx.NewAdvancedSession(m.cfg.Path, []string{m.input}, []string{m.output},
		[]onnx.Value{in}, []onnx.Value{out}, m.opts)
	if err != nil {
		_ = errors.Join(in.Destroy(), out.Destroy())
		return nil, fmt.Errorf("session for %s: %w", m.cfg.Path, err)
	}
	return &Session{s: s, in: in, out: out}, nil
}

// Input is the buffer the next Run reads (shape Config.Shape, row-major).
func (s *Session) Input() []float32 { return s.in.GetData() }

// Run runs the model on Input; the result is valid until the next Run.
func (s *Session) Run() ([]float32, error) {
	if err := s.s.Run(); err != nil {
		return nil, fmt.Errorf("inference: %w", err)
	}
	return s.out.GetData(), nil
}

// Close releases the session and its buffers.
func (s *Session) Close() error {
	return errors.Join(s.s.Destroy(), s.in.Destroy(), s.out.Destroy())
}
