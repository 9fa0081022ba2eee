package vision

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Detection is one class at or above the threshold in one frame.
type Detection struct {
	Camera      string  `json:"camera_id"`
	Location    string  `json:"location,omitempty"`
	Frame       uint64  `json:"frame_number"`
	ClassID     int     `json:"class_id"`
	Label       string  `json:"label"`
	Confidence  float64 `json:"confidence"`
	InferenceMS float64 `json:"inference_time_ms"`
	// FrameAgeMS is the frame's age when the detection is handed to the
	// sink (MQTT and the store); it cannot include its own publishing.
	FrameAgeMS float64   `json:"frame_age_ms"`
	Time       time.Time `json:"timestamp"` // when the frame was read
	// Alert is set when the class is one of model.alert_classes.
	Alert bool `json:"alert"`
}

// classes maps class ids to labels and knows the alert classes.
type classes struct {
	labels []string
	alert  map[string]bool // labels and ids
}

func loadClasses(m ModelConfig) (*classes, error) {
	c := &classes{alert: map[string]bool{}}
	for _, a := range m.AlertClasses {
		c.alert[a] = true
	}
	if m.Labels == "" {
		return c, nil
	}
	f, err := os.Open(m.Labels)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	defer f.Close()
	if c.labels, err = parseLabels(f); err != nil {
		return nil, fmt.Errorf("labels %s: %w", m.Labels, err)
	}
	return c, nil
}

// maxLabels bounds a labels file (ImageNet-22k has 21,841 classes).
const maxLabels = 100_000

// parseLabels reads one label per line, class id = line number from 0,
// spaces and a UTF-8 byte order mark trimmed (an empty line: class_<id>).
// Labels become metric label values and series labels, so a line that
// is not valid UTF-8 or holds a control character (old Mac CR line ends)
// is an error, as is a line over 64 KiB.
func parseLabels(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	var labels []string
	for sc.Scan() {
		n := len(labels) + 1
		if n > maxLabels {
			return nil, fmt.Errorf("more than %d lines", maxLabels)
		}
		l := sc.Text()
		if n == 1 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		l = strings.TrimSpace(l)
		if !utf8.ValidString(l) {
			return nil, fmt.Errorf("line %d: not valid UTF-8", n)
		}
		if i := strings.IndexFunc(l, unicode.IsControl); i >= 0 {
			return nil, fmt.Errorf("line %d: control character %q (lines end with LF or CRLF)", n, l[i])
		}
		labels = append(labels, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", len(labels)+1, err)
	}
	return labels, nil
}

func (c *classes) label(id int) string {
	if id < len(c.labels) && c.labels[id] != "" {
		return c.labels[id]
	}
	return "class_" + strconv.Itoa(id)
}

func (c *classes) isAlert(id int, label string) bool {
	return c.alert[label] || c.alert[strconv.Itoa(id)]
}

// topK returns the indices of the k largest values at or above min,
// largest first (k is small: a partial selection).
func topK(v []float32, k int, min float64, dst []int) []int {
	dst = dst[:0]
	for i, x := range v {
		if float64(x) < min || math.IsNaN(float64(x)) {
			continue
		}
		pos := len(dst)
		for pos > 0 && v[dst[pos-1]] < x {
			pos--
		}
		if pos >= k {
			continue
		}
		if len(dst) < k {
			dst = append(dst, 0)
		}
		copy(dst[pos+1:], dst[pos:len(dst)-1])
		dst[pos] = i
	}
	return dst
}

// softmax replaces v by its softmax, in place.
func softmax(v []float32) {
	mx := float32(math.Inf(-1))
	for _, x := range v {
		mx = max(mx, x)
	}
	var sum float64
	for i, x := range v {
		e := math.Exp(float64(x - mx))
		v[i] = float32(e)
		sum += e
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / sum)
	}
}
