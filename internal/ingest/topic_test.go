package ingest

import "testing"

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		filter, topic string
		match         bool
	}{
		{"sensors/+/temperature", "sensors/s1/temperature", true},
		{"sensors/+/temperature", "sensors/s1/humidity", false},
		{"sensors/+/temperature", "sensors/s1/temperature/x", false},
		{"sensors/+/temperature", "sensors/temperature", false},
		{"sensors/+/temperature", "sensors//temperature", true},
		{"+/+/+", "a/b/c", true},
		{"+/+/+", "a/b", false},
		{"+/+/+", "/b/c", true},
		{"+/+/+", "$SYS/b/c", false},
		{"#", "$SYS/b/c", false},
		{"$SYS/#", "$SYS/b/c", true},
		{"#", "a", true},
		{"#", "a/b/c", true},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"a/#", "ab", false},
		{"a/+/#", "a", false},
		{"a/+/#", "a/b", true},
		{"a/b", "a/b", true},
		{"a/b", "A/b", false},
		{"+", "a", true},
		{"+", "a/b", false},
		{"/", "/", true},
	}
	for _, tc := range tests {
		f, err := parseFilter(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		var buf [4]string
		if got := f.match(splitTopic(tc.topic, buf[:])); got != tc.match {
			t.Errorf("%q matches %q = %v, want %v", tc.filter, tc.topic, got, tc.match)
		}
	}
}

func TestSplitTopicBeyondBuffer(t *testing.T) {
	var buf [2]string
	got := splitTopic("a/b/c//e", buf[:])
	if len(got) != 5 || got[2] != "c" || got[3] != "" || got[4] != "e" {
		t.Fatalf("splitTopic = %q", got)
	}
}

func TestTemplate(t *testing.T) {
	names := map[string]int{"device_type": 0, "metric": 2}
	levels := []string{"sensors", "s1", "temperature"}
	tests := map[string]string{
		"{device_type}_{metric}": "sensors_temperature",
		"{0}_{2}":                "sensors_temperature",
		"{metric}":               "temperature",
		"fixed":                  "fixed",
		"a{1}b{1}c":              "as1bs1c",
		"{0}{1}{2}":              "sensorss1temperature",
	}
	for tmpl, want := range tests {
		tp, err := parseTemplate(tmpl, names, 3)
		if err != nil {
			t.Fatalf("%s: %v", tmpl, err)
		}
		if got := tp.expand(levels); got != want {
			t.Errorf("%s = %q, want %q", tmpl, got, want)
		}
	}
	for _, bad := range []string{"{}", "{x}", "{3}", "{99999}", "{-1}", "{", "}", "{{0}}"} {
		if _, err := parseTemplate(bad, names, 3); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
