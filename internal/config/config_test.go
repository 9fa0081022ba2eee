package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestInvalidFiles parses every file in testdata/invalid. Each file lists
// the problems it must produce in "# want: ..." lines; Parse must report
// exactly those, each prefixed with the file name.
func TestInvalidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if w, ok := strings.CutPrefix(line, "# want: "); ok {
					want = append(want, w)
				}
			}
			_, err = Parse(file, data)
			var p *Problems
			if !errors.As(err, &p) {
				t.Fatalf("Parse error = %v, want *Problems", err)
			}
			if p.File != file {
				t.Errorf("Problems.File = %q, want %q", p.File, file)
			}
			got := append([]string(nil), p.List...)
			sort.Strings(got)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if !strings.HasPrefix(p.Error(), file+": ") {
				t.Errorf("Error() = %q, want it to start with the file name", p.Error())
			}
		})
	}
}

// TestExampleFileIsTheDefaults keeps borda.example.yaml honest: it parses
// and documents exactly the built-in defaults.
func TestExampleFileIsTheDefaults(t *testing.T) {
	got, err := Load("../../borda.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("example file differs from defaults:\n got  %+v\n want %+v", got, want)
	}
}

func TestEmptyAndPartialFiles(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		edit func(*File)
	}{
		{"empty file", "", func(*File) {}},
		{"comments only", "# nothing here\n", func(*File) {}},
		{"empty section keeps defaults", "broker:\n", func(*File) {}},
		{"one setting", "broker:\n  max_connections: 50\n", func(f *File) { f.Broker.MaxConnections = 50 }},
		{"durations", "broker:\n  message_expiry: 90m\n", func(f *File) { f.Broker.MessageExpiry = 90 * 60e9 }},
		{"data dir", "data_dir: /var/lib/borda\n", func(f *File) { f.DataDir = "/var/lib/borda" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("t.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.edit(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("Load missing file: %v", err)
	}
}

func TestDefaultsAreValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}
