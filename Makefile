# borda — make test installs what the tests need (only when missing) and
# runs the whole suite with the race detector.

GO ?= go
# Programs the tests start as real child processes, and the Debian package of each.
TEST_TOOLS := mosquitto_pub:mosquitto-clients mosquitto_sub:mosquitto-clients mosquitto:mosquitto \
	redis-server:redis-server influxd:influxdb victoria-metrics:victoria-metrics prometheus:prometheus \
	fail2ban-regex:fail2ban ip:iproute2 netplan:netplan.io \
	dbus-daemon:dbus-daemon ModemManager:modemmanager \
	ffmpeg:ffmpeg node:nodejs npm:npm py.onnx:python3-onnx py.numpy:python3-numpy

.PHONY: test test-deps ml-deps build vet fmt

test: test-deps ml-deps
	$(GO) test -race ./...

test-deps:
	@./scripts/install-test-deps.sh $(TEST_TOOLS)

# ONNX Runtime and the vision test model, cached outside git (~/.cache/borda).
ml-deps: test-deps
	@./scripts/ml-deps.sh

build:
	$(GO) build -o bin/borda ./cmd/borda

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')
