package source

import (
	"bytes"
	"sync"
	"testing"
	"unsafe"
)

// rawFrames is n frames of w×h RGB24, frame i filled with byte i+1.
func rawFrames(w, h, n int) []byte {
	size := w * h * 3
	b := make([]byte, 0, size*n)
	for i := range n {
		b = append(b, bytes.Repeat([]byte{byte(i + 1)}, size)...)
	}
	return b
}

// TestFFmpegReadReusesBuffers: frames emit does not keep are read over
// (one buffer for all of them), kept frames are never overwritten while
// held, and released buffers come back, with the kept frames consumed
// and released on another goroutine (run with -race).
func TestFFmpegReadReusesBuffers(t *testing.T) {
	const w, h, n = 8, 4, 60
	for _, tc := range []struct {
		name       string
		everyNth   int
		release    bool
		maxBuffers int // distinct buffers seen (no frame buffer per frame)
	}{
		{"every 3rd kept and released", 3, true, 3},
		{"every frame kept and released", 1, true, 3},
		{"every 3rd kept and held", 3, false, n/3 + 1},
		{"none kept", n + 1, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &FFmpeg{Width: w, Height: h}
			kept := make(chan Frame) // released frames: at most the consumer's, the one read and one free

			var held []Frame
			var wg sync.WaitGroup
			wg.Go(func() {
				for fr := range kept {
					if tc.release {
						fr.Release()
					} else {
						held = append(held, fr)
					}
				}
			})
			bufs := map[*byte]bool{}
			seq, bad := 0, 0
			err := f.read(bytes.NewReader(rawFrames(w, h, n)), func(fr Frame) bool {
				seq++
				bufs[unsafe.SliceData(fr.RGB)] = true
				if len(fr.RGB) != w*h*3 || fr.RGB[0] != byte(seq) || fr.RGB[len(fr.RGB)-1] != byte(seq) {
					bad++
				}
				if seq%tc.everyNth != 0 {
					return false
				}
				kept <- fr
				return true
			})
			close(kept)
			wg.Wait()
			if err != nil || seq != n || bad != 0 {
				t.Fatalf("err %v, %d frames, %d with wrong content", err, seq, bad)
			}
			if len(bufs) > tc.maxBuffers {
				t.Errorf("%d buffers for %d frames, want at most %d", len(bufs), n, tc.maxBuffers)
			}
			for i, fr := range held {
				if want := byte((i + 1) * tc.everyNth); !bytes.Equal(fr.RGB, bytes.Repeat([]byte{want}, w*h*3)) {
					t.Fatalf("held frame %d overwritten (starts with %d, want %d)", i, fr.RGB[0], want)
				}
			}
		})
	}
}

// TestFFmpegReadAllocations: with every 3rd frame kept and released,
// reading allocates no frame buffer per frame (it did, 921,600 bytes
// for each 640×480 frame, skipped ones included).
func TestFFmpegReadAllocations(t *testing.T) {
	const w, h, n = 64, 48, 30
	stream := rawFrames(w, h, n)
	f := &FFmpeg{Width: w, Height: h}
	seq := 0
	emit := func(fr Frame) bool {
		seq++
		if seq%3 != 0 {
			return false
		}
		fr.Release()
		return true
	}
	allocs := testing.AllocsPerRun(20, func() {
		if err := f.read(bytes.NewReader(stream), emit); err != nil {
			t.Fatal(err)
		}
	})
	// The pool, its channel, one buffer and the reader: a few per run,
	// not one per frame.
	if allocs > 6 {
		t.Fatalf("%v allocations reading %d frames", allocs, n)
	}
}

func TestBufPoolRefusesForeignBuffers(t *testing.T) {
	p := newBufPool(12, 2)
	for _, b := range [][]byte{make([]byte, 6), make([]byte, 24), nil, make([]byte, 12, 24)} {
		p.put(b)
	}
	if len(p.free) != 0 {
		t.Fatalf("pool took %d foreign buffers", len(p.free))
	}
	own := p.get()
	p.put(own)
	p.put(make([]byte, 12))
	p.put(make([]byte, 12)) // over the bound: dropped
	if len(p.free) != 2 || unsafe.SliceData(p.get()) != unsafe.SliceData(own) {
		t.Fatalf("pool holds %d buffers", len(p.free))
	}
}
