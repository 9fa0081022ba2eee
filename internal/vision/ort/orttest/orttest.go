// Package orttest gives tests the ONNX Runtime library and the test
// model that `make ml-deps` caches. Like testkit.RequireCommand for other
// real tools, a missing one fails the test (make test runs ml-deps
// first), so a broken cache cannot silently skip the vision tests.
package orttest

import (
	"os"
	"testing"

	"github.com/borda-edge/borda/internal/vision/ort"
)

// Require fails the test unless the runtime library resolves (as borda
// would find it without vision.ort_library) and the nsfwjs MobileNetV2
// test model and its labels are cached; it returns their paths.
func Require(t testing.TB) (model, labels string) {
	t.Helper()
	if _, err := ort.ResolveLibrary("", os.Getenv); err != nil {
		t.Fatalf("run `make ml-deps` (make test runs it): %v", err)
	}
	model, labels = ort.TestModel(os.Getenv)
	for _, p := range []string{model, labels} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("vision test model missing: run `make ml-deps` (make test runs it): %v", err)
		}
	}
	return model, labels
}
