package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// bcrypt costs accepted in password files and written by `borda passwd`.
const (
	MinBcryptCost     = 10 // below: refused as weak
	MaxBcryptCost     = 16 // above: one login would take seconds of CPU on an edge box
	DefaultBcryptCost = 12
	// MaxPasswordLen is bcrypt's limit; longer passwords are refused rather
	// than silently truncated.
	MaxPasswordLen = 72
)

// argon2id parameters accepted (OWASP minimum: 19 MiB, 2 iterations).
const (
	argonMinMemory = 19 * 1024   // KiB
	argonMaxMemory = 1024 * 1024 // KiB: 1 GiB per login is the ceiling
	argonMinTime   = 2
	argonMaxTime   = 64
	argonMinSalt   = 8
	argonMinKey    = 16
	argonMaxKey    = 128
)

// dummyCredential is a hash of a random password at cost, verified for
// unknown users.
func dummyCredential(cost int) (credential, error) {
	pw := make([]byte, 32)
	if _, err := rand.Read(pw); err != nil {
		return credential{}, fmt.Errorf("random dummy password: %w", err)
	}
	h, err := bcrypt.GenerateFromPassword(pw, cost)
	if err != nil {
		return credential{}, fmt.Errorf("dummy hash: %w", err)
	}
	return credential{bcrypt: h}, nil
}

// credential is a parsed password hash.
type credential struct {
	bcrypt []byte  // the whole bcrypt hash, or nil
	argon  *argonH // argon2id parameters, or nil
}

type argonH struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// verify compares password with the hash in constant time (for the hash).
func (c credential) verify(password []byte) bool {
	if c.argon != nil {
		a := c.argon
		got := argon2.IDKey(password, a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
		return subtle.ConstantTimeCompare(got, a.key) == 1
	}
	if len(password) > MaxPasswordLen {
		// bcrypt would compare only the first 72 bytes.
		_ = bcrypt.CompareHashAndPassword(c.bcrypt, password[:MaxPasswordLen])
		return false
	}
	return bcrypt.CompareHashAndPassword(c.bcrypt, password) == nil
}

// parseHash checks a hash string. Error messages never contain the hash
// or any part of it (it may be a mistyped plaintext password).
func parseHash(s string) (credential, error) {
	switch {
	case s == "":
		return credential{}, errors.New("empty password hash")
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		return parseBcrypt(s)
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2id(s)
	case strings.HasPrefix(s, "$7$"):
		return credential{}, errors.New("Mosquitto's PBKDF2-SHA512 hash ($7$) is not accepted: set the password again with borda passwd")
	case strings.HasPrefix(s, "$6$"):
		return credential{}, errors.New("Mosquitto's SHA512 hash ($6$) is not accepted: set the password again with borda passwd")
	case strings.HasPrefix(s, "$"):
		return credential{}, errors.New("unknown password hash format (bcrypt $2a$/$2b$/$2y$ or $argon2id$ expected)")
	}
	return credential{}, errors.New("not a password hash: plaintext passwords are refused (create a hash with borda passwd)")
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func parseBcrypt(s string) (credential, error) {
	// $2b$12$ + 22 characters of salt + 31 of hash.
	if len(s) != 60 || s[6] != '$' {
		return credential{}, errors.New("malformed bcrypt hash (want 60 characters: $2b$NN$ and 53 characters)")
	}
	cost, err := strconv.Atoi(s[4:6])
	if err != nil || s[4] < '0' || s[4] > '9' {
		return credential{}, errors.New("malformed bcrypt hash: the cost is not a two-digit number")
	}
	for i := 7; i < len(s); i++ {
		if !strings.ContainsRune(bcryptAlphabet, rune(s[i])) {
			return credential{}, errors.New("malformed bcrypt hash: invalid character in salt or hash")
		}
	}
	if cost < MinBcryptCost {
		return credential{}, fmt.Errorf("weak bcrypt cost %d: the minimum is %d", cost, MinBcryptCost)
	}
	if cost > MaxBcryptCost {
		return credential{}, fmt.Errorf("bcrypt cost %d is above %d: every login would take seconds of CPU", cost, MaxBcryptCost)
	}
	return credential{bcrypt: []byte(s)}, nil
}

// parseArgon2id reads a PHC string: $argon2id$v=19$m=65536,t=3,p=4$salt$key
// (salt and key in unpadded standard base64).
func parseArgon2id(s string) (credential, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[2] != "v=19" {
		return credential{}, errors.New("malformed argon2id hash (want $argon2id$v=19$m=..,t=..,p=..$salt$key)")
	}
	var a argonH
	var m, t, p uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return credential{}, errors.New("malformed argon2id hash: parameters must be m=,t=,p= numbers")
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			p = n
		default:
			return credential{}, errors.New("malformed argon2id hash: unknown parameter")
		}
	}
	var err1, err2 error
	a.salt, err1 = base64.RawStdEncoding.Strict().DecodeString(parts[4])
	a.key, err2 = base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return credential{}, errors.New("malformed argon2id hash: salt or key is not unpadded base64")
	}
	switch {
	case m < argonMinMemory || t < argonMinTime:
		return credential{}, fmt.Errorf("weak argon2id parameters: at least m=%d (KiB) and t=%d are required", argonMinMemory, argonMinTime)
	case m > argonMaxMemory || t > argonMaxTime || p < 1 || p > 255:
		return credential{}, fmt.Errorf("argon2id parameters out of range (m <= %d KiB, t <= %d, 1 <= p <= 255)", argonMaxMemory, argonMaxTime)
	case len(a.salt) < argonMinSalt || len(a.key) < argonMinKey || len(a.key) > argonMaxKey:
		return credential{}, fmt.Errorf("argon2id salt must be at least %d bytes and key %d..%d bytes", argonMinSalt, argonMinKey, argonMaxKey)
	}
	a.memory, a.time, a.threads = uint32(m), uint32(t), uint8(p)
	return credential{argon: &a}, nil
}

// HashPassword returns a bcrypt hash of password for a password file or
// an inline user. cost must be within MinBcryptCost..MaxBcryptCost.
func HashPassword(password []byte, cost int) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	if cost < MinBcryptCost || cost > MaxBcryptCost {
		return "", fmt.Errorf("bcrypt cost %d is outside %d..%d", cost, MinBcryptCost, MaxBcryptCost)
	}
	h, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

func checkPassword(password []byte) error {
	switch {
	case len(password) == 0:
		return errors.New("the password is empty")
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("the password is longer than %d bytes (bcrypt's limit)", MaxPasswordLen)
	}
	return nil
}

// validText reports whether s is valid UTF-8 without control characters.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
