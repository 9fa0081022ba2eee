package vision

import (
	"context"
	"testing"
	"time"
)

// TestQueueOverflowCountsExactly: pushing n jobs into a queue of size s
// drops exactly n-s, the oldest (drop_oldest) or the newest (drop_newest).
func TestQueueOverflowCountsExactly(t *testing.T) {
	for _, tc := range []struct {
		name       string
		size, push int
		dropNewest bool
		wantKept   []uint64
	}{
		{"fits", 5, 3, false, []uint64{1, 2, 3}},
		{"drop oldest", 3, 10, false, []uint64{8, 9, 10}},
		{"drop newest", 3, 10, true, []uint64{1, 2, 3}},
		{"size one", 1, 50, false, []uint64{50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := newQueue(tc.size, tc.dropNewest)
			dropped := 0
			for i := 1; i <= tc.push; i++ {
				if d := q.push(&job{seq: uint64(i)}); d != nil {
					dropped++
				}
			}
			if want := tc.push - len(tc.wantKept); dropped != want {
				t.Fatalf("dropped %d, want %d", dropped, want)
			}
			var kept []uint64
			for q.len() > 0 {
				kept = append(kept, q.pop(context.Background()).seq)
			}
			if len(kept) != len(tc.wantKept) {
				t.Fatalf("kept %v, want %v", kept, tc.wantKept)
			}
			for i := range kept {
				if kept[i] != tc.wantKept[i] {
					t.Fatalf("kept %v, want %v", kept, tc.wantKept)
				}
			}
		})
	}
}

// TestQueueCloseWakesWorkers: closing hands back what is queued, refuses
// further pushes and ends every waiting pop.
func TestQueueCloseWakesWorkers(t *testing.T) {
	q := newQueue(4, false)
	done := make(chan struct{})
	for range 3 {
		go func() {
			for q.pop(context.Background()) != nil {
			}
			done <- struct{}{}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if left := q.close(); len(left) != 0 {
		t.Fatalf("left %d", len(left))
	}
	for range 3 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("a pop did not end after close")
		}
	}
	if d := q.push(&job{seq: 1}); d == nil || d.seq != 1 {
		t.Fatal("push after close accepted")
	}
}

func TestTopK(t *testing.T) {
	v := []float32{0.1, 0.5, 0.05, 0.3, 0.05}
	for _, tc := range []struct {
		k    int
		min  float64
		want []int
	}{
		{1, 0, []int{1}},
		{3, 0, []int{1, 3, 0}},
		{3, 0.2, []int{1, 3}},
		{2, 0.7, nil},
	} {
		got := topK(v, tc.k, tc.min, nil)
		if len(got) != len(tc.want) {
			t.Fatalf("topK(%d, %v) = %v, want %v", tc.k, tc.min, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("topK(%d, %v) = %v, want %v", tc.k, tc.min, got, tc.want)
			}
		}
	}
}

func TestSoftmax(t *testing.T) {
	v := []float32{1, 2, 3}
	softmax(v)
	if v[2] < 0.66 || v[2] > 0.67 || v[0]+v[1]+v[2] < 0.999 {
		t.Fatalf("softmax = %v", v)
	}
}

func TestRingP99(t *testing.T) {
	var r ring
	for i := 1; i <= 100; i++ {
		r.add(time.Duration(i) * time.Millisecond)
	}
	avg, p99 := r.avgP99()
	if avg != 50.5 || p99 != 99 {
		t.Fatalf("avg %v p99 %v", avg, p99)
	}
}
