// Package source reads camera frames: ffmpeg as a child process decoding
// anything it can open (RTSP, HTTP, a V4L2 device, a file) to raw RGB24,
// MJPEG over HTTP (multipart/x-mixed-replace), and a directory of images.
// A Source runs until its context ends or the stream fails; reconnecting
// with backoff is the caller's job.
package source

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // decoders for MJPEG parts and image files
	_ "image/png"
	"time"
)

// Frame is one picture: RGB24 rows without padding, or still encoded
// (JPEG/PNG) until Decode, so that frames the pipeline skips cost no
// decoding.
type Frame struct {
	RGB           []byte
	Width, Height int
	Encoded       []byte
	Time          time.Time // when it was read
	pool          *bufPool  // where RGB goes back on Release (nil: nowhere)
}

// Release hands the frame's RGB buffer back to its source for a later
// frame. Call it at most once per kept frame, after the last read of
// RGB; a frame never released is simply garbage collected.
func (f Frame) Release() {
	if f.pool != nil {
		f.pool.put(f.RGB)
	}
}

// Source produces frames. Run calls emit for every frame, on Run's
// goroutine, and returns nil when ctx ends or an error when the source
// fails or ends. emit returns whether it keeps the frame: a kept frame's
// buffers belong to the caller (until Release); those of a frame not
// kept stay the source's, which may reuse them once emit has returned.
type Source interface {
	Run(ctx context.Context, emit func(Frame) bool) error
	String() string
}

// MaxPixels bounds the pictures Decode accepts (4096×4096), so that a
// header claiming a huge size cannot make it allocate gigabytes.
const MaxPixels = 4096 * 4096

// Decode returns f with RGB filled in (f itself when it is raw already).
func (f Frame) Decode() (Frame, error) {
	if f.Encoded == nil {
		return f, nil
	}
	hdr, _, err := image.DecodeConfig(bytes.NewReader(f.Encoded))
	if err != nil {
		return f, fmt.Errorf("decode image: %w", err)
	}
	if hdr.Width < 1 || hdr.Height < 1 || hdr.Width*hdr.Height > MaxPixels {
		return f, fmt.Errorf("decode image: %dx%d is outside 1..%d pixels", hdr.Width, hdr.Height, MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(f.Encoded))
	if err != nil {
		return f, fmt.Errorf("decode image: %w", err)
	}
	f.RGB, f.Width, f.Height = ToRGB(img, f.RGB[:0])
	f.Encoded = nil
	return f, nil
}

// ToRGB converts img to RGB24 rows, appending to dst, without a
// per-pixel interface call for the common JPEG and PNG image types.
func ToRGB(img image.Image, dst []byte) ([]byte, int, int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dst = grow(dst, w*h*3)
	switch m := img.(type) {
	case *image.YCbCr:
		ycbcr(m, dst)
	case *image.RGBA:
		rgba(m.Pix, m.Stride, w, h, dst)
	case *image.NRGBA:
		rgba(m.Pix, m.Stride, w, h, dst) // alpha dropped, as a camera has none
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				o := (y*w + x) * 3
				dst[o], dst[o+1], dst[o+2] = v, v, v
			}
		}
	default:
		c := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(c, c.Bounds(), img, b.Min, draw.Src)
		rgba(c.Pix, c.Stride, w, h, dst)
	}
	return dst, w, h
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func rgba(pix []byte, stride, w, h int, dst []byte) {
	for y := range h {
		row := pix[y*stride : y*stride+w*4]
		d := dst[y*w*3 : (y+1)*w*3]
		for x := range w {
			d[x*3], d[x*3+1], d[x*3+2] = row[x*4], row[x*4+1], row[x*4+2]
		}
	}
}

func ycbcr(m *image.YCbCr, dst []byte) {
	b := m.Rect
	w := b.Dx()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		o := (y - b.Min.Y) * w * 3
		for x := b.Min.X; x < b.Max.X; x++ {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			r, g, bl := yToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			dst[o], dst[o+1], dst[o+2] = r, g, bl
			o += 3
		}
	}
}

// yToRGB is color.YCbCrToRGB (JFIF), inlined.
func yToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy := int32(y) * 0x10101
	cb1, cr1 := int32(cb)-128, int32(cr)-128
	r := clamp(yy + 91881*cr1)
	g := clamp(yy - 22554*cb1 - 46802*cr1)
	b := clamp(yy + 116130*cb1)
	return r, g, b
}

func clamp(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	if v < 0 {
		return 0
	}
	return 255
}
