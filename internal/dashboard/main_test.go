package dashboard

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that streams and servers end with their tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
