package ingest

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in     string
		want   float64
		reason string
	}{
		{"23.5", 23.5, ""}, {" 21 ", 21, ""}, {"21.0", 21, ""}, {"-1e3", -1000, ""},
		{"+.5", 0.5, ""}, {"7.", 7, ""}, {"\t\r\n42\n", 42, ""}, {"1E-2", 0.01, ""},
		{"-0", 0, ""}, {"0001", 1, ""}, {"1e-400", 0, ""}, {"true", 1, ""}, {"false", 0, ""},
		{"1.7976931348623157e308", math.MaxFloat64, ""},
		{"", 0, ReasonEmpty}, {"   ", 0, ReasonEmpty},
		{"1e400", 0, ReasonOutOfRange}, {"-1e400", 0, ReasonOutOfRange},
		{"NaN", 0, ReasonNotNumeric}, {"nan", 0, ReasonNotNumeric}, {"Inf", 0, ReasonNotNumeric},
		{"-Infinity", 0, ReasonNotNumeric}, {"0x10", 0, ReasonNotNumeric}, {"0x1p3", 0, ReasonNotNumeric},
		{"1_000", 0, ReasonNotNumeric}, {"1,5", 0, ReasonNotNumeric}, {"1 2", 0, ReasonNotNumeric},
		{`"23.5"`, 0, ReasonNotNumeric}, {"True", 0, ReasonNotNumeric}, {"TRUE", 0, ReasonNotNumeric},
		{"yes", 0, ReasonNotNumeric}, {".", 0, ReasonNotNumeric}, {"-", 0, ReasonNotNumeric},
		{"e5", 0, ReasonNotNumeric}, {"1e", 0, ReasonNotNumeric}, {"1e+", 0, ReasonNotNumeric},
		{"--1", 0, ReasonNotNumeric}, {"1.2.3", 0, ReasonNotNumeric}, {"{\"value\":1}", 0, ReasonNotNumeric},
		{"23.5°C", 0, ReasonNotNumeric}, {"\xff", 0, ReasonNotNumeric}, {"1\x00", 0, ReasonNotNumeric},
	}
	for _, tc := range tests {
		got, err := ParseNumber([]byte(tc.in))
		if r := reasonOf(err); r != tc.reason || (r == "" && got != tc.want) {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v, %q", tc.in, got, err, tc.want, tc.reason)
		}
	}
}

var bareNumber = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// FuzzParseNumber checks ParseNumber against a regular expression for the
// grammar and strconv.ParseFloat for the value.
func FuzzParseNumber(f *testing.F) {
	f.Add([]byte(" -1.5e3 "))
	f.Add([]byte("true"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ParseNumber(in)
		s := strings.Trim(string(in), " \t\r\n")
		switch {
		case s == "true" || s == "false":
			if err != nil || got != map[string]float64{"true": 1, "false": 0}[s] {
				t.Fatalf("%q: %v %v", in, got, err)
			}
		case !bareNumber.MatchString(s):
			if err == nil {
				t.Fatalf("%q accepted as %v", in, got)
			}
		default:
			want, perr := strconv.ParseFloat(s, 64)
			if math.IsInf(want, 0) {
				if reasonOf(err) != ReasonOutOfRange {
					t.Fatalf("%q: %v %v, want out_of_range", in, got, err)
				}
			} else if perr != nil || err != nil || got != want {
				t.Fatalf("%q: %v %v, want %v", in, got, err, want)
			}
		}
	})
}
