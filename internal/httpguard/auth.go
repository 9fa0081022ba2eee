package httpguard

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// credentials holds SHA-256 digests of the configured secrets. Requests
// are checked against every entry with constant-time comparisons of
// fixed-length digests, so neither the position of a match nor the length
// of a secret shows in the response time.
type credentials struct {
	tokens [][sha256.Size]byte
	users  []userDigest
}

type userDigest struct {
	name, password [sha256.Size]byte
}

func newCredentials(a AuthConfig) credentials {
	var c credentials
	for _, t := range a.Tokens {
		c.tokens = append(c.tokens, sha256.Sum256([]byte(t)))
	}
	for _, u := range a.Users {
		c.users = append(c.users, userDigest{name: sha256.Sum256([]byte(u.Username)),
			password: sha256.Sum256([]byte(u.Password))})
	}
	return c
}

func (c credentials) empty() bool { return len(c.tokens) == 0 && len(c.users) == 0 }

// check returns "" when r carries valid credentials, else the failure
// reason (authMissing, authBadToken, authBadPassword, authMalformed).
func (c credentials) check(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return authMissing
	}
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		if c.tokenOK(strings.TrimSpace(rest)) {
			return ""
		}
		return authBadToken
	case "basic":
		user, pass, ok := r.BasicAuth()
		if !ok {
			return authMalformed
		}
		if c.userOK(user, pass) {
			return ""
		}
		return authBadPassword
	}
	return authMalformed
}

func (c credentials) tokenOK(token string) bool {
	d := sha256.Sum256([]byte(token))
	match := 0
	for i := range c.tokens {
		match |= subtle.ConstantTimeCompare(d[:], c.tokens[i][:])
	}
	return match == 1 && token != ""
}

func (c credentials) userOK(user, pass string) bool {
	n, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	match := 0
	for i := range c.users {
		match |= subtle.ConstantTimeCompare(n[:], c.users[i].name[:]) & subtle.ConstantTimeCompare(p[:], c.users[i].password[:])
	}
	return match == 1
}
