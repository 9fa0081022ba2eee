package httpguard

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// PublicRead is auth.public_read: auto, true or false (YAML booleans or
// the word auto).
type PublicRead string

// PublicRead values. Auto mirrors the MQTT side's anonymous: auto: open
// while nothing is configured (a first run on a bench), closed as soon as
// credentials exist.
const (
	PublicReadAuto PublicRead = "auto"  // public while no tokens or users are configured
	PublicReadOn   PublicRead = "true"  // reads are always public
	PublicReadOff  PublicRead = "false" // every request needs credentials except auth.public
)

func (p PublicRead) valid() error {
	switch p {
	case PublicReadAuto, PublicReadOn, PublicReadOff:
		return nil
	}
	return fmt.Errorf("%q is not auto, true or false", string(p))
}

// public reports whether reads are public, given whether credentials are
// configured.
func (p PublicRead) public(haveCredentials bool) bool {
	switch p {
	case PublicReadOn:
		return true
	case PublicReadOff:
		return false
	}
	return !haveCredentials
}

// YAMLKind names the accepted values (for borda check's messages).
func (*PublicRead) YAMLKind() string { return "value (auto, true or false)" }

// UnmarshalYAML accepts true, false and auto.
func (p *PublicRead) UnmarshalYAML(n *yaml.Node) error {
	v := PublicRead(n.Value)
	if n.Kind != yaml.ScalarNode || v.valid() != nil {
		return fmt.Errorf("line %d: public_read: %q is not auto, true or false", n.Line, n.Value)
	}
	*p = v
	return nil
}
