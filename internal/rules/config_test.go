package rules

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/alerts"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Rules = SeedRules()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSeedRulesFile(t *testing.T) {
	got, err := LoadFile("testdata/seed-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, SeedRules()) {
		t.Fatalf("testdata/seed-rules.yaml differs from SeedRules():\n%+v\n%+v", got, SeedRules())
	}
	cfg := DefaultConfig()
	cfg.File = "testdata/seed-rules.yaml"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeSection(t *testing.T) {
	src := `
rules:
  - name: hot
    match: {topic: sensors/+/temperature, tags: {location: "=~hall|lab"}}
    condition: value > 80
    for: 1h30m
    cooldown: 5m
    actions: []
  - name: offline
    match: {topic: "sensors/#"}
    silent: 90s
max_series_per_rule: 50
`
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	hot, off := cfg.Rules[0], cfg.Rules[1]
	if hot.For != 90*time.Minute || hot.Cooldown != 5*time.Minute || off.Silent != 90*time.Second {
		t.Fatalf("durations: for=%v cooldown=%v silent=%v", hot.For, hot.Cooldown, off.Silent)
	}
	if hot.Actions == nil || len(hot.Actions) != 0 || off.Actions != nil {
		t.Fatalf("actions: [] must decode to an empty list and absent to nil: %#v %#v", hot.Actions, off.Actions)
	}
	rules, err := compileConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules[0].actions) != 0 || len(rules[1].actions) != 1 || rules[1].cfg.Type != TypeDeviceOffline {
		t.Fatalf("actions %d/%d, offline type %q", len(rules[0].actions), len(rules[1].actions), rules[1].cfg.Type)
	}
}

func TestValidateReportsEveryProblemWithItsPath(t *testing.T) {
	ok := Rule{Name: "ok", Match: Match{Topic: "sensors/+/temperature"}, Condition: "value > 80"}
	with := func(f func(*Rule)) Rule { r := ok; f(&r); return r }
	cases := []struct {
		name string
		cfg  func(*Config)
		want []string
	}{
		{"bad condition", func(c *Config) {
			c.Rules = []Rule{ok, with(func(r *Rule) { r.Name = "hot"; r.Condition = "value >> 3" })}
		},
			[]string{`rules[1].condition: rule "hot": "value >> 3": unexpected token Operator(">") (line 1, column 8)`}},
		{"multi-line condition", func(c *Config) {
			c.Rules = []Rule{with(func(r *Rule) { r.Condition = "value > 80 &&\n  mean(count) > 3" })}
		},
			[]string{`rules[0].condition: rule "ok": "value > 80 &&\n  mean(count) > 3": mean(): the window must be a constant`, `(line 2, column 8)`}},
		{"unknown function", func(c *Config) { c.Rules = []Rule{with(func(r *Rule) { r.Condition = "avg(5) > 3" })} },
			[]string{`rules[0].condition: rule "ok": "avg(5) > 3": unknown name avg (line 1, column 1)`}},
		{"not boolean", func(c *Config) { c.Rules = []Rule{with(func(r *Rule) { r.Condition = "value + 1" })} },
			[]string{`rules[0].condition: rule "ok": "value + 1": expected bool, but got float64`}},
		{"bad clear", func(c *Config) { c.Rules = []Rule{with(func(r *Rule) { r.Clear = "mean(0) < 3" })} },
			[]string{`rules[0].clear: rule "ok": "mean(0) < 3": mean(0): the number of readings must be between 1 and 10000 (line 1, column 6)`}},
		{"window too large", func(c *Config) {
			c.Rules = []Rule{with(func(r *Rule) { r.Condition = `max(10001) > 3 || mean("8d") > 1` })}
		},
			[]string{`max(10001): the number of readings must be between 1 and 10000`}},
		{"zscore alpha", func(c *Config) { c.Rules = []Rule{with(func(r *Rule) { r.Condition = `zscore(2) > 3` })} },
			[]string{`zscore(2): alpha must be greater than 0 and at most 1 (line 1, column 8)`}},
		{"missing parts", func(c *Config) { c.Rules = []Rule{{}} },
			[]string{"rules[0].name: is required", "rules[0].match: needs a topic or a measurement", "rules[0].condition: is required"}},
		{"duplicate names", func(c *Config) { c.Rules = []Rule{ok, ok} }, []string{`rules[1].name: "ok" is used by another rule`}},
		{"fields", func(c *Config) {
			c.Rules = []Rule{with(func(r *Rule) {
				r.Name, r.Severity, r.For, r.Cooldown, r.EWMAAlpha = "a b", "loud", -time.Second, -time.Second, 1.5
				r.Match.Topic, r.Match.Tags = "a/#/b", map[string]string{"x": "=~(", "": "y"}
			})}
		}, []string{`rules[0].name: "a b" must be`, `rules[0].severity: "loud" is not one of critical, warning, info`,
			`rules[0].for: -1s is negative`, `rules[0].cooldown: -1s is negative`, `rules[0].ewma_alpha: 1.5`,
			`rules[0].match.topic: "a/#/b" is not a valid topic filter`, `rules[0].match.tags.x: "(" is not a valid regular expression`,
			`rules[0].match.tags.: the tag name is empty`}},
		{"silent rules", func(c *Config) {
			c.Rules = []Rule{
				{Name: "s1", Match: Match{Topic: "#"}, Silent: time.Minute, Condition: "value > 1", For: time.Second},
				{Name: "s2", Match: Match{Topic: "#"}, Silent: time.Millisecond},
			}
		}, []string{`rules[0].condition: must be empty in a silent rule`, `rules[0].for: must be 0 in a silent rule`,
			`rules[1].silent: 1ms is shorter than 1s`}},
		{"actions", func(c *Config) {
			c.Rules = []Rule{with(func(r *Rule) { r.Actions = []alerts.ActionSpec{{Type: "mqtt"}, {Type: "pager"}} })}
			c.DefaultActions = []alerts.ActionSpec{{Type: "mqtt", Topic: "a/+"}}
		}, []string{`rules[0].actions[0].topic: is required`, `rules[0].actions[1].type: "pager" is not one of mqtt, webhook`,
			`default_actions[0].topic: "a/+" must not contain wildcards`}},
		{"series bound", func(c *Config) { c.MaxSeriesPerRule = 0 }, []string{"max_series_per_rule: 0 is out of range"}},
		{"rules file", func(c *Config) { c.File = "testdata/invalid/bad-rules.yaml" },
			[]string{`file: testdata/invalid/bad-rules.yaml:6: rules[1].condition: rule "broken": "value > > 80": unexpected token Operator(">") (line 1, column 9)`}},
		{"rules file missing", func(c *Config) { c.File = "testdata/nope.yaml" }, []string{"file: read rules file: open testdata/nope.yaml"}},
		{"name clash with file", func(c *Config) {
			c.Rules = []Rule{with(func(r *Rule) { r.Name = "high_pressure" })}
			c.File = "testdata/seed-rules.yaml"
		}, []string{`file: testdata/seed-rules.yaml:`, `rules[1].name: "high_pressure" is used by another rule`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.cfg(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			for _, e := range flatten(err) {
				if strings.Count(e.Error(), "\n") > strings.Count(e.Error(), `\n`) {
					t.Errorf("problem spans lines: %q", e)
				}
			}
		})
	}
}

func TestLoadFileErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]string{
		"testdata/invalid/unknown-key.yaml":  "testdata/invalid/unknown-key.yaml:4: field conditon not found",
		"testdata/invalid/bad-duration.yaml": "testdata/invalid/bad-duration.yaml:5: cannot unmarshal !!str `5 minutes` into time.Duration",
	}
	for path, want := range cases {
		_, err := LoadFile(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadFile(%s) = %v, want %q", path, err, want)
		}
	}
	_, err := LoadFile("testdata/nope.yaml")
	if err == nil || !strings.Contains(err.Error(), "read rules file") {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := parseFile("x.yaml", []byte("rules: [\n")); err == nil || !strings.HasPrefix(err.Error(), "x.yaml:") {
		t.Errorf("syntax error: %v", err)
	}
	rules, _, err := parseFile("empty.yaml", nil)
	if err != nil || len(rules) != 0 {
		t.Errorf("empty file: %v %v", rules, err)
	}
}

func TestUpperSnake(t *testing.T) {
	for in, want := range map[string]string{
		"high_temperature": "HIGH_TEMPERATURE", "highTemp-1": "HIGH_TEMP_1", "over.speed": "OVER_SPEED",
		"a--b": "A_B", "_x_": "X", "HTTPServer": "HTTPSERVER", "---": "", "line1Stop": "LINE1_STOP",
	} {
		if got := upperSnake(in); got != want {
			t.Errorf("upperSnake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTopicMatches(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"sensors/+/temperature", "sensors/s1/temperature", true},
		{"sensors/+/temperature", "sensors/s1/humidity", false},
		{"sensors/+/temperature", "sensors/s1/temperature/x", false},
		{"sensors/+/temperature", "sensors/temperature", false},
		{"sensors/#", "sensors", true},
		{"sensors/#", "sensors/a/b/c", true},
		{"sensors/#", "sensorsx/a", false},
		{"#", "a/b", true},
		{"#", "$SYS/broker", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/broker", true},
		{"a/+", "a/", true},
		{"a/+", "a", false},
		{"+", "a", true},
		{"+", "a/b", false},
		{"a/b", "a/b", true},
		{"+/+/+", "", false},
	}
	for _, c := range cases {
		if err := validFilter(c.filter); err != nil {
			t.Fatalf("validFilter(%q): %v", c.filter, err)
		}
		if got := topicMatches(strings.Split(c.filter, "/"), c.topic); got != c.want {
			t.Errorf("topicMatches(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
	for _, bad := range []string{"a/#/b", "a/b#", "a+/b", "a/\x00"} {
		if validFilter(bad) == nil {
			t.Errorf("validFilter(%q) accepted", bad)
		}
	}
}

// TestREADMESample keeps the README's config sample valid.
func TestREADMESample(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```yaml\n")
	sample, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml sample in README.md")
	}
	var doc struct {
		Rules Config `yaml:"rules"`
	}
	doc.Rules = DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(sample))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Rules.File != "/etc/borda/rules.yaml" || len(doc.Rules.Rules) != 3 {
		t.Fatalf("sample decoded to %+v", doc.Rules)
	}
	doc.Rules.File = ""
	if err := doc.Rules.Validate(); err != nil {
		t.Fatal(err)
	}
}
