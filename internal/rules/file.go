package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadFile reads a rules file: YAML with a top-level `rules:` list of
// rules, like testdata/seed-rules.yaml. Unknown keys and malformed values
// are errors naming the file and line ("rules.yaml:7: ..."). The rules are
// decoded, not validated (Config.Validate does that).
func LoadFile(path string) ([]Rule, error) {
	rules, _, err := loadFile(path)
	return rules, err
}

// loadFile is LoadFile that also returns the line of every rule.
func loadFile(path string) ([]Rule, []int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read rules file: %w", err)
	}
	return parseFile(path, data)
}

func parseFile(name string, data []byte) ([]Rule, []int, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, yamlError(name, err)
	}
	var doc struct {
		Rules []Rule `yaml:"rules"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, yamlError(name, err)
	}
	lines := make([]int, len(doc.Rules))
	if seq := rulesNode(&root); seq != nil {
		for i, n := range seq.Content {
			if i < len(lines) {
				lines[i] = n.Line
			}
		}
	}
	return doc.Rules, lines, nil
}

// rulesNode is the sequence under the document's top-level `rules` key.
func rulesNode(root *yaml.Node) *yaml.Node {
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "rules" && m.Content[i+1].Kind == yaml.SequenceNode {
			return m.Content[i+1]
		}
	}
	return nil
}

// yamlError rewrites yaml's "line N: problem" messages as "name:N: problem".
func yamlError(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	errs := make([]error, 0, len(msgs))
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if num, msg, ok := strings.Cut(rest, ": "); ok {
				if _, err := strconv.Atoi(num); err == nil {
					errs = append(errs, fmt.Errorf("%s:%s: %s", name, num, msg))
					continue
				}
			}
		}
		errs = append(errs, fmt.Errorf("%s: %s", name, m))
	}
	return errors.Join(errs...)
}
