// Package preprocess turns an RGB24 frame into a model's float32 input
// tensor: bilinear resize (pixel centres aligned, as OpenCV's INTER_LINEAR),
// normalization (v·scale − mean) / std per channel, NHWC or NCHW layout.
// Index and weight tables are computed once per source size, so the hot
// loop is loads, integer lerps (weights in 1/2048) and one conversion and
// multiply-add per value.
package preprocess

import (
	"errors"
	"fmt"
)

// Layouts of the output tensor.
const (
	NHWC = "NHWC"
	NCHW = "NCHW"
)

// Spec describes the tensor a model takes (batch 1, 3 channels, RGB order).
type Spec struct {
	Width, Height int
	Layout        string
	Scale         float32    // applied first, e.g. 1/255
	Mean, Std     [3]float32 // per channel, after Scale
}

// Validate reports problems in Spec.
func (s Spec) Validate() error {
	var errs []error
	if s.Width < 1 || s.Height < 1 {
		errs = append(errs, fmt.Errorf("size %dx%d must be positive", s.Width, s.Height))
	}
	if s.Layout != NHWC && s.Layout != NCHW {
		errs = append(errs, fmt.Errorf("layout %q is not one of NHWC, NCHW", s.Layout))
	}
	for c, v := range s.Std {
		if v == 0 {
			errs = append(errs, fmt.Errorf("std[%d] must not be 0", c))
		}
	}
	return errors.Join(errs...)
}

// Elements is the number of float32 values of one tensor.
func (s Spec) Elements() int { return s.Width * s.Height * 3 }

// wbits is the precision of the interpolation weights: 1/2048 of a
// pixel, so a lerp of bytes is exact to 1/8 of a level.
const wbits = 11

// tap is one output coordinate's two source coordinates and the weight
// of the second, in 1/2^wbits.
type tap struct {
	i0, i1 int
	w      int32
}

// Preprocessor converts frames for one Spec. Not safe for concurrent use
// (it caches tables for the last source size): one per worker.
type Preprocessor struct {
	spec       Spec
	a, b       [3]float32 // out = v*a + b
	srcW, srcH int
	xs, ys     []tap
}

// New returns a Preprocessor for a valid spec.
func New(spec Spec) *Preprocessor {
	p := &Preprocessor{spec: spec}
	for c := range 3 {
		p.a[c] = spec.Scale / spec.Std[c]
		p.b[c] = -spec.Mean[c] / spec.Std[c]
	}
	return p
}

// Into writes the tensor of the w×h RGB24 frame rgb into dst, which must
// hold Spec.Elements() values.
func (p *Preprocessor) Into(dst []float32, rgb []byte, w, h int) error {
	if w < 1 || h < 1 || len(rgb) < w*h*3 {
		return fmt.Errorf("frame %dx%d needs %d bytes, has %d", w, h, w*h*3, len(rgb))
	}
	if len(dst) < p.spec.Elements() {
		return fmt.Errorf("tensor buffer holds %d values, needs %d", len(dst), p.spec.Elements())
	}
	if w == p.spec.Width && h == p.spec.Height {
		p.same(dst, rgb)
		return nil
	}
	if w != p.srcW || h != p.srcH {
		p.srcW, p.srcH = w, h
		p.xs = taps(p.xs[:0], w, p.spec.Width, 3)
		p.ys = taps(p.ys[:0], h, p.spec.Height, w*3)
	}
	if p.spec.Layout == NCHW {
		p.nchw(dst, rgb)
	} else {
		p.nhwc(dst, rgb)
	}
	return nil
}

// same normalizes a frame that already has the model's size.
func (p *Preprocessor) same(dst []float32, rgb []byte) {
	n := p.spec.Width * p.spec.Height
	rgb = rgb[:n*3]
	a0, a1, a2, b0, b1, b2 := p.a[0], p.a[1], p.a[2], p.b[0], p.b[1], p.b[2]
	if p.spec.Layout == NHWC {
		dst = dst[:n*3]
		for i := 0; i < len(rgb); i += 3 {
			s, d := rgb[i:i+3:i+3], dst[i:i+3:i+3]
			d[0], d[1], d[2] = float32(s[0])*a0+b0, float32(s[1])*a1+b1, float32(s[2])*a2+b2
		}
		return
	}
	d0, d1, d2 := dst[:n], dst[n:2*n], dst[2*n:3*n]
	for i := range n {
		s := rgb[i*3 : i*3+3 : i*3+3]
		d0[i], d1[i], d2[i] = float32(s[0])*a0+b0, float32(s[1])*a1+b1, float32(s[2])*a2+b2
	}
}

// taps maps dst coordinates onto src (centres aligned), as byte offsets
// (coordinate × stride).
func taps(t []tap, src, dst, stride int) []tap {
	ratio := float32(src) / float32(dst)
	for d := range dst {
		s := (float32(d)+0.5)*ratio - 0.5
		s = max(s, 0)
		i0 := min(int(s), src-1)
		i1 := min(i0+1, src-1)
		w := int32((s-float32(i0))*(1<<wbits) + 0.5)
		t = append(t, tap{i0: i0 * stride, i1: i1 * stride, w: w})
	}
	return t
}

// lerpScale undoes the two lerps' weight scale (2^wbits each).
const lerpScale = 1.0 / (1 << (2 * wbits))

func (p *Preprocessor) nhwc(dst []float32, rgb []byte) {
	a0, a1, a2 := p.a[0]*lerpScale, p.a[1]*lerpScale, p.a[2]*lerpScale
	b0, b1, b2 := p.b[0], p.b[1], p.b[2]
	o := 0
	for _, y := range p.ys {
		r0, r1 := rgb[y.i0:], rgb[y.i1:]
		for _, x := range p.xs {
			v0, v1, v2 := lerp2(r0, r1, x, y.w)
			d := dst[o : o+3 : o+3]
			d[0], d[1], d[2] = v0*a0+b0, v1*a1+b1, v2*a2+b2
			o += 3
		}
	}
}

func (p *Preprocessor) nchw(dst []float32, rgb []byte) {
	plane := p.spec.Width * p.spec.Height
	d0, d1, d2 := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	a0, a1, a2 := p.a[0]*lerpScale, p.a[1]*lerpScale, p.a[2]*lerpScale
	b0, b1, b2 := p.b[0], p.b[1], p.b[2]
	o := 0
	for _, y := range p.ys {
		r0, r1 := rgb[y.i0:], rgb[y.i1:]
		for _, x := range p.xs {
			v0, v1, v2 := lerp2(r0, r1, x, y.w)
			d0[o], d1[o], d2[o] = v0*a0+b0, v1*a1+b1, v2*a2+b2
			o++
		}
	}
}

// lerp2 is the bilinear value of the three channels at x between rows r0
// and r1 (weight wy for r1), scaled by 2^(2·wbits): integer arithmetic,
// one conversion per channel (at most 255·2^22, well within int32).
func lerp2(r0, r1 []byte, x tap, wy int32) (float32, float32, float32) {
	p00, p01 := r0[x.i0:x.i0+3:x.i0+3], r0[x.i1:x.i1+3:x.i1+3]
	p10, p11 := r1[x.i0:x.i0+3:x.i0+3], r1[x.i1:x.i1+3:x.i1+3]
	return lerp1(p00[0], p01[0], p10[0], p11[0], x.w, wy),
		lerp1(p00[1], p01[1], p10[1], p11[1], x.w, wy),
		lerp1(p00[2], p01[2], p10[2], p11[2], x.w, wy)
}

func lerp1(v00, v01, v10, v11 byte, wx, wy int32) float32 {
	top := int32(v00)<<wbits + wx*(int32(v01)-int32(v00))
	bot := int32(v10)<<wbits + wx*(int32(v11)-int32(v10))
	return float32(top<<wbits + wy*(bot-top))
}
