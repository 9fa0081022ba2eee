package alerts

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// Action types.
const (
	ActionMQTT    = "mqtt"    // publish through the embedded broker (alerts, commands)
	ActionWebhook = "webhook" // HTTP POST with retries
)

// ActionSpec is one action of a rule (`actions:` in a rule, or the rules
// section's `default_actions:`).
type ActionSpec struct {
	Type string `yaml:"type"` // mqtt or webhook
	// On lists the events the action runs for: firing, resolved. Default:
	// both for mqtt alerts and webhooks; set [firing] for commands.
	On []string `yaml:"on"`
	// Topic (mqtt) is a template, e.g. "factory/{{.Labels.line}}/cmd".
	Topic  string `yaml:"topic"`
	QoS    byte   `yaml:"qos"`
	Retain bool   `yaml:"retain"`
	// Payload is a Go text/template over telemetry.Alert (mqtt and
	// webhook). Empty: the seed's alert JSON (see DefaultPayload).
	Payload string `yaml:"payload"`
	// URL, Headers and Timeout are for webhooks.
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	Timeout time.Duration     `yaml:"timeout"`
}

// DefaultPayload is the seed's alert message: timestamp, type, device_id,
// value, severity, requires_action; plus state, rule and id so that a
// resolved event can be matched to its firing one.
const DefaultPayload = `{"timestamp":{{json .Time}},"type":{{json .Type}},"device_id":{{json .DeviceID}},` +
	`"value":{{json .Value}},"severity":{{json .Severity}},"requires_action":{{json .RequiresAction}},` +
	`"state":{{json .State}},"rule":{{json .Rule}},"id":{{json .ID}}}`

// DefaultActions publish every alert event to alerts/critical at QoS 2,
// like the seed's collector.
func DefaultActions() []ActionSpec {
	return []ActionSpec{{Type: ActionMQTT, Topic: "alerts/critical", QoS: 2}}
}

// Action is a compiled ActionSpec.
type Action struct {
	Spec    ActionSpec
	topic   *template.Template
	payload *template.Template
	firing  bool
	resolve bool
	// constTopic is the topic when it has no template actions; fast
	// renders DefaultPayload without text/template (same bytes, ~20x
	// cheaper, see fast.go).
	constTopic string
	fast       bool
}

// Compile checks specs and parses their templates. Errors name the action
// by index and field, e.g. "actions[1].topic: ...".
func Compile(specs []ActionSpec) ([]*Action, error) {
	var errs []error
	out := make([]*Action, 0, len(specs))
	for i, s := range specs {
		a, err := compile(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("actions[%d].%w", i, err))
			continue
		}
		out = append(out, a)
	}
	return out, errors.Join(errs...)
}

func compile(s ActionSpec) (*Action, error) {
	a := &Action{Spec: s}
	var err error
	if a.firing, a.resolve, err = parseOn(s.On); err != nil {
		return nil, err
	}
	payload := s.Payload
	if payload == "" {
		payload = DefaultPayload
	}
	if a.payload, err = parseTemplate("payload", payload); err != nil {
		return nil, err
	}
	a.fast = payload == DefaultPayload
	switch s.Type {
	case ActionMQTT:
		if s.Topic == "" {
			return nil, errors.New("topic: is required for an mqtt action")
		}
		if strings.ContainsAny(s.Topic, "+#") {
			return nil, fmt.Errorf("topic: %q must not contain wildcards", s.Topic)
		}
		if s.QoS > 2 {
			return nil, fmt.Errorf("qos: %d is not 0, 1 or 2", s.QoS)
		}
		if !strings.Contains(s.Topic, "{{") {
			a.constTopic = s.Topic
		}
		a.topic, err = parseTemplate("topic", s.Topic)
		return a, err
	case ActionWebhook:
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("url: %q is not an http(s) URL", s.URL)
		}
		if s.Timeout < 0 {
			return nil, fmt.Errorf("timeout: %v must not be negative", s.Timeout)
		}
		return a, nil
	}
	return nil, fmt.Errorf("type: %q is not one of mqtt, webhook", s.Type)
}

func parseOn(on []string) (firing, resolved bool, err error) {
	if len(on) == 0 {
		return true, true, nil
	}
	for _, e := range on {
		switch e {
		case telemetry.AlertFiring:
			firing = true
		case telemetry.AlertResolved:
			resolved = true
		default:
			return false, false, fmt.Errorf("on: %q is not firing or resolved", e)
		}
	}
	return firing, resolved, nil
}

// Runs reports whether the action runs for an event in state.
func (a *Action) Runs(state string) bool {
	if state == telemetry.AlertResolved {
		return a.resolve
	}
	return a.firing
}

// Topic renders the action's topic for alert a.
func (a *Action) Topic(al *telemetry.Alert) (string, error) {
	if a.constTopic != "" {
		return a.constTopic, nil
	}
	return render(a.topic, al)
}

// Payload renders the action's payload for alert a.
func (a *Action) Payload(al *telemetry.Alert) ([]byte, error) {
	if a.fast {
		return appendDefaultPayload(make([]byte, 0, 256), al), nil
	}
	s, err := render(a.payload, al)
	return []byte(s), err
}

func parseTemplate(field, text string) (*template.Template, error) {
	t, err := template.New(field).Option("missingkey=zero").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	// Render once against a sample alert so that errors show at load time.
	if _, err := render(t, &sampleAlert); err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return t, nil
}

var sampleAlert = telemetry.Alert{ID: "x", Rule: "r", Type: "T", Severity: telemetry.SeverityCritical,
	State: telemetry.AlertFiring, DeviceID: "d", Labels: map[string]string{}, Time: time.Unix(0, 0).UTC()}

func render(t *template.Template, al *telemetry.Alert) (string, error) {
	if t == nil {
		return "", nil
	}
	var b bytes.Buffer
	if err := t.Execute(&b, al); err != nil {
		return "", err
	}
	return b.String(), nil
}
