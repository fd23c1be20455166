package ledger

import (
	"github.com/samtycke/samtycke/server/internal/durable"

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

// Key is an instance's signing key. It lives only in the instance's data
// directory; ClickHouse and the public routes see its public half.
type Key struct {
	ID      string // KeyID of the public key
	Public  ed25519.PublicKey
	private ed25519.PrivateKey
}

// KeyID names a public key: the first 16 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:16])
}

// Fingerprint is what an auditor pins: the whole SHA-256 of the public key,
// in hex.
func Fingerprint(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:])
}

// KeyFile is where an instance keeps its key, under the data directory.
// Retired keys are kept beside it as KeyFile + "." + key ID.
const KeyFile = "ledger-ed25519.key"

// LoadKey reads the key in dir, or makes one (mode 0600) when there is none
// and create is set (a new instance: the Writer refuses create when the
// instance already has logs).
func LoadKey(dir string, create bool) (*Key, error) {
	path := filepath.Join(dir, KeyFile)
	k, err := readKey(path)
	if !errors.Is(err, os.ErrNotExist) || !create {
		return k, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	// O_EXCL: two processes starting at once keep one key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return readKey(path)
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
	if err == nil {
		err = durable.SyncDir(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	return keyOfSeed(seed), nil
}

func readKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	seed, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("ledger key: %s is not a hex Ed25519 seed", path)
	}
	return keyOfSeed(seed), nil
}

func keyOfSeed(seed []byte) *Key {
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return &Key{ID: KeyID(pub), Public: pub, private: priv}
}

// PublicKey is a key as published (GET /.well-known/samtycke-keys.json, a
// bundle's keys.json, `samtycke log keys`): hex public key, the instance
// whose logs it signs, and a signature by the key itself over both, so that
// nobody without the key can bind it to another instance. A key that took
// over from another carries the transition the previous key signed.
type PublicKey struct {
	ID         string      `json:"key_id"`
	PublicKey  string      `json:"public_key"`
	Instance   string      `json:"instance"`
	CreatedAt  time.Time   `json:"created_at"`
	Signature  string      `json:"signature"`
	Transition *Transition `json:"transition,omitempty"`
	// Logs lists the logs of the key's instance when the list was made. It
	// is not signed: in a saved trust file it is the auditor's record of
	// which logs exist, and a bundle of a site must hold each of them.
	Logs []string `json:"logs,omitempty"`
}

// Transition is the previous key's signed statement that Next signs the
// instance's logs from At on, and it no longer does.
type Transition struct {
	Previous  string    `json:"previous_key_id"`
	At        time.Time `json:"at"`
	Signature string    `json:"signature"` // by the previous key
}

func (p *PublicKey) message() []byte {
	return []byte("samtycke-key-v1\n" + p.Instance + "\n" + p.PublicKey + "\n" + p.CreatedAt.UTC().Format(time.RFC3339) + "\n")
}

func (t *Transition) message(next *PublicKey) []byte {
	return []byte("samtycke-key-transition-v1\n" + next.Instance + "\n" + t.Previous + "\n" + next.ID + "\n" +
		t.At.UTC().Format(time.RFC3339Nano) + "\n")
}

// Published is the key as it goes into the keyring, signed by itself.
func (k *Key) Published(instance string, created time.Time) PublicKey {
	p := PublicKey{ID: k.ID, PublicKey: hex.EncodeToString(k.Public), Instance: instance, CreatedAt: created.UTC().Truncate(time.Second)}
	p.Signature = hex.EncodeToString(ed25519.Sign(k.private, p.message()))
	return p
}

// Hand makes next's transition: k (the previous key) signs that next takes
// over the instance's logs at.
func (k *Key) Hand(next *PublicKey, at time.Time) {
	t := &Transition{Previous: k.ID, At: at.UTC()}
	t.Signature = hex.EncodeToString(ed25519.Sign(k.private, t.message(next)))
	next.Transition = t
}

// parse checks the key's ID and its self-signature and returns the key.
func (p *PublicKey) parse() (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(p.PublicKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("key %s: not a hex Ed25519 public key", p.ID)
	}
	pub := ed25519.PublicKey(b)
	if KeyID(pub) != p.ID {
		return nil, fmt.Errorf("key %s: its ID does not match the key", p.ID)
	}
	sig, err := hex.DecodeString(p.Signature)
	if err != nil || !ed25519.Verify(pub, p.message(), sig) {
		return nil, fmt.Errorf("key %s: its signature over instance %q does not verify: the key was not published by its owner", p.ID, p.Instance)
	}
	return pub, nil
}

// RotateKey retires the key of the instance whose data directory is dir:
// a new key takes over, the old one signs the transition and is kept
// beside it as KeyFile.ID, and the state records the new key. The instance
// must be stopped (the caller holds the data directory), so that nothing is
// signed with the old key after the transition.
func RotateKey(dir string, now time.Time) (PublicKey, error) {
	s, err := readState(dir)
	if err != nil {
		return PublicKey{}, err
	}
	if s == nil || len(s.Keys) == 0 {
		return PublicKey{}, fmt.Errorf("ledger: %s has no %s: nothing to rotate", dir, StateFile)
	}
	path := filepath.Join(dir, KeyFile)
	old, err := readKey(path)
	if err != nil {
		return PublicKey{}, err
	}
	if cur := s.Keys[len(s.Keys)-1]; cur.ID != old.ID {
		return PublicKey{}, fmt.Errorf("ledger: the key in %s (%s) is not the instance's current key %s", dir, old.ID, cur.ID)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return PublicKey{}, fmt.Errorf("ledger key: %w", err)
	}
	next := keyOfSeed(seed).Published(s.Instance, now)
	old.Hand(&next, now)
	// The retired key is kept (a hard link, then the new key takes the
	// name), so a crash leaves either key usable, never neither; the state
	// names the new one last.
	if err := os.Link(path, path+"."+old.ID); err != nil && !errors.Is(err, os.ErrExist) {
		return PublicKey{}, fmt.Errorf("ledger key: keep the old key: %w", err)
	}
	s.Keys = append(s.Keys, next)
	if err := durable.WriteFile(path, []byte(hex.EncodeToString(seed)+"\n")); err != nil {
		return PublicKey{}, fmt.Errorf("ledger key: %w", err)
	}
	if err := s.save(dir); err != nil {
		return PublicKey{}, err
	}
	return next, nil
}
