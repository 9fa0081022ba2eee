package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/vision"
)

// TestDashboardBrowserVisionDown: vision configured but unable to run (no
// ONNX Runtime library): the Overview and the Cameras page say so, with
// the reason, instead of showing 0 fps.
func TestDashboardBrowserVisionDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	cfg := testConfig(t)
	cfg.Vision.Enabled = true
	cfg.Vision.ORTLibrary = filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	cfg.Vision.Model.Path = filepath.Join(t.TempDir(), "model.onnx")
	cfg.Vision.Cameras = []vision.CameraConfig{{ID: "cam1", Type: vision.TypeDir, URL: t.TempDir()}}
	g := startGateway(t, cfg)
	b := newBrowser(t)
	b.open(t, g.httpURL(), "overview")
	b.waitJS(t, "vision error on the overview", `(e => e && e.textContent.length > 10)(document.getElementById('vision-error'))`, 10*time.Second)
	b.screenshot(t, "overview-vision-down")
	b.open(t, g.httpURL(), "cameras")
	b.waitJS(t, "vision error on the cameras page", `(e => e && e.textContent.startsWith('vision is not running: '))(document.getElementById('vision-error'))`, 10*time.Second)
	b.screenshot(t, "cameras-vision-down")
}

// TestDashboardBrowserCamerasPolling: the Cameras page keeps polling after
// a failed request (with backoff, the error shown meanwhile) and stops when
// it is left, also in the middle of a request. The API is replaced in the
// page by a fake that fails twice, then answers slowly.
func TestDashboardBrowserCamerasPolling(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	g := startGateway(t, testConfig(t))
	b := newBrowser(t)
	b.open(t, g.httpURL(), "overview")
	b.eval(t, "fake cameras API", `
		B.camerasPoll = { every: 50, maxBackoff: 200 };
		window.camCalls = 0;
		const real = B.api;
		B.api = async path => {
			if (!path.startsWith('/api/v1/dashboard/cameras')) return real(path);
			const n = ++window.camCalls;
			await new Promise(r => setTimeout(r, 100));
			if (n <= 2) throw new Error('injected failure ' + n);
			return { enabled: true, vision: { up: true }, cameras: [{ name: 'fake', fps_in: 1, fps_processed: 1, fps_dropped: 0,
				inference_seconds: 0.01, source_up: true, detections: [] }] };
		};
		location.hash = '#/cameras';`)
	b.waitJS(t, "failure shown", `document.getElementById('error').textContent.includes('injected failure')`, 5*time.Second)
	b.waitJS(t, "recovered after backoff", `window.camCalls >= 3 && document.getElementById('error').hidden && !!document.querySelector('[data-camera="fake"]')`, 5*time.Second)
	b.waitJS(t, "still polling", `window.camCalls >= 6`, 5*time.Second)
	// Leave in the middle of a request: it finishes, nothing follows.
	b.waitJS(t, "a request in flight", `(window.inFlight = window.camCalls) > 0`, time.Second)
	b.eval(t, "leave", `location.hash = '#/devices'`)
	b.waitJS(t, "devices page", `document.body.dataset.page === 'devices'`, 5*time.Second)
	calls := b.evalInt(t, "calls", `window.camCalls`)
	time.Sleep(time.Second) // 20 polling periods
	if after := b.evalInt(t, "calls", `window.camCalls`); after > calls+1 {
		t.Errorf("the cameras page polled %d more times after it was left", after-calls)
	}
	b.waitJS(t, "no cameras error on the devices page", `!document.getElementById('error').textContent.includes('injected')`, time.Second)
}
