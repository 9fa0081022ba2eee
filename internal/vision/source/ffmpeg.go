package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FFmpeg runs ffmpeg as a child process that decodes Input to raw RGB24
// frames of Width×Height at FPS on its standard output. The process is
// killed (SIGKILL to it, by PID) and reaped when Run returns.
type FFmpeg struct {
	Bin       string   // ffmpeg executable; "ffmpeg" when empty
	Input     string   // anything ffmpeg's -i takes: rtsp://…, /dev/video0, a file, a lavfi graph
	InputArgs []string // options before -i, e.g. [-f, v4l2] or [-rtsp_transport, tcp]
	Width     int
	Height    int
	FPS       float64 // 0: the input's rate
}

func (f *FFmpeg) String() string { return "ffmpeg " + f.Input }

// Args is the ffmpeg command line after the program name.
func (f *FFmpeg) Args() []string {
	vf := fmt.Sprintf("scale=%d:%d", f.Width, f.Height)
	if f.FPS > 0 {
		vf = fmt.Sprintf("fps=%g,%s", f.FPS, vf)
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error"}
	args = append(args, f.InputArgs...)
	return append(args, "-i", f.Input, "-an", "-vf", vf, "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1")
}

// Run starts ffmpeg and emits its frames until ctx ends (nil) or ffmpeg
// exits (an error with the end of its standard error).
func (f *FFmpeg) Run(ctx context.Context, emit func(Frame) bool) error {
	if f.Width < 1 || f.Height < 1 {
		return fmt.Errorf("ffmpeg: frame size %dx%d", f.Width, f.Height)
	}
	bin := f.Bin
	if bin == "" {
		bin = "ffmpeg"
	}
	cmd := exec.CommandContext(ctx, bin, f.Args()...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	stderr := &tail{max: 2048}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("ffmpeg: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	readErr := f.read(out, emit)
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return nil
	}
	msg := strings.TrimSpace(stderr.String())
	return fmt.Errorf("ffmpeg %s ended: %w (%v) %s", f.Input, errors.Join(readErr, waitErr), cmd.ProcessState, msg)
}

// poolFrames is how many released frame buffers a running ffmpeg source
// keeps for reuse: the one-frame buffer, the frame being queued and one
// per worker cover a pipeline that keeps up.
const poolFrames = 4

// read reads frames from out until it ends. A frame emit does not keep
// (every Nth sampling skips it) is read over by the next one; a kept
// frame's buffer comes back through Release.
func (f *FFmpeg) read(out io.Reader, emit func(Frame) bool) error {
	pool := newBufPool(f.Width*f.Height*3, poolFrames)
	buf := pool.get()
	for {
		if _, err := io.ReadFull(out, buf); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read frame: %w", err)
		}
		if emit(Frame{RGB: buf, Width: f.Width, Height: f.Height, Time: time.Now(), pool: pool}) {
			buf = pool.get()
		}
	}
}

// bufPool is a bounded free list of frame buffers of one size. Buffers
// pass through its channel, so a buffer's last reader (a worker, after
// Release) happens before its next writer (the source).
type bufPool struct {
	size int
	free chan []byte
}

func newBufPool(size, n int) *bufPool {
	return &bufPool{size: size, free: make(chan []byte, n)}
}

// get returns a free buffer, or a new one.
func (p *bufPool) get() []byte {
	select {
	case b := <-p.free:
		return b
	default:
		return make([]byte, p.size)
	}
}

// put keeps b for a later get, unless the pool is full or b is not one
// of its buffers.
func (p *bufPool) put(b []byte) {
	if cap(b) != p.size {
		return
	}
	select {
	case p.free <- b[:p.size]:
	default:
	}
}

// tail keeps the last max bytes written (a child's standard error).
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.ToValidUTF8(t.b, nil))
}
