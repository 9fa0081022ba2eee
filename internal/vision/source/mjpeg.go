package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// MJPEG reads a multipart/x-mixed-replace stream of JPEG pictures over
// HTTP, as IP cameras serve it. Pictures are decoded only when the
// pipeline takes them (Frame.Decode).
type MJPEG struct {
	URL     string
	Client  *http.Client // http.DefaultClient when nil (no overall timeout: a stream is endless)
	MaxPart int          // largest picture accepted; 8 MiB when 0
}

func (m *MJPEG) String() string { return "mjpeg " + m.URL }

// Run connects and emits pictures until ctx ends (nil) or the stream
// breaks (an error).
func (m *MJPEG) Run(ctx context.Context, emit func(Frame) bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return fmt.Errorf("mjpeg: %w", err)
	}
	c := m.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("mjpeg %s: %w", m.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mjpeg %s: HTTP %s", m.URL, resp.Status)
	}
	boundary, err := boundaryOf(resp.Header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("mjpeg %s: %w", m.URL, err)
	}
	max := m.MaxPart
	if max <= 0 {
		max = 8 << 20
	}
	parts := NewPartReader(resp.Body, boundary, max)
	for {
		b, err := parts.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("mjpeg %s: stream ended", m.URL)
			}
			return fmt.Errorf("mjpeg %s: %w", m.URL, err)
		}
		emit(Frame{Encoded: b, Time: time.Now()}) // fresh each time: kept or not
	}
}

func boundaryOf(contentType string) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("content type %q: %w", contentType, err)
	}
	if !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return "", fmt.Errorf("content type %q is not multipart with a boundary", contentType)
	}
	return params["boundary"], nil
}
