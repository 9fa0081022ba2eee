package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/config"
)

// No Docker engine runs on these machines (and neither compose nor
// hadolint is installed): the image and the stack are checked statically.

type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Image       string   `yaml:"image"`
	Restart     string   `yaml:"restart"`
	NetworkMode string   `yaml:"network_mode"`
	Ports       []string `yaml:"ports"`
	Volumes     []string `yaml:"volumes"`
	Devices     []string `yaml:"devices"`
	Environment []string `yaml:"environment"`
	DependsOn   []string `yaml:"depends_on"`
}

// TestComposeStack: the smart-city stack parses strictly; borda is built
// from this repository with a Dockerfile that exists; every bind mount
// from the repository exists (the mounted config is valid); named volumes
// are declared; dependencies name services; the seed's containers reach
// borda's MQTT port on the host network.
func TestComposeStack(t *testing.T) {
	var c composeFile
	decodeStrict(t, "docker/docker-compose.yml", &c)
	b, ok := c.Services["borda"]
	if !ok || b.Build == nil {
		t.Fatalf("no borda service built from source: %+v", c.Services)
	}
	ctx := filepath.Join("docker", b.Build.Context)
	if _, err := os.Stat(filepath.Join(ctx, b.Build.Dockerfile)); err != nil {
		t.Errorf("borda build: %v", err)
	}
	if _, err := os.Stat(filepath.Join(ctx, "go.mod")); err != nil {
		t.Errorf("build context %s is not the repository root: %v", b.Build.Context, err)
	}
	for _, want := range []string{"traffic-controller", "camera-processor"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("the seed's %s service is missing", want)
		}
	}
	for _, gone := range []string{"mosquitto", "collector", "influxdb", "redis"} {
		if _, ok := c.Services[gone]; ok {
			t.Errorf("%s is still in the stack: borda replaces it", gone)
		}
	}
	var cfgMount string
	for name, s := range c.Services {
		checkService(t, name, s, c)
		for _, v := range s.Volumes {
			if src, dst, _ := strings.Cut(v, ":"); strings.HasPrefix(src, ".") && strings.HasPrefix(dst, "/etc/borda/borda.yaml") {
				cfgMount = filepath.Join("docker", src)
			}
		}
	}
	cfg, err := config.Load(cfgMount)
	if cfgMount == "" || err != nil {
		t.Fatalf("borda's mounted config %q: %v", cfgMount, err)
	}
	if b.NetworkMode != "host" && !publishes(b.Ports, 1883) {
		t.Error("borda's MQTT port is neither on the host network nor published")
	}
	for _, l := range cfg.Broker.Listeners {
		if !slices.Contains(dockerfileExposed(t), l.Port) {
			t.Errorf("listener %s port %d is not EXPOSEd by the Dockerfile", l.Name, l.Port)
		}
	}
}

func checkService(t *testing.T, name string, s composeService, c composeFile) {
	t.Helper()
	if s.Image == "" && s.Build == nil {
		t.Errorf("%s: neither image nor build", name)
	}
	for _, d := range s.DependsOn {
		if _, ok := c.Services[d]; !ok {
			t.Errorf("%s depends on unknown service %s", name, d)
		}
	}
	for _, v := range s.Volumes {
		src, _, ok := strings.Cut(v, ":")
		switch {
		case !ok:
			t.Errorf("%s: volume %q has no target", name, v)
		case strings.HasPrefix(src, "."):
			if _, err := os.Stat(filepath.Join("docker", src)); err != nil {
				t.Errorf("%s: bind mount %s: %v", name, src, err)
			}
		case !strings.HasPrefix(src, "/"):
			if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s: named volume %s is not declared", name, src)
			}
		}
	}
	for _, e := range s.Environment {
		if k, v, _ := strings.Cut(e, "="); k == "MQTT_BROKER" && v != "localhost:1883" {
			t.Errorf("%s: MQTT_BROKER=%s, want borda at localhost:1883", name, v)
		}
	}
}

func publishes(ports []string, port int) bool {
	for _, p := range ports {
		if strings.HasSuffix(strings.TrimSuffix(p, "/tcp"), ":"+strconv.Itoa(port)) {
			return true
		}
	}
	return false
}

// TestDockerfile: multi-stage, a cgo build (vision can load ONNX Runtime)
// with the C compiler for the target (Debian's cross compilers and their
// libc for the other architectures), a small glibc nonroot final image, and
// every file it copies from the context exists.
func TestDockerfile(t *testing.T) {
	ins := dockerfile(t)
	var froms, runs []string
	for _, in := range ins {
		switch in.op {
		case "FROM":
			froms = append(froms, in.args)
		case "COPY":
			f := strings.Fields(in.args)
			if strings.HasPrefix(f[0], "--from=") || slices.ContainsFunc(f, func(s string) bool { return strings.HasPrefix(s, "--from=") }) {
				continue
			}
			for _, src := range f[:len(f)-1] {
				if _, err := os.Stat(filepath.Join("..", src)); !strings.HasPrefix(src, "--") && err != nil {
					t.Errorf("COPY %s: %v", src, err)
				}
			}
		case "RUN":
			runs = append(runs, in.args)
			if strings.Contains(in.args, "go build") && (!strings.Contains(in.args, "CGO_ENABLED=1") || !strings.Contains(in.args, `CC="$(cat /tmp/cc)"`)) {
				t.Errorf("go build without CGO_ENABLED=1 and the target's C compiler: %s", in.args)
			}
		}
	}
	if len(froms) < 2 || !strings.Contains(froms[len(froms)-1], "distroless/cc-debian12") {
		t.Errorf("want a multi-stage build ending on distroless/cc-debian12 (glibc, libstdc++), got %v", froms)
	}
	cc := strings.Join(runs, "\n")
	for _, want := range []string{"aarch64-linux-gnu", "arm-linux-gnueabihf", "x86_64-linux-gnu", `"libc6-dev-$debarch-cross"`,
		`"gcc-$(echo "$triplet" | tr _ -)"`, `> /tmp/cc`} {
		if !strings.Contains(cc, want) {
			t.Errorf("no %s in the C compiler setup", want)
		}
	}
	if last(ins, "USER") != "nonroot:nonroot" {
		t.Errorf("final USER %q, want nonroot:nonroot", last(ins, "USER"))
	}
	if !strings.Contains(last(ins, "ENTRYPOINT"), "/usr/bin/borda") {
		t.Errorf("ENTRYPOINT %q", last(ins, "ENTRYPOINT"))
	}
}

type instruction struct{ op, args string }

// dockerfile reads docker/Dockerfile into instructions, joining
// continuation lines and dropping comments.
func dockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || (l == "" && cur == "") {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur += s + " "
			continue
		}
		cur += l
		op, args, _ := strings.Cut(cur, " ")
		out = append(out, instruction{strings.ToUpper(op), strings.TrimSpace(args)})
		cur = ""
	}
	return out
}

func dockerfileExposed(t *testing.T) []int {
	var ports []int
	for _, in := range dockerfile(t) {
		if in.op == "EXPOSE" {
			for _, p := range strings.Fields(in.args) {
				n, _ := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
				ports = append(ports, n)
			}
		}
	}
	return ports
}

func last(ins []instruction, op string) string {
	v := ""
	for _, in := range ins {
		if in.op == op {
			v = in.args
		}
	}
	return v
}

func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
