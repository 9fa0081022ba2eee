package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Dir plays the images (.jpg, .jpeg, .png) of a directory in name order
// at FPS, over and over when Loop is set. The directory is listed again
// at each pass, so pictures can be added while it runs.
type Dir struct {
	Path string
	FPS  float64 // 1 when 0
	Loop bool
}

func (d *Dir) String() string { return "dir " + d.Path }

// Run emits the pictures until ctx ends (nil) or, without Loop, the
// last one was emitted (an error: the source has ended).
func (d *Dir) Run(ctx context.Context, emit func(Frame) bool) error {
	fps := d.FPS
	if fps <= 0 {
		fps = 1
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / fps))
	defer tick.Stop()
	for {
		files, err := d.list()
		if err != nil {
			return err
		}
		for _, f := range files {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("dir source: %w", err)
			}
			emit(Frame{Encoded: b, Time: time.Now()}) // fresh each time: kept or not
		}
		if !d.Loop {
			return fmt.Errorf("dir source %s: all %d images played", d.Path, len(files))
		}
	}
}

func (d *Dir) list() ([]string, error) {
	entries, err := os.ReadDir(d.Path)
	if err != nil {
		return nil, fmt.Errorf("dir source: %w", err)
	}
	var files []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png":
			if !e.IsDir() {
				files = append(files, filepath.Join(d.Path, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dir source %s: no .jpg, .jpeg or .png images", d.Path)
	}
	slices.Sort(files)
	return files, nil
}
