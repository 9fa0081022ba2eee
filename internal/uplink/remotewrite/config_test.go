package remotewrite

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestYAML(t *testing.T) {
	src := `
- name: vm
  url: http://victoria:8428/api/v1/write
  bearer_token: tok
  headers: {X-Scope-OrgID: site1}
  measurements: ["sensors_*"]
  alerts: false
  batch_size: 5000
  queue: {max_age: 48h}
- name: prom
  url: http://prometheus:9090/api/v1/write
`
	var cfgs []Config
	if err := yaml.Unmarshal([]byte(src), &cfgs); err != nil {
		t.Fatal(err)
	}
	a, b := cfgs[0], cfgs[1]
	if a.BearerToken != "tok" || a.Headers["X-Scope-OrgID"] != "site1" || a.Alerts || a.BatchSize != 5000 ||
		a.Queue.MaxAge != 48*time.Hour || a.Queue.MaxBytes != 1<<30 || a.Queue.Fsync {
		t.Errorf("first entry %+v", a)
	}
	if b.Common.Name != "prom" || !b.Alerts || b.BatchSize != 1000 || b.FlushInterval != 2*time.Second || b.Timeout != 10*time.Second {
		t.Errorf("second entry did not get the defaults: %+v", b)
	}
	for _, c := range cfgs {
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestValidate(t *testing.T) {
	c := DefaultConfig()
	c.Name, c.URL, c.BearerToken, c.Username = "rw", "http://x/api/v1/write", "t", "u"
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "bearer_token") {
		t.Errorf("bearer and basic auth: %v", err)
	}
	c.Username, c.URL = "", "x"
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "url") {
		t.Errorf("bad url: %v", err)
	}
}
