package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// unknownKeys walks the YAML tree alongside the Go type of target and
// reports every key the type does not have, with its field path and line.
func unknownKeys(n *yaml.Node, target any, path string) []string {
	return walk(n, reflect.TypeOf(target), path)
}

func walk(n *yaml.Node, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		// Not followed: aliases can expand exponentially. The strict
		// decoder still checks aliased content (with yaml's own limits).
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // an empty section keeps its defaults
	}
	switch {
	case t.Kind() == reflect.Struct && !isLeafStruct(t):
		if n.Kind != yaml.MappingNode {
			return []string{fmt.Sprintf("%s: expected a mapping of settings (line %d)", path, n.Line)}
		}
		return walkStruct(n, t, path)
	case t.Kind() == reflect.Slice && n.Kind != yaml.SequenceNode:
		return []string{fmt.Sprintf("%s: expected a list (line %d)", path, n.Line)}
	case t.Kind() == reflect.Slice:
		var out []string
		for i, item := range n.Content {
			out = append(out, walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		var out []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))...)
		}
		return out
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return []string{fmt.Sprintf("%s: %q is not a valid %s (line %d)", path, n.Value, typeName(t), n.Line)}
	}
	return nil
}

// kindNamer is a setting type that names its accepted values.
type kindNamer interface{ YAMLKind() string }

func typeName(t reflect.Type) string {
	if k, ok := reflect.New(t).Interface().(kindNamer); ok {
		return k.YAMLKind()
	}
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return "duration (like 90s, 15m, 24h)"
	case t.Kind() == reflect.Bool:
		return "boolean (true or false)"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.String:
		return "string"
	}
	return t.String()
}

func walkStruct(n *yaml.Node, t reflect.Type, path string) []string {
	fields := yamlFields(t)
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		p := join(path, key.Value)
		ft, ok := fields[key.Value]
		if !ok {
			out = append(out, fmt.Sprintf("%s: unknown field (line %d)", p, key.Line))
			continue
		}
		out = append(out, walk(val, ft, p)...)
	}
	return out
}

// yamlFields maps the YAML keys of struct t (following inline fields) to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// isLeafStruct reports struct types decoded from a scalar (time.Time and the like).
func isLeafStruct(t reflect.Type) bool {
	return t.PkgPath() == "time"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
