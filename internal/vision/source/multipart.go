package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrPartTooLarge is returned for a part (or a run of bytes before a
// boundary) longer than the reader's limit.
var ErrPartTooLarge = errors.New("mjpeg: part larger than the limit")

// PartReader reads the parts of a multipart/x-mixed-replace stream as
// MJPEG cameras send it: boundary lines, part headers, a body with or
// without Content-Length. It is lenient about what cameras get wrong (a
// boundary parameter that already starts with "--", LF instead of CRLF,
// no final boundary) and strict about size: nothing it buffers exceeds max.
type PartReader struct {
	br       *bufio.Reader
	delims   [][]byte // accepted boundary lines (without line end)
	max      int
	inPart   bool // the boundary line of the next part has been read
	finished bool
}

// NewPartReader reads parts separated by boundary (the Content-Type's
// boundary parameter), each at most max bytes.
func NewPartReader(r io.Reader, boundary string, max int) *PartReader {
	d := [][]byte{[]byte("--" + boundary)}
	if strings.HasPrefix(boundary, "--") {
		d = append(d, []byte(boundary))
	}
	return &PartReader{br: bufio.NewReaderSize(r, 64<<10), delims: d, max: max}
}

// Next returns the next part's body; io.EOF after the final boundary or
// at the end of the stream between parts.
func (p *PartReader) Next() ([]byte, error) {
	if p.finished {
		return nil, io.EOF
	}
	if !p.inPart {
		if err := p.skipToBoundary(); err != nil {
			return nil, err
		}
	}
	p.inPart = false
	n, err := p.headers()
	if err != nil {
		return nil, err
	}
	if n >= 0 {
		return p.sized(n)
	}
	return p.untilBoundary()
}

// line reads one line without its line end; a line longer than max is
// an error.
func (p *PartReader) line() ([]byte, error) {
	var out []byte
	for {
		chunk, err := p.br.ReadSlice('\n')
		if len(out)+len(chunk) > p.max {
			return nil, ErrPartTooLarge
		}
		out = append(out, chunk...)
		if err == nil {
			return bytes.TrimRight(out, "\r\n"), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if len(out) > 0 && errors.Is(err, io.EOF) {
				return bytes.TrimRight(out, "\r\n"), io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// boundary says whether l is a boundary line and whether it is the last.
func (p *PartReader) boundary(l []byte) (is, last bool) {
	l = bytes.TrimRight(l, " \t")
	for _, d := range p.delims {
		if rest, ok := bytes.CutPrefix(l, d); ok && (len(rest) == 0 || string(rest) == "--") {
			return true, len(rest) > 0
		}
	}
	return false, false
}

// skipToBoundary reads up to and including the next boundary line,
// skipping at most max bytes of preamble or epilogue.
func (p *PartReader) skipToBoundary() error {
	skipped := 0
	for {
		l, err := p.line()
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			return err
		}
		if is, last := p.boundary(l); is {
			if last {
				p.finished = true
				return io.EOF
			}
			return nil
		}
		if skipped += len(l) + 2; skipped > p.max {
			return ErrPartTooLarge
		}
	}
}

// headers reads the part's header lines; it returns Content-Length, or
// -1 when there is none.
func (p *PartReader) headers() (int, error) {
	n, size := -1, 0
	for first := true; ; first = false {
		l, err := p.line()
		if first && errors.Is(err, io.EOF) {
			return 0, io.EOF // the stream ended after a boundary
		}
		if err != nil {
			return 0, unexpected(err)
		}
		if len(l) == 0 {
			return n, nil
		}
		if size += len(l); size > p.max {
			return 0, ErrPartTooLarge
		}
		k, v, ok := bytes.Cut(l, []byte(":"))
		if !ok || !strings.EqualFold(string(bytes.TrimSpace(k)), "Content-Length") {
			continue
		}
		cl, err := strconv.Atoi(string(bytes.TrimSpace(v)))
		if err != nil || cl < 0 {
			return 0, fmt.Errorf("mjpeg: bad Content-Length %q", v)
		}
		if cl > p.max {
			return 0, ErrPartTooLarge
		}
		n = cl
	}
}

func (p *PartReader) sized(n int) ([]byte, error) {
	body := make([]byte, n)
	if _, err := io.ReadFull(p.br, body); err != nil {
		return nil, unexpected(err)
	}
	return body, nil
}

// untilBoundary reads the body up to the next boundary line, which it
// consumes; the line end before the boundary is not part of the body.
func (p *PartReader) untilBoundary() ([]byte, error) {
	var body []byte
	lineStart := true
	for {
		chunk, err := p.br.ReadSlice('\n')
		if is, last := p.boundary(bytes.TrimRight(chunk, "\r\n")); is && err == nil && lineStart {
			p.inPart, p.finished = !last, last
			return trimLineEnd(body), nil
		}
		if len(body)+len(chunk) > p.max {
			return nil, ErrPartTooLarge
		}
		body = append(body, chunk...)
		lineStart = err == nil
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, unexpected(err)
		}
	}
}

func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
