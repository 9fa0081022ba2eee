// Package progress shows the progress lines of long CLI operations (borda
// simulate, borda bench): redrawn in place on one line when the output is
// a terminal, and not at all otherwise (logs and pipes stay clean) unless
// asked for.
package progress

import (
	"bytes"
	"io"
	"sync"

	"golang.org/x/term"
)

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\033[K"

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// Line writes progress to a terminal: every line written replaces the
// previous one. Notes written through Notes clear the progress line first,
// so the two interleave cleanly. Safe for concurrent use.
type Line struct {
	mu      sync.Mutex
	out     io.Writer
	pending []byte // an unfinished line
	shown   bool   // a progress line is on the screen
}

// For returns where progress lines for out should go: a Line on a
// terminal; out itself, one line per update, when always is set; nil
// (no progress) otherwise.
func For(out io.Writer, always bool) io.Writer {
	switch {
	case IsTerminal(out):
		return NewLine(out)
	case always:
		return out
	}
	return nil
}

// NewLine returns a Line on out (which should be a terminal).
func NewLine(out io.Writer) *Line { return &Line{out: out} }

// Write shows each complete line of p in place of the previous one.
func (l *Line) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := bytes.TrimRight(l.pending[:i], "\r")
		if _, err := io.WriteString(l.out, clearLine+string(line)); err != nil {
			return len(p), err
		}
		l.shown = true
		l.pending = l.pending[i+1:]
	}
}

// Done leaves the last progress line on the screen and moves to the next
// line.
func (l *Line) Done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shown {
		_, _ = io.WriteString(l.out, "\n")
		l.shown = false
	}
}

// Notes returns a writer for messages that must stay on the screen: the
// progress line is cleared before each write and redrawn by the next update.
func (l *Line) Notes() io.Writer { return notes{l} }

type notes struct{ l *Line }

func (n notes) Write(p []byte) (int, error) {
	n.l.mu.Lock()
	defer n.l.mu.Unlock()
	if n.l.shown {
		if _, err := io.WriteString(n.l.out, clearLine); err != nil {
			return 0, err
		}
		n.l.shown = false
	}
	return n.l.out.Write(p)
}

// Finish ends progress on w if it is a Line (see Done); anything else is
// left alone.
func Finish(w io.Writer) {
	if l, ok := w.(*Line); ok {
		l.Done()
	}
}
