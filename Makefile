# borda — make test installs what the tests need (only when missing) and
# runs the whole suite with the race detector.

GO ?= go
# Programs the tests start as real child processes, and the Debian package of each.
TEST_TOOLS := mosquitto_pub:mosquitto-clients mosquitto_sub:mosquitto-clients mosquitto:mosquitto \
	redis-server:redis-server influxd:influxdb victoria-metrics:victoria-metrics prometheus:prometheus \
	fail2ban-regex:fail2ban ip:iproute2 netplan:netplan.io chromium:chromium promtool:prometheus \
	dbus-daemon:dbus-daemon ModemManager:modemmanager \
	ffmpeg:ffmpeg node:nodejs npm:npm py.onnx:python3-onnx py.numpy:python3-numpy \
	nft:nftables systemd-analyze:systemd dpkg-deb:dpkg \
	gcc:gcc readelf:binutils setpriv:util-linux chroot:coreutils ufw:ufw

.PHONY: test test-deps ml-deps build vet fmt release deb

# Release builds: static binaries (CGO_ENABLED=0: no vision) for these platforms in dist/.
VERSION ?= 0.1.0
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 linux/arm/v7
# Debian architectures `make deb` packages (amd64, arm64, armhf), each with a
# cgo binary (vision) when its C compiler is here (gcc-aarch64-linux-gnu,
# gcc-arm-linux-gnueabihf across), else a static one with a warning.
DEB_ARCHES ?= amd64

# Test artifacts (the dashboard's screenshots, one folder per test) are kept
# in test-artifacts/ (gitignored).
test: test-deps ml-deps
	BORDA_ARTIFACTS=$(CURDIR)/test-artifacts $(GO) test -race -timeout 30m ./...

test-deps:
	@./scripts/install-test-deps.sh $(TEST_TOOLS)

# ONNX Runtime and the vision test model, cached outside git (~/.cache/borda).
ml-deps: test-deps
	@./scripts/ml-deps.sh

build:
	$(GO) build -o bin/borda ./cmd/borda

# Prints each binary's size; fails if one is over 40 MB. dist/SHA256SUMS too.
release:
	@GO=$(GO) VERSION=$(VERSION) PLATFORMS="$(RELEASE_PLATFORMS)" OUT=dist ./scripts/release.sh

# dist/borda_<version>-1_<arch>.deb with nfpm (deploy/nfpm.yaml), binary built first.
deb:
	@set -e; for a in $(DEB_ARCHES); do GO=$(GO) VERSION=$(VERSION) ARCH=$$a OUT=dist ./scripts/deb.sh; done

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')
