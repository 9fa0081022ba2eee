//go:build cgo

package ort

import (
	"fmt"
	"sync"

	onnx "github.com/yalue/onnxruntime_go"
)

// ONNX Runtime's environment is process-wide state inside the C library
// (one per process, one library path). This reference count is the only
// package-level state in borda's vision code: it mirrors the library's.
var env struct {
	mu   sync.Mutex
	refs int
	lib  string
}

// acquire loads lib and creates the environment on first use.
func acquire(lib string) error {
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.refs > 0 {
		if lib != env.lib {
			return fmt.Errorf("ONNX Runtime already loaded from %s; cannot also load %s", env.lib, lib)
		}
		env.refs++
		return nil
	}
	onnx.SetSharedLibraryPath(lib)
	if err := onnx.InitializeEnvironment(onnx.WithLogLevelError()); err != nil {
		return fmt.Errorf("load ONNX Runtime %s: %w", lib, err)
	}
	env.refs, env.lib = 1, lib
	return nil
}

// release destroys the environment when the last user is gone.
func release() error {
	env.mu.Lock()
	defer env.mu.Unlock()
	env.refs--
	if env.refs > 0 {
		return nil
	}
	env.lib = ""
	return onnx.DestroyEnvironment()
}
