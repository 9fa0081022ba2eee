package record

import (
	"context"
	"fmt"
	"os"
)

// Runner runs programs (the hostsetup commands' own Runner types satisfy it).
type Runner interface {
	LookPath(name string) (string, error)
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// DaemonReload runs `systemctl daemon-reload` when root is / and systemd
// runs; otherwise it says what to do. It returns lines for the operator.
func DaemonReload(ctx context.Context, r Runner, root string) []string {
	if root != "/" {
		return []string{"then, on the host: systemctl daemon-reload"}
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return []string{"note: systemd is not running here: no systemctl daemon-reload"}
	}
	p, err := r.LookPath("systemctl")
	if err == nil {
		_, err = r.Run(ctx, nil, p, "daemon-reload")
	}
	if err != nil {
		return []string{fmt.Sprintf("note: systemctl daemon-reload: %v (run it by hand)", err)}
	}
	return []string{"ran systemctl daemon-reload"}
}
