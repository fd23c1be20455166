package ledger

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Head is a signed tree head (RFC 9162 §4.10): the log's size and root at
// a moment, signed by the log's key. Root, KeyID and Signature are hex.
type Head struct {
	Log       string `json:"log_id"`
	Size      uint64 `json:"tree_size"`
	Root      string `json:"root_hash"`
	Timestamp int64  `json:"timestamp"` // Unix milliseconds
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"`
}

// HeadFormat names the signed message's layout.
const HeadFormat = "samtycke-sth-v1"

// Message is what is signed: a domain separator, then log ID, size, root
// and timestamp, one per line.
func (h *Head) Message() []byte {
	return []byte(HeadFormat + "\n" + h.Log + "\n" + strconv.FormatUint(h.Size, 10) + "\n" + h.Root + "\n" +
		strconv.FormatInt(h.Timestamp, 10) + "\n")
}

// Time is the head's timestamp.
func (h *Head) Time() time.Time { return time.UnixMilli(h.Timestamp).UTC() }

// RootHash decodes Root.
func (h *Head) RootHash() ([32]byte, error) {
	var r [32]byte
	b, err := hex.DecodeString(h.Root)
	if err != nil || len(b) != 32 {
		return r, fmt.Errorf("head of %s at size %d: root_hash is not 32 bytes of hex", h.Log, h.Size)
	}
	return [32]byte(b), nil
}

func (h *Head) String() string {
	return fmt.Sprintf("head of %s at size %d (%s)", h.Log, h.Size, h.Time().Format(time.RFC3339))
}

// sign fills KeyID and Signature.
func (h *Head) sign(k *Key) {
	h.KeyID = k.ID
	h.Signature = hex.EncodeToString(ed25519.Sign(k.private, h.Message()))
}

// checkSignature verifies the signature with pub, nothing else.
func (h *Head) checkSignature(pub ed25519.PublicKey) error {
	sig, err := hex.DecodeString(h.Signature)
	if err != nil || !ed25519.Verify(pub, h.Message(), sig) {
		return fmt.Errorf("%s: bad signature", h)
	}
	return nil
}

// LogID names the log of site on instance. Each instance appends to logs of
// its own only, so logs never need coordination between instances. A log
// started again after it could not be continued (see Writer) gets a
// generation: site@instance~2.
func LogID(site, instance string) string { return site + "@" + instance }

// SplitLogID returns the site and instance (with generation) of a log ID.
func SplitLogID(id string) (site, instance string, err error) {
	site, instance, ok := strings.Cut(id, "@")
	if !ok || site == "" || instance == "" || strings.ContainsAny(id, "/\\ \n") {
		return "", "", fmt.Errorf("%q is not a log ID (site@instance)", id)
	}
	return site, instance, nil
}

// instanceOf is the instance whose key signs the log: the instance without
// the generation.
func instanceOf(logID string) (string, error) {
	_, inst, err := SplitLogID(logID)
	if err != nil {
		return "", err
	}
	inst, _, _ = strings.Cut(inst, "~")
	return inst, nil
}

// ErrNoHead is returned by a Store that has no head for a log.
var ErrNoHead = errors.New("ledger: no head")
