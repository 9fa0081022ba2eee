//go:build cgo

package main

import (
	"testing"
	"time"
)

// TestDashboardBrowserVision: vision on (ONNX Runtime and the test model
// from `make ml-deps`, an ffmpeg test camera): the Cameras page shows the
// camera's frame rates, inference latency and latest detections, and the
// Overview says vision is on.
func TestDashboardBrowserVision(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser and a camera")
	}
	g := startGateway(t, visionConfig(t))
	b := newBrowser(t)
	b.open(t, g.httpURL(), "cameras")
	cam := `document.querySelector('[data-camera="cam1"]')`
	b.waitJS(t, "cam1 processing frames", `(c => c && !c.querySelector('.camera-down') &&
		parseFloat(c.querySelectorAll('dd')[1].textContent) > 0 && parseFloat(c.querySelectorAll('dd')[3].textContent) > 0)(`+cam+`)`, 20*time.Second)
	b.waitJS(t, "latest detections", `(c => c && c.querySelectorAll('table tbody tr').length > 0 &&
		/\d+ %/.test(c.querySelector('table tbody tr').textContent))(`+cam+`)`, 10*time.Second)
	b.waitJS(t, "no vision error", `!document.getElementById('vision-error') && document.getElementById('error').hidden`, time.Second)
	b.screenshot(t, "cameras-vision-on")
	b.open(t, g.httpURL(), "overview")
	b.waitJS(t, "vision on in the overview", `(c => c && /status\s*on/.test(c.textContent) && c.textContent.includes('cameras'))(
		[...document.querySelectorAll('#overview-cards .card')].find(c => c.querySelector('h3').textContent === 'Vision'))`, 10*time.Second)
	b.screenshot(t, "overview-vision-on")
}
