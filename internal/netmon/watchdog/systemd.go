package watchdog

import (
	"context"
	"fmt"
	"os"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
)

// dialSystemd connects to systemd's system D-Bus (go-systemd). A host
// without systemd, or without access to its bus, gives ErrNoSystemd.
func dialSystemd(ctx context.Context) (Systemd, error) {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return nil, fmt.Errorf("%w: systemd is not running", ErrNoSystemd)
	}
	c, err := sddbus.NewSystemConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoSystemd, err) //nolint:errorlint // one sentinel is enough
	}
	return dbusSystemd{c}, nil
}

type dbusSystemd struct{ c *sddbus.Conn }

func (d dbusSystemd) UnitState(ctx context.Context, unit string) (string, string, error) {
	props, err := d.c.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return "", "", fmt.Errorf("unit %s: %w", unit, err)
	}
	active, _ := props["ActiveState"].(string)
	sub, _ := props["SubState"].(string)
	return active, sub, nil
}

// RestartUnit restarts unit (mode "replace") and waits for the job's result.
func (d dbusSystemd) RestartUnit(ctx context.Context, unit string) error {
	done := make(chan string, 1)
	if _, err := d.c.RestartUnitContext(ctx, unit, "replace", done); err != nil {
		return fmt.Errorf("restart %s: %w", unit, err)
	}
	select {
	case res := <-done:
		if res != "done" {
			return fmt.Errorf("restart %s: job %s", unit, res)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("restart %s: %w", unit, ctx.Err())
	}
}

func (d dbusSystemd) Close() { d.c.Close() }
