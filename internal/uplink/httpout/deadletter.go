package httpout

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/borda-edge/borda/internal/uplink/queue"
)

// QueuePath is the file of an output's queue.
func QueuePath(dataDir, name string) string {
	return filepath.Join(dataDir, "uplink-"+name+".db")
}

// DeadLetterPath is the file of an output's dead-letter queue.
func DeadLetterPath(dataDir, name string) string {
	return filepath.Join(dataDir, "uplink-"+name+".dead.db")
}

// deadLetters is an output's dead-letter queue, a queue file opened on
// first use (most outputs never need it) with its own small retention.
// Only the sender goroutine uses it.
type deadLetters struct {
	o    *Output
	path string
	q    *queue.Queue
}

func newDeadLetters(o *Output) *deadLetters {
	return &deadLetters{o: o, path: DeadLetterPath(o.deps.DataDir, o.cfg.Name)}
}

// add stores the rejected parts of one entry, one dead letter each; the
// key holds the reason and the start of the server's answer.
func (d *deadLetters) add(ctx context.Context, it queue.Item, group string, rs []rejection) error {
	if d.q == nil {
		q, err := queue.Open(d.path, d.o.cfg.DeadLetter, queue.Deps{
			Logger: d.o.deps.Logger.With("component", "uplink"), Limited: d.o.deps.Limited.With("component", "uplink"),
			Registry: d.o.deps.Registry, Name: d.o.cfg.Name + ".dead", Now: d.o.deps.Now})
		if err != nil {
			return fmt.Errorf("open dead-letter queue: %w", err)
		}
		d.q = q
	}
	es := make([]queue.Entry, len(rs))
	for i, r := range rs {
		es[i] = queue.Entry{Priority: it.Priority, Key: r.reason + " " + r.snippet, Time: it.Time,
			Data: EncodeEntry(Entry{Group: group, Points: r.points, Payload: r.payload})}
	}
	if err := d.q.Append(context.WithoutCancel(ctx), es); err != nil {
		return fmt.Errorf("append dead letters: %w", err)
	}
	return nil
}

func (d *deadLetters) close() error {
	if d.q == nil {
		return nil
	}
	if err := d.q.Close(); err != nil {
		return fmt.Errorf("close dead-letter queue: %w", err)
	}
	return nil
}

// DeadLetter is one stored rejection.
type DeadLetter struct {
	Reason   string    // http_<code>
	Response string    // start of the server's answer
	Time     time.Time // when the entry was appended to the output's queue
	Entry              // the rejected points in wire form
}

// ReadDeadLetters returns the dead letters in path (see DeadLetterPath)
// without removing them. The output must not be running: the file is
// locked while it is open (Open waits up to one second).
func ReadDeadLetters(path string) ([]DeadLetter, error) {
	keepAll := queue.Config{MaxBytes: 1 << 62, MaxAge: 100 * 365 * 24 * time.Hour} // reading drops nothing
	q, err := queue.Open(path, keepAll, queue.Deps{Name: "dead-letter-reader"})
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	defer q.Close()
	now, cancel := context.WithCancel(context.Background())
	cancel()
	items, err := q.Next(now, 1<<30)
	if err != nil && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	out := make([]DeadLetter, 0, len(items))
	for _, it := range items {
		e, err := DecodeEntry(it.Data)
		if err != nil {
			return nil, fmt.Errorf("read dead letters: seq %d: %w", it.Seq, err)
		}
		reason, resp, _ := strings.Cut(it.Key, " ")
		out = append(out, DeadLetter{Reason: reason, Response: resp, Time: it.Time, Entry: e})
	}
	return out, nil
}
