package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// TokenPrefix starts every API token, so secret scanners recognise one.
const TokenPrefix = "smt_"

// NewAPIToken returns a new token's id, the secret to show once, and the
// hash to store. The secret is "smt_<id>_<random>": the id finds the row,
// the random part (256 bits) is checked against the hash. With that much
// entropy a plain SHA-256 is enough; a slow hash would only slow the API.
func NewAPIToken() (id, secret, hash string) {
	id = strings.ToLower(RandomToken(9))
	id = strings.NewReplacer("-", "x", "_", "y").Replace(id)
	secret = TokenPrefix + id + "_" + RandomToken(32)
	return id, secret, HashSecret(secret)
}

// HashSecret is what is stored for a token secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ParseAPIToken returns the id of a well-formed token secret.
func ParseAPIToken(secret string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(secret, TokenPrefix)
	if !ok {
		return "", false
	}
	id, random, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 12 || len(random) < 32 {
		return "", false
	}
	return id, true
}

// CheckSecret reports whether secret matches the stored hash.
func CheckSecret(hash, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashSecret(secret))) == 1
}
