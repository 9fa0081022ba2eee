package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/bench"
	"github.com/borda-edge/borda/internal/testkit"
)

func TestBenchFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{"help", []string{"-h"}, 0, "", "Usage: borda bench"},
		{"list", []string{"--list"}, 0, "borda-pubsub-qos0", ""},
		{"unknown flag", []string{"--bogus"}, 2, "", "flag provided but not defined"},
		{"extra argument", []string{"now"}, 2, "", `unexpected argument "now"`},
		{"zero duration", []string{"--duration", "0s"}, 2, "", "duration: 0s must be > 0"},
		{"unknown scenario", []string{"--scenarios", "borda-alerts"}, 2, "", `unknown scenario "borda-alerts"`},
		{"more connections than devices", []string{"--devices", "4", "--conns", "8"}, 2, "", "conns: 8"},
		{"bad profile", []string{"--profile", "zoo"}, 2, "", "profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cmdBench(tt.args, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantOut) || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("code %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout.String(), stderr.String(),
					tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}

// TestBenchEndToEnd runs borda bench for real, as a user would: the built
// binary starts borda (itself) and Mosquitto as child processes. It
// checks what was measured, not how fast.
func TestBenchEndToEnd(t *testing.T) {
	testkit.RequireCommand(t, "mosquitto", "mosquitto")
	bin := buildBorda(t)
	t.Run("smoke", func(t *testing.T) { benchSmoke(t, bin) })
	t.Run("interrupted", func(t *testing.T) { benchInterrupted(t, bin) })
}

// benchSmoke: two scenarios pass with every figure filled in.
func benchSmoke(t *testing.T, bin string) {
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "--scenarios", "borda-ingest-qos0,mosquitto-qos0",
		"--duration", "1s", "--devices", "20", "--rate", "2000", "--json")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("borda bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var rep struct {
		OK      bool            `json:"ok"`
		Machine bench.Machine   `json:"machine"`
		Results []bench.Result  `json:"results"`
		Load    json.RawMessage `json:"load"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if !rep.OK || len(rep.Results) != 2 || rep.Machine.CPUs == 0 || rep.Machine.Mosquitto == "" || rep.Machine.Borda == "" {
		t.Fatalf("report: %s", stdout.String())
	}
	mosq, borda := rep.Results[0], rep.Results[1]
	if mosq.Scenario != "mosquitto-qos0" || borda.Scenario != "borda-ingest-qos0" {
		t.Fatalf("scenarios %s, %s", mosq.Scenario, borda.Scenario)
	}
	for _, r := range rep.Results {
		if !r.OK || r.Lost != 0 || len(r.Errors) > 0 || r.Sent == 0 || r.PublishS <= 0 || r.Rate <= 0 ||
			r.SendRate <= 0 || r.ServerCPU < 0 || r.IdleRSS <= 0 || r.PeakRSS < r.IdleRSS || r.SimCPU < 0 {
			t.Errorf("%s: %+v", r.Scenario, r)
		}
	}
	if mosq.Delivered == nil || *mosq.Delivered != mosq.Sent || mosq.DeliveryLatency == nil ||
		mosq.DeliveryLatency.Count != mosq.Sent || mosq.Stored != nil {
		t.Errorf("mosquitto-qos0: %+v", mosq)
	}
	if borda.Stored == nil || *borda.Stored != borda.Sent || borda.Delivered != nil ||
		borda.DiskBytes == nil || *borda.DiskBytes <= 0 || borda.DiskPerSample == nil || *borda.DiskPerSample <= 0 ||
		borda.VsMosquitto == nil || borda.VsMosquitto.Baseline != "mosquitto-qos0" || borda.VsMosquitto.Throughput <= 0 {
		t.Errorf("borda-ingest-qos0: %+v", borda)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("data directories left behind: %v", left)
	}
}

// benchInterrupted: SIGINT stops the run early; the report is still
// printed (the cut-short scenario failed, the rest not run), the exit
// status is 1, the servers are stopped and their directories removed.
func benchInterrupted(t *testing.T, bin string) {
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "--scenarios", "mosquitto-qos0,borda-ingest-qos0",
		"--duration", "1m", "--devices", "20", "--rate", "1000", "--json", "--progress")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stdout bytes.Buffer
	stderr := &testkit.Process{} // a goroutine-safe buffer
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 30*time.Second, "the load to run", func() bool {
		return strings.Contains(stderr.Output(), " sent ") // the simulator's first progress line
	})
	pid := regexp.MustCompile(`mosquitto pid (\d+)`).FindStringSubmatch(stderr.Output())
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d (%v), want 1\nstderr:\n%s", code, err, stderr.Output())
	}
	var rep struct {
		OK      bool           `json:"ok"`
		Results []bench.Result `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || rep.OK || len(rep.Results) != 2 {
		t.Fatalf("report (%v): %s", err, stdout.String())
	}
	cut, notRun := rep.Results[0], rep.Results[1]
	if !strings.Contains(strings.Join(cut.Errors, "\n"), "interrupted after") || cut.Sent == 0 || cut.Lost != 0 {
		t.Errorf("interrupted scenario: %+v", cut)
	}
	if !strings.Contains(strings.Join(notRun.Errors, "\n"), "not run") {
		t.Errorf("remaining scenario: %+v", notRun)
	}
	if pid == nil {
		t.Fatalf("no mosquitto pid in stderr:\n%s", stderr.Output())
	}
	if n, _ := strconv.Atoi(pid[1]); syscall.Kill(n, 0) == nil {
		t.Errorf("mosquitto (pid %d) still running", n)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("data directories left behind: %v", left)
	}
}
