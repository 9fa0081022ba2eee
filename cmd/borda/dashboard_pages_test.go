package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/borda-edge/borda/internal/rules"
)

// alertsGateway runs borda with one more rule, a warning, so that alerts
// of two types, two severities and three devices exist: HIGH_TEMPERATURE
// on f1, HIGH_PRESSURE on f2 (critical) and HUMID on f3 (warning).
func alertsGateway(t *testing.T) (*testGateway, mqtt3.Client) {
	t.Helper()
	cfg := testConfig(t)
	cfg.Rules.Rules = append(cfg.Rules.Rules, rules.Rule{Name: "humid", Type: "HUMID", Severity: "warning",
		Match: rules.Match{Topic: "sensors/+/humidity"}, Condition: "value > 50"})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg)
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "alerts-test", true, nil)
	for _, r := range []struct{ topic, payload string }{
		{"sensors/f1/temperature", `{"value":85,"location":"hall"}`},
		{"sensors/f2/pressure", `{"value":150,"location":"yard"}`},
		{"sensors/f3/humidity", `{"value":60,"location":"cellar"}`},
		{"sensors/f1/humidity", `{"value":40,"location":"hall"}`},
	} {
		waitToken(t, "publish", pub.Publish(r.topic, 1, false, r.payload))
	}
	return g, pub
}

// TestDashboardBrowserAlertFilters: the Alerts page filters by type,
// severity and device (each alone, combined, cleared).
func TestDashboardBrowserAlertFilters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	g, _ := alertsGateway(t)
	b := newBrowser(t)
	b.open(t, g.httpURL(), "alerts")
	rows := `[...document.querySelectorAll('#alerts-history-table tr[data-alert]')].map(r => r.cells[3].textContent + '/' + r.cells[4].textContent)`
	b.waitJS(t, "three alerts", rows+`.length === 3`, 10*time.Second)
	for _, tt := range []struct {
		name, typ, severity, device string
		want                        []string // type/device of the history rows
	}{
		{name: "type", typ: "HIGH_PRESSURE", want: []string{"HIGH_PRESSURE/f2"}},
		{name: "severity", severity: "warning", want: []string{"HUMID/f3"}},
		{name: "severity, any case", severity: "CRITICAL", want: []string{"HIGH_PRESSURE/f2", "HIGH_TEMPERATURE/f1"}},
		{name: "device", device: "f1", want: []string{"HIGH_TEMPERATURE/f1"}},
		{name: "type and device", typ: "HIGH_PRESSURE", device: "f1", want: []string{}},
		{name: "cleared", want: []string{"HIGH_PRESSURE/f2", "HIGH_TEMPERATURE/f1", "HUMID/f3"}},
	} {
		b.eval(t, "filter "+tt.name, fmt.Sprintf(`[['alert-type', %q], ['alert-severity', %q], ['alert-device', %q]].forEach(([id, v]) => {
			const i = document.getElementById(id); i.value = v; i.dispatchEvent(new Event('input')); })`, tt.typ, tt.severity, tt.device))
		want, err := json.Marshal(tt.want)
		if err != nil {
			t.Fatal(err)
		}
		b.waitJS(t, "filtered by "+tt.name, fmt.Sprintf(`JSON.stringify(%s.sort()) === %q`, rows, want), 5*time.Second)
		if len(tt.want) == 0 {
			b.waitJS(t, "empty history says so", `document.getElementById('alerts-history').textContent.includes('no alerts recorded')`, time.Second)
		}
		if tt.name == "severity" {
			b.waitJS(t, "firing table filtered too", `[...document.querySelectorAll('#alerts-firing-table tr[data-alert]')].every(r => r.cells[2].textContent === 'warning')`, time.Second)
			b.screenshot(t, "alerts-filtered")
		}
	}
	b.run(t, "clear button", chromedp.SendKeys("#alert-device", "f3"))
	b.waitJS(t, "device f3", rows+`.join() === 'HUMID/f3'`, 5*time.Second)
	b.run(t, "clear", chromedp.Click("#alert-clear"))
	b.waitJS(t, "cleared by the button", rows+`.length === 3 && document.getElementById('alert-device').value === ''`, 5*time.Second)
}

// phone is a phone-sized viewport (CSS pixels) with touch.
var phone = chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile,
	chromedp.EmulateTouch, chromedp.EmulatePortrait)

// overflowJS lists the elements sticking out of the layout viewport on the
// right (empty when nothing makes the page scroll sideways). clientWidth,
// not innerWidth: a mobile browser zooms out to show wide content, which
// widens innerWidth with it.
const overflowJS = `(() => {
	const w = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth <= w) return [];
	return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 0.5)
		.slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined ? '.' + e.className : '') +
			' right=' + Math.round(e.getBoundingClientRect().right));
})()`

// TestDashboardBrowserPhone: every page on a 390×844 phone screen, with
// data on it: nothing overflows sideways; a screenshot of each.
func TestDashboardBrowserPhone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	g, pub := alertsGateway(t)
	for i := range 5 {
		publishReading(t, pub, "f1", 21+float64(i))
	}
	b := newBrowser(t)
	b.run(t, "phone viewport", phone)
	for _, p := range []struct{ page, ready string }{
		{"overview", `!!document.getElementById('overview-cards')`},
		{"devices", `document.querySelectorAll('#device-rows tr[data-device]').length === 3 && document.querySelector('canvas.spark')`},
		{"device/f1", `(c => c && +c.dataset.points > 0 && c.querySelector('canvas'))(document.querySelector('.chart[data-metric="sensors_temperature"]'))`},
		{"alerts", `document.querySelectorAll('#alerts-history-table tr[data-alert]').length === 3`},
		{"cameras", `!!document.getElementById('vision-off')`},
	} {
		b.open(t, g.httpURL(), p.page)
		b.waitJS(t, p.page+" on a phone", p.ready, 10*time.Second)
		b.checkNoOverflow(t, p.page)
		b.screenshot(t, "phone-"+strings.ReplaceAll(p.page, "/", "-"))
	}
}

// checkNoOverflow fails when the page scrolls sideways, naming what sticks
// out.
func (b *browser) checkNoOverflow(t *testing.T, page string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowJS))
	if err != nil {
		b.fatal(t, "overflow check", err)
	}
	if len(out) > 0 {
		t.Errorf("%s overflows the phone screen sideways: %s", page, strings.Join(out, ", "))
	}
}
