package source

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func readAll(t *testing.T, stream, boundary string, max int) ([]string, error) {
	t.Helper()
	r := NewPartReader(strings.NewReader(stream), boundary, max)
	var parts []string
	for {
		b, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return parts, nil
			}
			return parts, err
		}
		parts = append(parts, string(b))
	}
}

func TestPartReader(t *testing.T) {
	for _, tc := range []struct {
		name, stream, boundary string
		want                   []string
		err                    error
	}{
		{"content-length", "--b\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\n\r\nabc\r\n--b\r\nContent-Length: 2\r\n\r\nde\r\n--b--\r\n",
			"b", []string{"abc", "de"}, nil},
		{"no length", "--b\r\nContent-Type: image/jpeg\r\n\r\nab\r\ncd\r\n--b\r\n\r\nxyz\r\n--b--\r\n",
			"b", []string{"ab\r\ncd", "xyz"}, nil},
		{"preamble and LF only", "hello\n--b\nContent-Length: 1\n\nA\n--b\n\nB\n--b--\n", "b", []string{"A", "B"}, nil},
		{"boundary with dashes", "----x\r\n\r\nA\r\n----x\r\n\r\nB\r\n", "--x", []string{"A"}, io.ErrUnexpectedEOF},
		{"camera sends bare boundary", "--x\r\n\r\nA\r\n--x\r\n\r\nB\r\n--x\r\n", "--x", []string{"A", "B"}, nil},
		{"no final boundary", "--b\r\nContent-Length: 1\r\n\r\nA\r\n", "b", []string{"A"}, nil},
		{"truncated body", "--b\r\nContent-Length: 10\r\n\r\nabc", "b", nil, io.ErrUnexpectedEOF},
		{"bad length", "--b\r\nContent-Length: x\r\n\r\n", "b", nil, nil},
		{"too large", "--b\r\nContent-Length: 100\r\n\r\n", "b", nil, ErrPartTooLarge},
		{"too large without length", "--b\r\n\r\n" + strings.Repeat("x", 100) + "\r\n--b\r\n", "b", nil, ErrPartTooLarge},
		{"not a boundary mid-body", "--b\r\n\r\nx--b\r\n--bb\r\n--b\r\n", "b", []string{"x--b\r\n--bb"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.stream, tc.boundary, 64)
			if tc.name == "bad length" {
				if err == nil || !strings.Contains(err.Error(), "Content-Length") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, tc.err) && !(err == nil && tc.err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("parts %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzPartReader: any stream ends in parts and an error, never a panic,
// a hang or a part over the limit.
func FuzzPartReader(f *testing.F) {
	f.Add([]byte("--b\r\nContent-Length: 3\r\n\r\nabc\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\r\n\r\nab\r\ncd\r\n--b\r\n\r\nxyz\r\n--b--\r\n"), "b")
	f.Add([]byte("----x\n\nA\n----x\n"), "--x")
	f.Fuzz(func(t *testing.T, stream []byte, boundary string) {
		r := NewPartReader(bytes.NewReader(stream), boundary, 256)
		for range len(stream) + 2 {
			b, err := r.Next()
			if err != nil {
				return
			}
			if len(b) > 256 {
				t.Fatalf("part of %d bytes over the limit", len(b))
			}
		}
		t.Fatal("more parts than bytes")
	})
}
