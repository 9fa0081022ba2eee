package source

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// children lists this process's child PIDs (from /proc).
func children(t *testing.T) string {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	var all []string
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		all = append(all, strings.Fields(string(b))...)
	}
	return strings.Join(all, " ")
}

// collect runs src until n frames arrived, then stops it.
func collect(t *testing.T, src Source, n int) []Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var frames []Frame
	err := src.Run(ctx, func(f Frame) bool {
		mu.Lock()
		defer mu.Unlock()
		if frames = append(frames, f); len(frames) == n {
			cancel()
		}
		return true // kept: the test reads it afterwards
	})
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if len(frames) < n {
		t.Fatalf("%s: %d frames, want %d", src, len(frames), n)
	}
	return frames
}

// TestFFmpegTestsrc: ffmpeg decodes lavfi's testsrc (a live camera) to
// raw RGB frames of the asked size; stopping kills and reaps it.
func TestFFmpegTestsrc(t *testing.T) {
	testkit.RequireCommand(t, "ffmpeg", "ffmpeg")
	src := &FFmpeg{Input: "testsrc=size=640x480:rate=30", InputArgs: []string{"-re", "-f", "lavfi"},
		Width: 224, Height: 224}
	frames := collect(t, src, 5)
	for _, f := range frames {
		if f.Width != 224 || f.Height != 224 || len(f.RGB) != 224*224*3 || f.Encoded != nil {
			t.Fatalf("frame %dx%d, %d bytes", f.Width, f.Height, len(f.RGB))
		}
	}
	if !bytes.ContainsFunc(frames[0].RGB, func(r rune) bool { return r != 0 }) {
		t.Fatal("black frame")
	}
	if c := children(t); c != "" {
		t.Fatalf("child processes left: %s", c)
	}
}

// TestFFmpegFailureIsReported: an input ffmpeg cannot open ends Run with
// ffmpeg's own message.
func TestFFmpegFailureIsReported(t *testing.T) {
	testkit.RequireCommand(t, "ffmpeg", "ffmpeg")
	src := &FFmpeg{Input: filepath.Join(t.TempDir(), "missing.mp4"), Width: 8, Height: 8}
	err := src.Run(context.Background(), func(Frame) bool { t.Fatal("frame from nothing"); return false })
	if err == nil || !strings.Contains(err.Error(), "No such file") {
		t.Fatalf("err = %v", err)
	}
}

func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 200, 255})
		}
	}
	return img
}

// TestMJPEGOverHTTP: pictures from a multipart/x-mixed-replace server
// arrive encoded and decode to their size and colours.
func TestMJPEGOverHTTP(t *testing.T) {
	var pic bytes.Buffer
	if err := jpeg.Encode(&pic, testImage(64, 48), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw := multipart.NewWriter(w)
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+mw.Boundary())
		for i := 0; r.Context().Err() == nil && i < 100; i++ {
			pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
			if err != nil {
				return
			}
			_, _ = pw.Write(pic.Bytes())
			w.(http.Flusher).Flush()
			time.Sleep(10 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	frames := collect(t, &MJPEG{URL: srv.URL}, 3)
	f, err := frames[2].Decode()
	if err != nil {
		t.Fatal(err)
	}
	if f.Width != 64 || f.Height != 48 || len(f.RGB) != 64*48*3 {
		t.Fatalf("decoded %dx%d", f.Width, f.Height)
	}
	if b := f.RGB[(10*64+40)*3+2]; b < 190 || b > 210 {
		t.Fatalf("blue = %d, want about 200", b)
	}
}

func TestMJPEGRefusesNonMultipart(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
	}))
	t.Cleanup(srv.Close)
	err := (&MJPEG{URL: srv.URL}).Run(context.Background(), func(Frame) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "multipart") {
		t.Fatalf("err = %v", err)
	}
}

// TestDirPlaysImages: a directory's PNGs in name order, looped.
func TestDirPlaysImages(t *testing.T) {
	dir := t.TempDir()
	for i, w := range []int{10, 20} {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, testImage(w, 5)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	frames := collect(t, &Dir{Path: dir, FPS: 100, Loop: true}, 4)
	for i, want := range []int{10, 20, 10, 20} {
		f, err := frames[i].Decode()
		if err != nil || f.Width != want {
			t.Fatalf("frame %d: width %d, %v", i, f.Width, err)
		}
		if got := f.RGB[3*(want-1)]; got != uint8((want-1)*255/want) {
			t.Fatalf("frame %d: red %d", i, got)
		}
	}
	err := (&Dir{Path: t.TempDir()}).Run(context.Background(), func(Frame) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "no .jpg") {
		t.Fatalf("empty dir: %v", err)
	}
}

// TestToRGBMatchesAt: the fast conversions agree with image.At.
func TestToRGBMatchesAt(t *testing.T) {
	var jpg bytes.Buffer
	_ = jpeg.Encode(&jpg, testImage(33, 17), nil)
	yc, _, err := image.Decode(&jpg)
	if err != nil {
		t.Fatal(err)
	}
	gray := image.NewGray(image.Rect(0, 0, 7, 3))
	gray.Pix[5] = 77
	for name, img := range map[string]image.Image{"ycbcr": yc, "nrgba": testImage(9, 4), "gray": gray,
		"paletted": image.NewPaletted(image.Rect(0, 0, 3, 3), color.Palette{color.RGBA{1, 2, 3, 255}})} {
		t.Run(name, func(t *testing.T) {
			rgb, w, h := ToRGB(img, nil)
			for y := range h {
				for x := range w {
					r, g, b, _ := color.RGBAModel.Convert(img.At(x, y)).RGBA()
					o := (y*w + x) * 3
					if rgb[o] != uint8(r>>8) || rgb[o+1] != uint8(g>>8) || rgb[o+2] != uint8(b>>8) {
						t.Fatalf("(%d,%d) = %v, At %v %v %v", x, y, rgb[o:o+3], r>>8, g>>8, b>>8)
					}
				}
			}
		})
	}
}

// FuzzDecode: any bytes from a camera decode to a consistent frame or
// an error, never a panic or a frame larger than MaxPixels.
func FuzzDecode(f *testing.F) {
	var j, p bytes.Buffer
	_ = jpeg.Encode(&j, testImage(8, 6), nil)
	_ = png.Encode(&p, testImage(5, 3))
	f.Add(j.Bytes())
	f.Add(p.Bytes())
	f.Add([]byte("\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Frame{Encoded: b}.Decode()
		if err != nil {
			return
		}
		if fr.Width*fr.Height > MaxPixels || len(fr.RGB) != fr.Width*fr.Height*3 {
			t.Fatalf("frame %dx%d with %d bytes", fr.Width, fr.Height, len(fr.RGB))
		}
	})
}
