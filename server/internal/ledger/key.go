package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Key is an instance's signing key.
type Key struct {
	ID      string // KeyID of the public key
	Public  ed25519.PublicKey
	private ed25519.PrivateKey
}

// PublicKey is a key as published (GET /.well-known/samtycke-keys.json) and
// kept in the keyring after rotation: hex public key.
type PublicKey struct {
	ID        string    `json:"key_id"`
	PublicKey string    `json:"public_key"`
	Instance  string    `json:"instance"`
	CreatedAt time.Time `json:"created_at"`
}

// KeyID names a public key: the first 16 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:16])
}

// KeyFile is where an instance keeps its key, under the data directory.
const KeyFile = "ledger-ed25519.key"

// LoadKey reads the key in dir, or makes one (mode 0600) on first start.
// Rotating is removing the file (keep a copy offline) and restarting: the
// old public key stays in the keyring, so old proofs still verify.
func LoadKey(dir string) (*Key, error) {
	path := filepath.Join(dir, KeyFile)
	seed, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		seed = make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, fmt.Errorf("ledger key: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("ledger key: %w", err)
		}
		// O_EXCL: two processes starting at once keep one key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return LoadKey(dir)
		}
		if err != nil {
			return nil, fmt.Errorf("ledger key: %w", err)
		}
		_, err = f.Write([]byte(hex.EncodeToString(seed) + "\n"))
		if err == nil {
			err = f.Sync()
		}
		if e := f.Close(); err == nil {
			err = e
		}
		if err != nil {
			return nil, fmt.Errorf("ledger key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	} else if seed, err = hex.DecodeString(string(bytes.TrimSpace(seed))); err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("ledger key: %s is not a hex Ed25519 seed", path)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return &Key{ID: KeyID(pub), Public: pub, private: priv}, nil
}

// Published is the key as it goes into the keyring.
func (k *Key) Published(instance string, now time.Time) PublicKey {
	return PublicKey{ID: k.ID, PublicKey: hex.EncodeToString(k.Public), Instance: instance, CreatedAt: now.UTC().Truncate(time.Second)}
}

// ParseKeys turns published keys into a verification keyring, checking
// that each ID matches its key.
func ParseKeys(pks []PublicKey) (map[string]ed25519.PublicKey, error) {
	out := make(map[string]ed25519.PublicKey, len(pks))
	for _, pk := range pks {
		b, err := hex.DecodeString(pk.PublicKey)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("key %s: not a hex Ed25519 public key", pk.ID)
		}
		if KeyID(b) != pk.ID {
			return nil, fmt.Errorf("key %s: its ID does not match the key", pk.ID)
		}
		out[pk.ID] = b
	}
	return out, nil
}
