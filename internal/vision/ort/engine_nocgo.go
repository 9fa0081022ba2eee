//go:build !cgo

package ort

// Model cannot be loaded without cgo.
type Model struct{}

// Session cannot be created without cgo.
type Session struct{}

// Open fails: this build has no ONNX Runtime.
func Open(Config) (*Model, error) { return nil, ErrUnavailable }

func (m *Model) InputName() string             { return "" }
func (m *Model) OutputName() string            { return "" }
func (m *Model) OutputSize() int               { return 0 }
func (m *Model) Close() error                  { return nil }
func (m *Model) NewSession() (*Session, error) { return nil, ErrUnavailable }
func (s *Session) Input() []float32            { return nil }
func (s *Session) Run() ([]float32, error)     { return nil, ErrUnavailable }
func (s *Session) Close() error                { return nil }
