package store

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that a closed store leaves no goroutines behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
