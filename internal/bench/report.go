package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/borda-edge/borda/internal/simulate"
)

// Report is the outcome of a run: the load, the machine and one result
// per selected scenario.
type Report struct {
	Load    Load
	Machine Machine
	Results []Result
}

// OK reports whether every scenario ran and passed.
func (r Report) OK() bool {
	for _, res := range r.Results {
		if !res.OK {
			return false
		}
	}
	return len(r.Results) > 0
}

type loadJSON struct {
	Devices   int     `json:"devices"`
	Conns     int     `json:"conns"`
	Rate      float64 `json:"rate"` // 0 = as fast as possible
	DurationS float64 `json:"duration_s"`
	Profile   string  `json:"profile"`
	Seed      int64   `json:"seed"`
}

type reportJSON struct {
	OK      bool     `json:"ok"`
	Load    loadJSON `json:"load"`
	Machine Machine  `json:"machine"`
	Results []Result `json:"results"`
}

// MarshalJSON writes {"ok":..,"load":{..},"machine":{..},"results":[..]}.
func (r Report) MarshalJSON() ([]byte, error) {
	l := r.Load
	return json.Marshal(reportJSON{
		OK: r.OK(), Machine: r.Machine, Results: r.Results,
		Load: loadJSON{Devices: l.Devices, Conns: l.Conns, Rate: l.Rate,
			DurationS: l.Duration.Seconds(), Profile: l.Profile, Seed: l.Seed},
	})
}

// Write prints the report as JSON or as tables.
func (r Report) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	r.writeHeader(w)
	if err := writeMainTable(w, r.Results); err != nil {
		return err
	}
	if err := writeLatencyTable(w, r.Results); err != nil {
		return err
	}
	writeFootnotes(w, r.Results)
	return nil
}

func (r Report) writeHeader(w io.Writer) {
	l, m := r.Load, r.Machine
	rate := "as fast as possible"
	if l.Rate > 0 {
		rate = fmt.Sprintf("%s msg/s", group(int64(l.Rate)))
	}
	fmt.Fprintf(w, "borda bench: %d devices (profile %s, seed %d), %d connections, rate %s, %s per scenario\n",
		l.Devices, l.Profile, l.Seed, l.Conns, rate, l.Duration)
	fmt.Fprintf(w, "machine: %d CPUs %s, Linux %s, %s; %s; mosquitto %s\n\n",
		m.CPUs, m.CPUModel, m.Kernel, m.Go, orDash(m.Borda), orDash(m.Mosquitto))
}

func writeMainTable(w io.Writer, rs []Result) error {
	rows := [][]string{{"scenario", "result", "sent", "delivered", "stored", "lost", "msg/s", "vs mosq",
		"srv CPU s", "CPU s/100k", "vs mosq", "idle RSS", "peak RSS", "disk B/sample*", "sim CPU s"}}
	for _, r := range rs {
		thr, cpu := "-", "-"
		if v := r.VsMosquitto; v != nil {
			thr, cpu = ratio(v.Throughput), ratio(v.CPUPerMsg)
		}
		rows = append(rows, []string{r.Scenario, r.Status(), group(r.Sent), optInt(r.Delivered),
			optInt(r.Stored), group(r.Lost), group(int64(r.Rate + 0.5)), thr,
			fmt.Sprintf("%.2f", r.ServerCPU), fmt.Sprintf("%.3f", r.CPUPer100k), cpu,
			mib(r.IdleRSS), mib(r.PeakRSS), optFloat(r.DiskPerSample), fmt.Sprintf("%.2f", r.SimCPU)})
	}
	return writeTable(w, rows)
}

func writeLatencyTable(w io.Writer, rs []Result) error {
	rows := [][]string{{"latency", "measured", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"}}
	for _, r := range rs {
		var alert, resolved *simulate.Percentiles
		if a := r.Alerts; a != nil {
			alert, resolved = &a.Latency, &a.Resolved.Latency
		}
		for _, l := range []struct {
			what string
			p    *simulate.Percentiles
		}{{"publish->PUBACK", r.AckLatency}, {"publish->delivery", r.DeliveryLatency},
			{"publish->alert", alert}, {"publish->resolved", resolved}} {
			if l.p == nil || l.p.Count == 0 {
				continue
			}
			rows = append(rows, []string{r.Scenario, l.what, group(l.p.Count),
				ms(l.p.P50), ms(l.p.P90), ms(l.p.P99), ms(l.p.Max)})
		}
	}
	if len(rows) == 1 {
		rows = append(rows, []string{"(none measured)"})
	}
	fmt.Fprintln(w)
	return writeTable(w, rows)
}

// writeTable writes rows of cells as a table: the first column
// left-aligned, the others right-aligned, two spaces apart.
func writeTable(w io.Writer, rows [][]string) error {
	width := 0
	for _, row := range rows {
		width = max(width, len(row[0]))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 0, ' ', tabwriter.AlignRight)
	for _, row := range rows {
		fmt.Fprintf(tw, "%-*s\t", width, row[0])
		for _, c := range row[1:] {
			fmt.Fprintf(tw, "  %s\t", c)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func writeFootnotes(w io.Writer, rs []Result) {
	fmt.Fprint(w, `
msg/s: messages sent / (publish time + drain until the server had handled the last one).
vs mosq: borda / Mosquitto at the same QoS; msg/s above 1 is faster, CPU above 1 costs more per message.
srv CPU: user+system CPU of the server process during the load; RSS in MiB (idle: before the load).
* bytes of data_dir/tsdb after the run / stored samples (WAL+head, before compaction).
`)
	if slices.ContainsFunc(rs, func(r Result) bool { return r.Alerts != nil }) {
		fmt.Fprint(w, `alert scenarios: lost = alert events (firing + resolved) that never arrived; no Mosquitto counterpart (it has no rules).
`)
	}
	sep := "\n"
	for _, r := range rs {
		if len(r.Errors)+len(r.Notes) > 0 {
			fmt.Fprint(w, sep)
			sep = ""
		}
		for _, e := range r.Errors {
			fmt.Fprintf(w, "FAILED %s: %s\n", r.Scenario, e)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note %s: %s\n", r.Scenario, n)
		}
	}
}

// group writes n with thousands separators: 1,234,567.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func optInt(p *int64) string {
	if p == nil {
		return "-"
	}
	return group(*p)
}

func optFloat(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *p)
}

func ratio(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
