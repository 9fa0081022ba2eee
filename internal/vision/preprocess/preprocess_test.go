package preprocess

import (
	"fmt"
	"math"
	"testing"
)

func seedSpec(layout string) Spec {
	return Spec{Width: 224, Height: 224, Layout: layout, Scale: 1.0 / 255, Std: [3]float32{1, 1, 1}}
}

// frame is a w×h RGB24 test pattern.
func frame(w, h int) []byte {
	b := make([]byte, w*h*3)
	for i := range b {
		px := i / 3
		b[i] = byte((px%w + 2*(px/w) + 85*(i%3)) % 256)
	}
	return b
}

func TestSameSizeIsNormalizationOnly(t *testing.T) {
	for _, layout := range []string{NHWC, NCHW} {
		// the same-size path agrees with the resampling path (via 448→224 of a doubled frame)
		src := frame(224, 224)
		big := make([]byte, 448*448*3)
		for y := range 448 {
			for x := range 448 {
				copy(big[(y*448+x)*3:], src[((y/2)*224+x/2)*3:((y/2)*224+x/2)*3+3])
			}
		}
		fast, slow := make([]float32, 224*224*3), make([]float32, 224*224*3)
		p := New(seedSpec(layout))
		if p.Into(fast, src, 224, 224) != nil || p.Into(slow, big, 448, 448) != nil {
			t.Fatal("preprocess failed")
		}
		for i := range fast {
			if math.Abs(float64(fast[i]-slow[i])) > 1e-6 {
				t.Fatalf("%s value %d: same-size %v, resampled %v", layout, i, fast[i], slow[i])
			}
		}
	}
	for _, tc := range []struct {
		name   string
		spec   Spec
		expect func(v byte, c int) float32
	}{
		{"scale", seedSpec(NHWC), func(v byte, _ int) float32 { return float32(v) / 255 }},
		{"imagenet", Spec{Width: 224, Height: 224, Layout: NHWC, Scale: 1.0 / 255,
			Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}},
			func(v byte, c int) float32 {
				m, s := [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
				return (float32(v)/255 - m[c]) / s[c]
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := frame(224, 224)
			dst := make([]float32, tc.spec.Elements())
			if err := New(tc.spec).Into(dst, src, 224, 224); err != nil {
				t.Fatal(err)
			}
			for i, v := range src {
				if want := tc.expect(v, i%3); math.Abs(float64(dst[i]-want)) > 1e-5 {
					t.Fatalf("value %d: %v, want %v", i, dst[i], want)
				}
			}
		})
	}
}

// TestLayouts: NCHW holds the same values as NHWC, planar.
func TestLayouts(t *testing.T) {
	src := frame(640, 480)
	hwc := make([]float32, 224*224*3)
	chw := make([]float32, 224*224*3)
	if err := New(seedSpec(NHWC)).Into(hwc, src, 640, 480); err != nil {
		t.Fatal(err)
	}
	if err := New(seedSpec(NCHW)).Into(chw, src, 640, 480); err != nil {
		t.Fatal(err)
	}
	for p := range 224 * 224 {
		for c := range 3 {
			if hwc[p*3+c] != chw[c*224*224+p] {
				t.Fatalf("pixel %d channel %d: NHWC %v, NCHW %v", p, c, hwc[p*3+c], chw[c*224*224+p])
			}
		}
	}
}

// TestDownscaleBilinear: a horizontal ramp stays a ramp (linear data is
// reproduced exactly by bilinear interpolation) and a flat colour stays flat.
func TestDownscaleBilinear(t *testing.T) {
	w, h := 448, 448
	src := make([]byte, w*h*3)
	for y := range h {
		for x := range w {
			o := (y*w + x) * 3
			src[o], src[o+1], src[o+2] = byte(x/2), 100, byte(y/2)
		}
	}
	spec := Spec{Width: 224, Height: 224, Layout: NHWC, Scale: 1, Std: [3]float32{1, 1, 1}}
	dst := make([]float32, spec.Elements())
	if err := New(spec).Into(dst, src, w, h); err != nil {
		t.Fatal(err)
	}
	for y := range 224 {
		for x := range 224 {
			o := (y*224 + x) * 3
			// source x = 2x+0.5 → between columns 2x and 2x+1, both value x.
			if dst[o] != float32(x) || dst[o+1] != 100 || dst[o+2] != float32(y) {
				t.Fatalf("(%d,%d) = %v", x, y, dst[o:o+3])
			}
		}
	}
}

// bilinear64 is the reference: OpenCV's INTER_LINEAR (centres aligned,
// edges clamped) in float64, for channel c at output (x, y).
func bilinear64(src []byte, w, h, dw, dh, x, y, c int) float64 {
	coord := func(d, n, dn int) (int, int, float64) {
		s := max((float64(d)+0.5)*float64(n)/float64(dn)-0.5, 0)
		i0 := min(int(s), n-1)
		return i0, min(i0+1, n-1), s - float64(i0)
	}
	x0, x1, wx := coord(x, w, dw)
	y0, y1, wy := coord(y, h, dh)
	at := func(x, y int) float64 { return float64(src[(y*w+x)*3+c]) }
	top := at(x0, y0) + wx*(at(x1, y0)-at(x0, y0))
	bot := at(x0, y1) + wx*(at(x1, y1)-at(x0, y1))
	return top + wy*(bot-top)
}

// TestResizeMatchesReference: the integer interpolation (weights in
// 1/2048) stays within 1/8 of a level of the float64 bilinear value, for
// downscales and an upscale, in both layouts.
func TestResizeMatchesReference(t *testing.T) {
	for _, tc := range []struct{ w, h int }{{640, 480}, {1280, 720}, {300, 200}, {100, 90}} {
		for _, layout := range []string{NHWC, NCHW} {
			t.Run(fmt.Sprintf("%dx%d/%s", tc.w, tc.h, layout), func(t *testing.T) {
				src := frame(tc.w, tc.h)
				for i := range src { // not a ramp: neighbours differ a lot
					src[i] ^= byte(i * 131)
				}
				spec := Spec{Width: 224, Height: 224, Layout: layout, Scale: 1, Std: [3]float32{1, 1, 1}}
				dst := make([]float32, spec.Elements())
				if err := New(spec).Into(dst, src, tc.w, tc.h); err != nil {
					t.Fatal(err)
				}
				var worst float64
				for y := range 224 {
					for x := range 224 {
						for c := range 3 {
							o := (y*224+x)*3 + c
							if layout == NCHW {
								o = c*224*224 + y*224 + x
							}
							worst = max(worst, math.Abs(float64(dst[o])-bilinear64(src, tc.w, tc.h, 224, 224, x, y, c)))
						}
					}
				}
				if worst > 0.125 {
					t.Fatalf("off the float64 bilinear value by up to %.4f levels", worst)
				}
			})
		}
	}
}

func TestRejectsShortBuffers(t *testing.T) {
	p := New(seedSpec(NHWC))
	if err := p.Into(make([]float32, 10), frame(4, 4), 4, 4); err == nil {
		t.Fatal("short tensor accepted")
	}
	if err := p.Into(make([]float32, 224*224*3), make([]byte, 10), 4, 4); err == nil {
		t.Fatal("short frame accepted")
	}
}

func TestSpecValidate(t *testing.T) {
	bad := Spec{Width: 0, Height: 224, Layout: "HWC"}
	if err := bad.Validate(); err == nil {
		t.Fatal("bad spec accepted")
	}
	if err := seedSpec(NCHW).Validate(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPreprocess: the seed's 640×480 camera frame to MobileNetV2's
// input (issue: ≤ 1 ms), and a frame ffmpeg already scaled to 224×224.
func BenchmarkPreprocess(b *testing.B) {
	for _, tc := range []struct {
		w, h   int
		layout string
	}{{640, 480, NHWC}, {640, 480, NCHW}, {224, 224, NHWC}, {224, 224, NCHW}} {
		b.Run(fmt.Sprintf("%dx%d/%s", tc.w, tc.h, tc.layout), func(b *testing.B) {
			src := frame(tc.w, tc.h)
			p := New(seedSpec(tc.layout))
			dst := make([]float32, 224*224*3)
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if err := p.Into(dst, src, tc.w, tc.h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
