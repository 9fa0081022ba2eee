// Package influx is the uplink's InfluxDB output: points selected by
// measurement are written as line protocol into a durable queue and sent
// in batches to InfluxDB 1.x (POST /write) or 2.x (POST /api/v2/write), or
// anything that speaks either (VictoriaMetrics, Telegraf's listeners).
// Queueing, batching, retries and dead letters are httpout's.
package influx

import (
	"fmt"

	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// Output is one InfluxDB output: Name, Run, Ready, Append, AppendAlert.
type Output = httpout.Output

// Deps are an output's collaborators: Logger, Limited, Registry, Local,
// DataDir, Now.
type Deps = httpout.Deps

// ErrClosed is returned by Append and AppendAlert after Run has ended.
var ErrClosed = httpout.ErrClosed

// New validates cfg and returns the output; nothing is opened before Run.
func New(cfg Config, d Deps) (*Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("influx output %q: %w", cfg.Name, err)
	}
	f, err := newFormat(cfg)
	if err != nil {
		return nil, fmt.Errorf("influx output %q: %w", cfg.Name, err)
	}
	o, err := httpout.New(cfg.Common, f, d)
	if err != nil {
		return nil, fmt.Errorf("influx output: %w", err)
	}
	return o, nil
}
