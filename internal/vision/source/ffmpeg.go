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
func (f *FFmpeg) Run(ctx context.Context, emit func(Frame)) error {
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

func (f *FFmpeg) read(out io.Reader, emit func(Frame)) error {
	size := f.Width * f.Height * 3
	for {
		buf := make([]byte, size)
		if _, err := io.ReadFull(out, buf); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		emit(Frame{RGB: buf, Width: f.Width, Height: f.Height, Time: time.Now()})
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
