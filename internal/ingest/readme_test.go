package ingest

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestReadmeConfig decodes the README's YAML examples strictly (as the
// config file is decoded), validates them and routes a message through each.
func TestReadmeConfig(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(readme), "```yaml\n")
	if len(blocks) != 3 {
		t.Fatalf("README has %d YAML blocks, want 2", len(blocks)-1)
	}
	example := strings.Split(blocks[1], "```")[0]
	convention := "ingest:\n  convention: false\n  mappings:\n" + strings.Split(blocks[2], "```")[0]
	for i, doc := range []string{example, convention} {
		file := struct {
			Ingest Config `yaml:"ingest"`
		}{DefaultConfig()}
		dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
		dec.KnownFields(true)
		if err := dec.Decode(&file); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		r, err := NewRouter(file.Ingest)
		if err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		pts, err := r.Route("sensors/s1/temperature", []byte(`{"value":21}`), recv, nil)
		if err != nil || len(pts) != 1 || pts[0].Measurement != "sensors_temperature" {
			t.Fatalf("convention: %v %v", pts, err)
		}
		if i > 0 {
			continue
		}
		pts, err = r.Route("factory/lis/m7/telemetry", []byte(`{"temp":71,"gps":{"lat":1,"lon":2},"meta":{"zone":"B"}}`), recv, nil)
		if err != nil || len(pts) != 1 {
			t.Fatalf("factory: %v %v", pts, err)
		}
		checkPoint(t, pts[0], want{"factory_machine", map[string]string{"site": "lis", "machine": "m7", "meta_zone": "B"},
			map[string]float64{"temperature": 71, "lat": 1, "gps_lon": 2, "quality": 1}, recv})
		pts, err = r.Route("telegraf/h1/cpu", []byte("cpu,cpu=0 idle=97.5 1732480000"), recv, nil)
		if err != nil || len(pts) != 1 {
			t.Fatalf("telegraf: %v %v", pts, err)
		}
		checkPoint(t, pts[0], want{"cpu", map[string]string{"host": "h1", "cpu": "0"}, map[string]float64{"idle": 97.5}, time.Unix(1732480000, 0)})
	}
}
