package queue

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is an injectable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	q    *Queue
	reg  *prometheus.Registry
	clk  *clock
	path string
}

func open(t testing.TB, cfg Config) *fixture {
	t.Helper()
	f := &fixture{reg: prometheus.NewRegistry(), clk: &clock{t: time.Unix(1_700_000_000, 0)},
		path: filepath.Join(t.TempDir(), "q.db")}
	f.reopen(t, cfg)
	return f
}

func (f *fixture) reopen(t testing.TB, cfg Config) {
	t.Helper()
	q, err := Open(f.path, cfg, Deps{Registry: f.reg, Name: "test", Now: f.clk.Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	q.segSize = testSegSize // many segments: rotation and deletion are exercised everywhere
	f.q = q
	t.Cleanup(func() { _ = q.Close() })
}

func testConfig() Config { return Config{MaxBytes: 1 << 20, MaxAge: time.Hour} }

// testSegSize is the segment size of the test fixture's queues.
const testSegSize = 512

func entry(p Priority, key, data string) Entry {
	return Entry{Priority: p, Key: key, Data: []byte(data)}
}

func mustAppend(t testing.TB, q *Queue, es ...Entry) {
	t.Helper()
	if err := q.Append(context.Background(), es); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

// next returns the data of up to max handed-out entries (never blocks:
// callers only ask when entries are pending).
func next(t testing.TB, q *Queue, max int) ([]string, []uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	items, err := q.Next(ctx, max)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	var data []string
	var seqs []uint64
	for _, it := range items {
		data = append(data, string(it.Data))
		seqs = append(seqs, it.Seq)
	}
	return data, seqs
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"default", DefaultConfig(), nil},
		{"zero", Config{}, []string{"max_bytes", "max_age"}},
		{"negative age", Config{MaxBytes: 1, MaxAge: -time.Second}, []string{"max_age"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (len(tt.want) == 0) {
				t.Fatalf("Validate() = %v, want errors naming %v", err, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, does not name %s", err, w)
				}
			}
		})
	}
}

func TestOrdering(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, q *Queue) []string
		want []string
	}{
		{"high before low, then by sequence", func(t *testing.T, q *Queue) []string {
			mustAppend(t, q, entry(Low, "a", "l1"), entry(Low, "b", "l2"))
			mustAppend(t, q, entry(High, "alert", "h1"), entry(Low, "a", "l3"))
			mustAppend(t, q, entry(High, "alert", "h2"))
			got, _ := next(t, q, 10)
			return got
		}, []string{"h1", "h2", "l1", "l2", "l3"}},
		{"per key order across batches and max", func(t *testing.T, q *Queue) []string {
			for i := range 5 {
				mustAppend(t, q, entry(Low, "k", fmt.Sprint(i)), entry(Low, "j", fmt.Sprint("j", i)))
			}
			var all []string
			for range 10 {
				got, seqs := next(t, q, 3)
				all = append(all, got...)
				if err := q.Ack(seqs...); err != nil {
					t.Fatal(err)
				}
				if len(all) == 10 {
					break
				}
			}
			var k []string
			for _, s := range all {
				if !strings.HasPrefix(s, "j") {
					k = append(k, s)
				}
			}
			return k
		}, []string{"0", "1", "2", "3", "4"}},
		{"nack hands out again in sequence order, before later entries", func(t *testing.T, q *Queue) []string {
			mustAppend(t, q, entry(Low, "k", "1"), entry(Low, "k", "2"), entry(Low, "k", "3"), entry(Low, "k", "4"))
			_, seqs := next(t, q, 2)
			q.Nack(seqs[1], seqs[0])
			got, _ := next(t, q, 10)
			return got
		}, []string{"1", "2", "3", "4"}},
		{"nacked low waits for pending high", func(t *testing.T, q *Queue) []string {
			mustAppend(t, q, entry(Low, "k", "l1"))
			_, seqs := next(t, q, 1)
			mustAppend(t, q, entry(High, "a", "h1"))
			q.Nack(seqs...)
			got, _ := next(t, q, 10)
			return got
		}, []string{"h1", "l1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := open(t, testConfig())
			got := tt.run(t, f.q)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReopenKeepsUnacked(t *testing.T) {
	f := open(t, testConfig())
	mustAppend(t, f.q, entry(Low, "k", "1"), entry(Low, "k", "2"), entry(High, "a", "3"), entry(Low, "k", "4"))
	_, seqs := next(t, f.q, 2) // "3" and "1" in flight
	if err := f.q.Ack(seqs[0]); err != nil {
		t.Fatal(err)
	}
	if err := f.q.Close(); err != nil {
		t.Fatal(err)
	}
	f.reopen(t, testConfig())
	got, _ := next(t, f.q, 10)
	if want := "[1 2 4]"; fmt.Sprint(got) != want {
		t.Errorf("after reopen = %v, want %s", got, want)
	}
	mustAppend(t, f.q, entry(Low, "k", "5"))
	_, seqs = next(t, f.q, 10)
	if len(seqs) != 1 || seqs[0] != 5 {
		t.Errorf("seq after reopen = %v, want [5] (sequences never reused)", seqs)
	}
}

func TestAppendErrors(t *testing.T) {
	f := open(t, testConfig())
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.q.Append(canceled, []Entry{entry(Low, "k", "x")}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: %v", err)
	}
	if err := f.q.Append(context.Background(), []Entry{{Priority: 7}}); err == nil {
		t.Error("priority 7 accepted")
	}
	if err := f.q.Close(); err != nil {
		t.Fatal(err)
	}
	err := f.q.Append(context.Background(), []Entry{entry(Low, "k", "x")})
	if !errors.Is(err, ErrClosed) {
		t.Errorf("closed queue: Append = %v, want ErrClosed", err)
	}
	if _, err := f.q.Next(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Errorf("closed queue: Next = %v, want ErrClosed", err)
	}
	if err := f.q.Ack(1); !errors.Is(err, ErrClosed) {
		t.Errorf("closed queue: Ack = %v, want ErrClosed", err)
	}
}

func TestAppendErrorCounted(t *testing.T) {
	f := open(t, testConfig())
	_ = f.q.Close()
	// Reopen on the same registry: Close unregistered the metrics.
	q, err := Open(f.path, testConfig(), Deps{Registry: f.reg, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range q.logs { // the files go away under the queue: the commit fails
		_ = l.active().f.Close()
	}
	if err := q.Append(context.Background(), []Entry{entry(Low, "k", "x")}); err == nil {
		t.Fatal("Append on a closed database succeeded")
	}
	if got := testutil.ToFloat64(q.met.appendErrors); got != 1 {
		t.Errorf("append errors = %v, want 1", got)
	}
	q.mu.Lock()
	q.closed = true
	close(q.done)
	q.mu.Unlock()
	q.met.unregister()
	_ = unlockDir(q.lock)
}

func TestNextBlocks(t *testing.T) {
	f := open(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan []Item, 1)
	go func() {
		items, _ := f.q.Next(ctx, 10)
		got <- items
	}()
	mustAppend(t, f.q, entry(High, "a", "x"))
	if items := <-got; len(items) != 1 || string(items[0].Data) != "x" {
		t.Errorf("Next = %v, want x", items)
	}
	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := f.q.Next(short, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with ended ctx = %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := f.q.Next(context.Background(), 1); done <- err }()
	_ = f.q.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("Next across Close = %v, want ErrClosed", err)
	}
}

func TestConcurrentAppendGroupCommit(t *testing.T) {
	f := open(t, testConfig())
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				mustAppend(t, f.q, entry(Low, fmt.Sprint("k", w), fmt.Sprint(i)))
			}
		})
	}
	wg.Wait()
	s := f.q.Stats()
	if s.Entries != workers*each || s.Appends != workers*each || s.Commits == 0 || s.Commits > s.Appends {
		t.Fatalf("stats = %+v", s)
	}
	t.Logf("%d appends in %d commits", s.Appends, s.Commits)
	last := map[string]int{}
	for range workers * each {
		items, err := f.q.Next(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		var i int
		fmt.Sscan(string(items[0].Data), &i)
		if prev, ok := last[items[0].Key]; ok && i != prev+1 {
			t.Fatalf("key %s: %d after %d", items[0].Key, i, prev)
		}
		last[items[0].Key] = i
	}
}
