package sysctl

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// BBR says whether the wanted congestion control (bbr in the seed's
// profile) can be used on this kernel.
type BBR struct {
	Wanted    bool     `json:"wanted"`
	Algorithm string   `json:"algorithm"`
	Available bool     `json:"available"` // listed in tcp_available_congestion_control
	Listed    []string `json:"listed"`
	// Module is "builtin", "loadable" (a .ko for this kernel exists),
	// "absent" (modules tree present, no module) or "unknown" (no modules
	// tree: a container, or a kernel without modules).
	Module string `json:"module"`
	Note   string `json:"note,omitempty"`
}

// Summary is one line for people.
func (b BBR) Summary() string {
	if b.Available {
		return fmt.Sprintf("%s is available (tcp_available_congestion_control: %s)", b.Algorithm, strings.Join(b.Listed, " "))
	}
	return b.Note
}

// probeCongestion looks at tcp_available_congestion_control and, when
// alg is not there, at Root/lib/modules/<kernel> for its module.
func (h Host) probeCongestion(kernel, alg string) BBR {
	b := BBR{Wanted: true, Algorithm: alg, Module: "unknown"}
	listed, _, _ := h.read("net.ipv4.tcp_available_congestion_control")
	b.Listed = strings.Fields(listed)
	b.Available = slices.Contains(b.Listed, alg)
	mod := "tcp_" + alg
	b.Module = h.moduleState(kernel, mod)
	switch {
	case b.Available:
	case b.Module == "loadable":
		b.Note = fmt.Sprintf("%s is not loaded; module %s can be loaded (modprobe %s); apply loads it by setting the value and lists it in /etc/modules-load.d/borda.conf", alg, mod, mod)
	case b.Module == "builtin":
		b.Note = fmt.Sprintf("%s is built into kernel %s but not listed as available", alg, kernel)
	case b.Module == "absent":
		b.Note = fmt.Sprintf("%s is not available and kernel %s has no %s module: it cannot be loaded", alg, kernel, mod)
	default:
		b.Note = fmt.Sprintf("%s is not available; no /lib/modules/%s here (a container?): cannot tell whether %s can be loaded", alg, kernel, mod)
	}
	return b
}

// moduleState finds mod in modules.builtin or as a .ko file of kernel.
func (h Host) moduleState(kernel, mod string) string {
	dir := h.path("lib/modules/" + kernel)
	if kernel == "" || strings.ContainsAny(kernel, `/\`) {
		return "unknown"
	}
	if _, err := os.Stat(dir); err != nil {
		return "unknown"
	}
	if builtin, _ := listsModule(filepath.Join(dir, "modules.builtin"), mod); builtin {
		return "builtin"
	}
	found := false
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found {
			return fs.SkipAll
		}
		name := d.Name()
		if !d.IsDir() && (name == mod+".ko" || strings.HasPrefix(name, mod+".ko.")) {
			found = true
		}
		return nil
	})
	if found {
		return "loadable"
	}
	return "absent"
}

// listsModule reports whether a modules.builtin-style file names mod.
func listsModule(path, mod string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSuffix(filepath.Base(sc.Text()), ".ko") == mod {
			return true, nil
		}
	}
	return false, sc.Err()
}
