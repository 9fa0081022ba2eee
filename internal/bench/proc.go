package bench

import (
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Bounds of stopping a child process.
const (
	killWait   = 5 * time.Second // after SIGKILL (the kernel reaps it at once)
	outputTail = 64 << 10        // bytes of a child's output kept for error messages
)

// proc is a child process the harness started: a server under test. It
// runs in its own process group, so that a Ctrl-C in the terminal reaches
// only the harness, which then stops it; the kernel kills it (Pdeathsig)
// should the harness die first.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed once the process has exited and been reaped
}

// startProc starts bin with args in directory dir.
func startProc(name, bin, dir string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out := &tailBuffer{max: outputTail}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second // bound Wait should a grandchild hold the output pipe
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// cpu is the CPU the process has used so far.
func (p *proc) cpu() (cpuTimes, error) { return readCPU(p.pid()) }

// mem is the process's resident and peak resident size.
func (p *proc) mem() (memStatus, error) { return readMem(p.pid()) }

// output is the tail of what the process wrote to stdout and stderr.
func (p *proc) output() string { return p.out.String() }

// stop sends SIGTERM to the process (by PID) and waits up to grace for it
// to exit, then sends SIGKILL. It reports an error when the process had to
// be killed or had already exited on its own (a crash under test).
func (p *proc) stop(grace time.Duration) error {
	if p.exited() {
		return fmt.Errorf("%s (pid %d) had exited by itself: %v", p.name, p.pid(), p.cmd.ProcessState)
	}
	if err := syscall.Kill(p.pid(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, p.pid(), err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	}
	_ = syscall.Kill(p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
		return fmt.Errorf("%s (pid %d) did not stop within %s of SIGTERM and was killed", p.name, p.pid(), grace)
	case <-time.After(killWait):
		return fmt.Errorf("%s (pid %d) still running %s after SIGKILL", p.name, p.pid(), killWait)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
