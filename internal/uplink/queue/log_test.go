package queue

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// logged is a fixture whose queue logs into a buffer.
func logged(t *testing.T, f *fixture, cfg Config) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	q, err := Open(f.path, cfg, Deps{Name: "test", Now: f.clk.Now, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	q.segSize = testSegSize
	f.q = q
	t.Cleanup(func() { _ = q.Close() })
	return &buf
}

// TestTornTail: what a crash in the middle of a write leaves at the end of
// the last segment is cut off at Open (logged); nothing before it is lost
// and the queue goes on appending after it.
func TestTornTail(t *testing.T) {
	frame := appendFrame(nil, 99, record{Entry: entry(Low, "k", "torn"), appended: 1})
	badCRC := bytes.Clone(frame)
	badCRC[len(badCRC)-1] ^= 1
	tails := map[string][]byte{
		"half a frame":  frame[:len(frame)/2],
		"header only":   frame[:5],
		"zeros":         make([]byte, 4096), // a file extended without its data (power loss)
		"bad checksum":  badCRC,
		"huge length":   {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1},
		"short garbage": []byte("xyz"),
	}
	for name, tail := range tails {
		t.Run(name, func(t *testing.T) {
			f := open(t, testConfig())
			mustAppend(t, f.q, entry(Low, "k", "1"), entry(High, "k", "2"), entry(Low, "k", "3"))
			_ = f.q.Close()
			appendRaw(t, f.path, Low, tail)
			logs := logged(t, f, testConfig())
			if !strings.Contains(logs.String(), "torn tail") {
				t.Errorf("no log line about the torn tail:\n%s", logs)
			}
			if s := f.q.Stats(); s.Entries != 3 {
				t.Errorf("stats %+v, want the 3 entries before the tail", s)
			}
			checkCounters(t, f.q)
			mustAppend(t, f.q, entry(Low, "k", "4"))
			_ = f.q.Close()
			f.reopen(t, testConfig())
			got, seqs := next(t, f.q, 10)
			if fmt.Sprint(got) != "[2 1 3 4]" || fmt.Sprint(seqs) != "[2 1 3 4]" {
				t.Errorf("Next = %v %v, want [2 1 3 4]", got, seqs)
			}
			checkCounters(t, f.q)
		})
	}
}

// TestDamagedSegment: a bad frame in a segment that is not the last (a
// damaged disk, or a power loss without fsync) ends that segment: the rest
// of it is ignored (logged), the later segments are read.
func TestDamagedSegment(t *testing.T) {
	f := open(t, testConfig())
	for i := range 30 {
		mustAppend(t, f.q, entry(Low, "k", fmt.Sprintf("%02d", i+1)))
	}
	_ = f.q.Close()
	files := segFiles(t, f.path)
	if len(files[Low]) < 3 {
		t.Fatalf("%d low segments, want ≥ 3", len(files[Low]))
	}
	name := filepath.Join(f.path, segName(Low, 2))
	data := files[Low][2]
	size, _, _, _ := parseFrame(data[segHeaderLen:])
	data[segHeaderLen+size+10] ^= 0xff // the second frame
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := logged(t, f, testConfig())
	if !strings.Contains(logs.String(), "damaged segment") {
		t.Errorf("logs:\n%s", logs)
	}
	checkCounters(t, f.q)
	got, _ := next(t, f.q, 100)
	lost := 30 - len(got)
	if lost < 1 || got[0] != "01" || got[len(got)-1] != "30" {
		t.Errorf("Next = %v: want the damaged segment's rest missing, everything else there", got)
	}
}

// TestDamagedCheckpoint: a checkpoint that does not read back is ignored
// (logged): acked entries are delivered again, none is missing.
func TestDamagedCheckpoint(t *testing.T) {
	f := open(t, testConfig())
	for i := range 10 {
		mustAppend(t, f.q, entry(Priority(i%2), "k", fmt.Sprint(i)))
	}
	_, seqs := next(t, f.q, 4)
	if err := f.q.Ack(seqs...); err != nil {
		t.Fatal(err)
	}
	_ = f.q.Close()
	ck := filepath.Join(f.path, checkpointName)
	b, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(ck, b, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := logged(t, f, testConfig())
	if !strings.Contains(logs.String(), "damaged checkpoint") {
		t.Errorf("logs:\n%s", logs)
	}
	if s := f.q.Stats(); s.Entries < 6 || s.Entries > 10 {
		t.Errorf("stats %+v: want the 6 unacked entries and perhaps acked ones again", s)
	}
	mustAppend(t, f.q, entry(Low, "k", "new"))
	got, seqs := next(t, f.q, 100)
	if got[len(got)-1] != "new" || seqs[len(seqs)-1] != 11 {
		t.Errorf("Next = %v %v: the new entry must get seq 11", got, seqs)
	}
}

// TestSegmentsDeleted: once everything in a segment is acked or dropped,
// its file goes; the disk holds little more than the live entries.
func TestSegmentsDeleted(t *testing.T) {
	f := open(t, testConfig())
	for i := range 200 {
		mustAppend(t, f.q, entry(Priority(i%2), "k", fmt.Sprintf("%03d", i)))
	}
	if n := len(segFiles(t, f.path)[Low]); n < 5 {
		t.Fatalf("%d low segments, want many", n)
	}
	for {
		_, seqs := next(t, f.q, 30)
		if err := f.q.Ack(seqs...); err != nil {
			t.Fatal(err)
		}
		if f.q.Stats().Entries == 0 {
			break
		}
	}
	forceCheckpoint(t, f.q)
	if files := segFiles(t, f.path); len(files[Low]) != 1 || len(files[High]) != 1 {
		t.Errorf("after acking everything: %d low and %d high segments, want 1 each (appended to)", len(files[Low]), len(files[High]))
	}
	one := size(entry(Low, "k", "000"))
	cfg := Config{MaxBytes: 50 * one, MaxAge: time.Hour} // retention drops whole segments too
	_ = f.q.Close()
	f.reopen(t, cfg)
	for i := range 1000 {
		mustAppend(t, f.q, entry(Low, "k", fmt.Sprintf("%03d", i%1000)))
	}
	forceCheckpoint(t, f.q)
	if n := dirSize(t, f.path); n > 50*one+4*testSegSize+1024 {
		t.Errorf("%d bytes on disk for a bound of %d", n, 50*one)
	}
	checkCounters(t, f.q)
}

// TestLocked: one process (one Open) at a time.
func TestLocked(t *testing.T) {
	f := open(t, testConfig())
	start := time.Now()
	_, err := Open(f.path, testConfig(), Deps{Name: "second"})
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open = %v, want in use", err)
	}
	if d := time.Since(start); d < lockTimeout {
		t.Errorf("gave up after %v, want to wait %v", d, lockTimeout)
	}
	_ = f.q.Close()
	q, err := Open(f.path, testConfig(), Deps{Name: "second"})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	_ = q.Close()
}

// TestSymlinkedPath: the path may be a symbolic link to where the queue is
// to live (another file system), also before that directory exists.
func TestSymlinkedPath(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "uplink-cloud.db")
	if err := os.Symlink(filepath.Join(elsewhere, "queue.db"), path); err != nil {
		t.Fatal(err)
	}
	q, err := Open(path, testConfig(), Deps{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, q, entry(Low, "k", "1"))
	_ = q.Close()
	if files := segFiles(t, filepath.Join(elsewhere, "queue.db")); len(files[Low]) != 1 {
		t.Errorf("segments in the link's target: %v", files)
	}
	if q, err = Open(path, testConfig(), Deps{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if s := q.Stats(); s.Entries != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestDefaultConfigNoFsync(t *testing.T) {
	if c := DefaultConfig(); c.Fsync || c.MaxBytes != 1<<30 || c.MaxAge != 7*24*time.Hour {
		t.Errorf("DefaultConfig() = %+v, want fsync off, 1 GiB, 7 days", c)
	}
}

func TestAppendTooLarge(t *testing.T) {
	f := open(t, testConfig())
	err := f.q.Append(t.Context(), []Entry{{Data: make([]byte, maxPayload)}})
	if err == nil || !strings.Contains(err.Error(), "fit a frame") {
		t.Errorf("Append = %v, want too large", err)
	}
}
