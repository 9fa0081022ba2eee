package sysctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/borda-edge/borda/internal/hostsetup/record"
)

// Status of one key on this host.
type Status string

// Statuses; only StatusDiffers makes a host not match.
const (
	StatusOK       Status = "ok"
	StatusDiffers  Status = "differs"
	StatusMissing  Status = "missing"  // the kernel has no such key: a note
	StatusObsolete Status = "obsolete" // known to do nothing or to have moved: a note
)

// obsoleteKey is a key of the seed's profile that kernels from a version
// on ignore or moved elsewhere: on those kernels it is reported, never
// written; on older ones it is an ordinary key.
type obsoleteKey struct {
	since [2]int // major, minor
	why   string
}

var obsolete = map[string]obsoleteKey{
	"net.ipv4.tcp_low_latency":        {[2]int{4, 14}, "no-op since Linux 4.14"},
	"kernel.sched_migration_cost_ns":  {[2]int{5, 13}, "moved to debugfs (/sys/kernel/debug/sched/migration_cost_ns) in Linux 5.13"},
	"kernel.sched_min_granularity_ns": {[2]int{5, 13}, "moved to debugfs in Linux 5.13; replaced by base_slice_ns (EEVDF) in 6.6"},
}

// kernelVersion reads major and minor from a kernel release such as
// "6.1.0-28-amd64" or "4.19.0-rpi"; ok is false when it cannot.
func kernelVersion(release string) (v [2]int, ok bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return v, false
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	var err1, err2 error
	v[0], err1 = strconv.Atoi(parts[0])
	v[1], err2 = strconv.Atoi(minor)
	return v, err1 == nil && err2 == nil
}

// obsoleteOn reports why key is obsolete on the kernel release (an
// unreadable release counts as a modern kernel).
func obsoleteOn(key, release string) (string, bool) {
	o, known := obsolete[key]
	if !known {
		return "", false
	}
	if v, ok := kernelVersion(release); ok && (v[0] < o.since[0] || v[0] == o.since[0] && v[1] < o.since[1]) {
		return "", false
	}
	return o.why, true
}

// Result is one row of a check.
type Result struct {
	Key     string `json:"key"`
	Current string `json:"current"` // "" when the key is missing
	Wanted  string `json:"wanted"`
	Status  Status `json:"status"`
	Note    string `json:"note,omitempty"`
}

// Report is a whole check.
type Report struct {
	Kernel  string   `json:"kernel"`
	Results []Result `json:"results"`
	BBR     BBR      `json:"bbr"`
}

// Matches is true when no key differs and bbr, if wanted, is available.
func (r Report) Matches() bool {
	for _, res := range r.Results {
		if res.Status == StatusDiffers {
			return false
		}
	}
	return !r.BBR.Wanted || r.BBR.Available
}

// Host is a machine's kernel settings under Root ("/" on a real host, a
// fake tree in tests): values in Root/proc/sys, configuration in Root/etc.
type Host struct {
	Root string
	// State is where apply records the previous values (default
	// Root/var/lib/borda-host/sysctl.json).
	State string
}

func (h Host) path(rel string) string { return filepath.Join(h.root(), filepath.FromSlash(rel)) }

func (h Host) root() string {
	if h.Root == "" {
		return "/"
	}
	return h.Root
}

func (h Host) statePath() string {
	if h.State != "" {
		return h.State
	}
	return h.path(record.StateDir + "/sysctl.json")
}

// ConfPath is the file apply writes.
func (h Host) ConfPath() string { return h.path("etc/sysctl.d/99-borda.conf") }

// ModulesPath is the modules-load.d file apply writes when bbr is wanted.
func (h Host) ModulesPath() string { return h.path("etc/modules-load.d/borda.conf") }

func (h Host) keyPath(key string) string {
	return h.path("proc/sys/" + strings.ReplaceAll(key, ".", "/"))
}

// read returns a key's current value; ok is false when the kernel lacks it.
func (h Host) read(key string) (value string, ok bool, err error) {
	b, err := os.ReadFile(h.keyPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", key, err)
	}
	return normalize(string(b)), true, nil
}

// Check compares the host with p. It reads only.
func (h Host) Check(ctx context.Context, p Profile) (Report, error) {
	kernel, _, err := h.read("kernel.osrelease")
	if err != nil {
		return Report{}, err
	}
	rep := Report{Kernel: kernel}
	for _, e := range p {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		res, err := h.checkOne(e, kernel)
		if err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, res)
	}
	if v, ok := p.Get("net.ipv4.tcp_congestion_control"); ok {
		rep.BBR = h.probeCongestion(kernel, v)
		if !rep.BBR.Available {
			i := slices.IndexFunc(rep.Results, func(r Result) bool { return r.Key == "net.ipv4.tcp_congestion_control" })
			rep.Results[i].Note = rep.BBR.Note
		}
	}
	return rep, nil
}

func (h Host) checkOne(e Entry, kernel string) (Result, error) {
	cur, ok, err := h.read(e.Key)
	if err != nil {
		return Result{}, err
	}
	res := Result{Key: e.Key, Current: cur, Wanted: e.Value}
	switch why, old := obsoleteOn(e.Key, kernel); {
	case old:
		res.Status, res.Note = StatusObsolete, why
		if !ok {
			res.Note += "; not on this kernel"
		}
	case !ok:
		res.Status, res.Note = StatusMissing, "not on this kernel"
	case cur == e.Value:
		res.Status = StatusOK
	default:
		res.Status = StatusDiffers
		res.Note = lowersMaximum(e.Key, cur, e.Value)
	}
	return res, nil
}

// lowersMaximum notes when a buffer maximum would go down: the seed's
// 16 MiB is below the 32 MiB tcp_rmem maximum of recent kernels.
func lowersMaximum(key, cur, wanted string) string {
	if !strings.HasSuffix(key, "_max") && !strings.HasSuffix(key, "tcp_rmem") && !strings.HasSuffix(key, "tcp_wmem") {
		return ""
	}
	c, w := strings.Fields(cur), strings.Fields(wanted)
	if len(c) != len(w) || len(c) == 0 {
		return ""
	}
	cm, err1 := strconv.ParseInt(c[len(c)-1], 10, 64)
	wm, err2 := strconv.ParseInt(w[len(w)-1], 10, 64)
	if err1 != nil || err2 != nil || wm >= cm {
		return ""
	}
	return fmt.Sprintf("lowers the maximum from %d (consider host.sysctl.set)", cm)
}

// WriteTable prints the report as an aligned key/current/wanted/status
// table followed by a summary line.
func (r Report) WriteTable(w io.Writer) error {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tCURRENT\tWANTED\tSTATUS\tNOTE")
	for _, res := range r.Results {
		cur := res.Current
		if cur == "" {
			cur = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", res.Key, cur, res.Wanted, res.Status, res.Note)
	}
	_ = tw.Flush() // into a buffer: cannot fail
	for _, line := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " ")); err != nil {
			return fmt.Errorf("write check table: %w", err)
		}
	}
	if r.BBR.Wanted {
		fmt.Fprintf(w, "bbr: %s\n", r.BBR.Summary())
	}
	verdict := "host matches the profile"
	if !r.Matches() {
		verdict = "host does not match the profile (borda host apply)"
	}
	_, err := fmt.Fprintf(w, "kernel %s: %s\n", r.Kernel, verdict)
	return err
}
