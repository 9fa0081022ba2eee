package node

import (
	"os"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty", Config{}, ""},
		{"full", Config{Name: "edge-01.plant", Site: "plant_a", Labels: map[string]string{"line": "3"}}, ""},
		{"slash in name", Config{Name: "a/b"}, "name"},
		{"wildcard in site", Config{Site: "+"}, "site"},
		{"bad label", Config{Labels: map[string]string{"1x": "v"}}, "labels"},
		{"reserved label", Config{Labels: map[string]string{"node": "v"}}, "node.node"},
		{"empty value", Config{Labels: map[string]string{"line": ""}}, "empty value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestResolveExpandLabels(t *testing.T) {
	h, _ := os.Hostname()
	c := Config{}.Resolve()
	if c.Name == "" || strings.ContainsAny(c.Name, "/+# ") || h != "" && !strings.HasPrefix(h, c.Name) && c.Name != "borda" {
		t.Fatalf("name %q from host %q", c.Name, h)
	}
	c = Config{Name: "edge-1", Site: "plant-a", Labels: map[string]string{"line": "3"}}
	if got := c.Expand("edge/{site}/{node}/"); got != "edge/plant-a/edge-1/" {
		t.Fatal(got)
	}
	if l := c.ExternalLabels(); len(l) != 3 || l["node"] != "edge-1" || l["site"] != "plant-a" || l["line"] != "3" {
		t.Fatal(l)
	}
	if l := (Config{Name: "n"}).ExternalLabels(); len(l) != 1 {
		t.Fatal(l)
	}
}
