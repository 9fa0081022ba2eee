// Package remotewrite is the uplink's Prometheus remote_write output:
// points selected by measurement are written as prometheus.WriteRequest
// protobuf into a durable queue and sent snappy-compressed in batches to
// VictoriaMetrics, Prometheus (--web.enable-remote-write-receiver), Mimir,
// Thanos receive or any remote_write 1.0 receiver. Queueing, batching,
// retries and dead letters are httpout's.
package remotewrite

import (
	"fmt"

	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// Output is one remote_write output: Name, Run, Ready, Append, AppendAlert.
type Output = httpout.Output

// Deps are an output's collaborators: Logger, Limited, Registry, Local,
// DataDir, Now.
type Deps = httpout.Deps

// ErrClosed is returned by Append and AppendAlert after Run has ended.
var ErrClosed = httpout.ErrClosed

// New validates cfg and returns the output; nothing is opened before Run.
func New(cfg Config, d Deps) (*Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("remote_write output %q: %w", cfg.Name, err)
	}
	o, err := httpout.New(cfg.Common, &format{url: cfg.URL, token: cfg.BearerToken, ext: cfg.SortedExternalLabels()}, d)
	if err != nil {
		return nil, fmt.Errorf("remote_write output: %w", err)
	}
	return o, nil
}
