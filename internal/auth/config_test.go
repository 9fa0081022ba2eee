package auth

import (
	"bytes"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestValidate(t *testing.T) {
	good := hashOf(t, "pw")
	tests := []struct {
		name string
		cfg  Config
		want []string // each a full line of the error; none: valid
	}{
		{"defaults", DefaultConfig(), nil},
		{"zero value", Config{}, nil},
		{"full", Config{Anonymous: "OFF", PasswordFile: "/etc/borda/passwd", Users: []User{{"u", good}},
			UseCertCNAsUsername: true, ACL: []Rule{
				{UserAny, "sensors/%u/#", "readwrite"}, {UserAnonymous, "public/+", "read"},
				{"u", "devices/%c/cmd", "subscribe"}, {"u", "#", "deny"}, {"u", "$SYS/#", "Write"},
			}}, nil},
		{"bad anonymous", Config{Anonymous: "maybe"}, []string{`anonymous: "maybe" is not one of auto, off, loopback, on`}},
		{"users", Config{Users: []User{{"", good}, {"a:b", good}, {"u", ""}, {"u", "plain"}, {"v", "$2a$04$" + good[7:]}}}, []string{
			"users[0].username: is empty",
			"users[1].username: contains ':'",
			"users[2].password_hash: is required (create one with borda passwd)",
			`users[3].username: "u" is already defined`,
			"users[3].password_hash: not a password hash: plaintext passwords are refused (create a hash with borda passwd)",
			"users[4].password_hash: weak bcrypt cost 4: the minimum is 10",
		}},
		{"acl", Config{ACL: []Rule{
			{"", "a", "read"},
			{"%all", "a", "read"},
			{UserAny, "a/#/b", "read"},
			{UserAny, "a/b+", "read"},
			{UserAny, "a/x%u", "read"},
			{UserAny, "", "read"},
			{UserAny, "$share/g/a", "read"},
			{UserAny, "a", "publish"},
		}}, []string{
			"acl[0].user: is required (a username, %any or %anonymous)",
			`acl[1].user: "%all" is not a username, %any or %anonymous`,
			`acl[2].topic "a/#/b": # must be the last level`,
			`acl[3].topic "a/b+": wildcard in "b+": + and # must be a whole level`,
			`acl[4].topic "a/x%u": substitution in "x%u": %u and %c must be a whole level`,
			`acl[5].topic "": is empty`,
			`acl[6].topic "$share/g/a": $share/<group>/ is not part of a pattern: rules apply to the filter after the group`,
			`acl[7].access: "publish" is not one of read, write, readwrite, subscribe, deny`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("Validate():\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestAnonymousPolicy(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{DefaultConfig(), AnonymousLoopback},
		{Config{Anonymous: "auto", PasswordFile: "p"}, AnonymousOff},
		{Config{Users: []User{{"u", "h"}}}, AnonymousOff},
		{Config{UseCertCNAsUsername: true}, AnonymousOff},
		{Config{Anonymous: "false"}, AnonymousOff},
		{Config{Anonymous: "No"}, AnonymousOff},
		{Config{Anonymous: "loopback", PasswordFile: "p"}, AnonymousLoopback},
		{Config{Anonymous: "true"}, AnonymousOn},
		{Config{Anonymous: "yes"}, AnonymousOn},
	}
	for _, tt := range tests {
		if got, err := tt.cfg.anonymousPolicy(); err != nil || got != tt.want {
			t.Errorf("%+v: policy %q (%v), want %q", tt.cfg, got, err, tt.want)
		}
	}
}

// TestYAML: the keys as an operator writes them, including YAML booleans
// for anonymous, decoded strictly.
func TestYAML(t *testing.T) {
	doc := `
anonymous: false
password_file: /etc/borda/passwd
users:
  - {username: alice, password_hash: "$2a$12$tIJ9fuGEqcJlc06ebbl1kekRl6lKyH33oLjg/jvaUh8.cpy.3jOt2"}
use_cert_cn_as_username: true
acl:
  - {user: "%any", topic: "sensors/%u/#", access: readwrite}
  - {user: alice, topic: "$SYS/#", access: read}
`
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if p, _ := cfg.anonymousPolicy(); p != AnonymousOff || cfg.PasswordFile != "/etc/borda/passwd" ||
		len(cfg.Users) != 1 || !cfg.UseCertCNAsUsername || len(cfg.ACL) != 2 || cfg.ACL[0].Topic != "sensors/%u/#" {
		t.Fatalf("decoded %+v", cfg)
	}
}
