// Package auth holds the security mechanics of the dashboard and the API:
// password hashing (argon2id), sessions in the shared cache, CSRF tokens,
// API token secrets and the login rate limit. It knows nothing of HTTP
// routes or roles; package admin applies it.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes), which
// costs ~30 ms here: slow for guessing, fine for a login.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLen is the shortest password accepted (NIST SP 800-63B asks
// for at least 8; a dashboard that can empty a consent log asks for more).
const MinPasswordLen = 12

// ErrWeakPassword is returned for a password shorter than MinPasswordLen;
// ErrCommonPassword for one that is, or is built on, a common password.
var (
	ErrWeakPassword   = fmt.Errorf("a password needs at least %d characters", MinPasswordLen)
	ErrCommonPassword = errors.New("this password is too common: it is (or is built on) one of the passwords people use most; choose another, a few unrelated words work well")
)

// HashPassword returns an encoded argon2id hash of password, in the PHC
// string format, parameters included, so they can change later. It refuses
// passwords that CheckPasswordStrength refuses.
func HashPassword(password string) (string, error) {
	if err := CheckPasswordStrength(password); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return encodeHash(salt, key), nil
}

func encodeHash(salt, key []byte) string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

var errBadHash = errors.New("auth: not an argon2id hash")

// CheckPassword reports whether password matches hash.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false, errBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked against when an account does not exist, so a login
// takes as long for an unknown email as for a wrong password: the cost lies
// in the parameters, not the key. Not computed at start, which would cost
// every process argon2's 19 MiB and tens of milliseconds.
var dummyHash = encodeHash(make([]byte, saltLen), make([]byte, argonKeyLen))

// CheckNoPassword spends the time of one password check.
func CheckNoPassword(password string) { _, _ = CheckPassword(dummyHash, password) }

// RandomToken returns n random bytes, URL-safe base64 encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
