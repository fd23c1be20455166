package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
)

// Proof is the signed statement about one shipped batch. Root, Prev,
// Signature and KeyID are hex.
type Proof struct {
	BatchID   uuid.UUID `json:"batch_id"`
	Instance  string    `json:"instance"`
	Seq       uint64    `json:"seq"`
	Format    uint8     `json:"format"`
	Rows      uint32    `json:"rows"`
	Root      string    `json:"root"`
	Prev      string    `json:"prev"` // Link of the instance's previous proof; zeros for its first
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
}

// ZeroLink is Prev of an instance's first proven batch.
var ZeroLink = hex.EncodeToString(make([]byte, 32))

// Message is what is signed: every field but the key and the signature,
// one per line, after a domain separator.
func (p *Proof) Message() []byte {
	return []byte("samtycke-ledger-v" + strconv.Itoa(int(p.Format)) + "\n" + p.BatchID.String() + "\n" + p.Instance + "\n" +
		strconv.FormatUint(p.Seq, 10) + "\n" + strconv.FormatUint(uint64(p.Rows), 10) + "\n" + p.Root + "\n" + p.Prev + "\n")
}

// Link is the hash of the proof's message: the next proof's Prev. It covers
// the batch's identity, size and root, so a chain cannot be re-pointed.
func (p *Proof) Link() string {
	h := sha256.Sum256(p.Message())
	return hex.EncodeToString(h[:])
}

// Prove makes the proof of batch b after the proof whose Link is prev.
// Everything in it follows from b, prev and the key (Ed25519 signatures are
// deterministic), so a batch shipped twice gets the identical proof.
func Prove(b *consent.Batch, prev string, k *Key) (Proof, error) {
	leaves := make([][32]byte, len(b.Records))
	for i := range b.Records {
		l, err := LeafOf(RowOf(uuid.Nil, &b.Records[i]))
		if err != nil {
			return Proof{}, fmt.Errorf("prove batch %d: record %d: %w", b.Seq, i, err)
		}
		leaves[i] = l.Hash()
	}
	r := Root(leaves)
	p := Proof{BatchID: b.ID, Instance: b.Instance, Seq: b.Seq, Format: Format, Rows: uint32(len(b.Records)),
		Root: hex.EncodeToString(r[:]), Prev: prev, KeyID: k.ID}
	p.Signature = hex.EncodeToString(ed25519.Sign(k.private, p.Message()))
	return p, nil
}

// Check verifies the proof's signature with the public key named by its
// KeyID in keys (key ID → public key).
func (p *Proof) Check(keys map[string]ed25519.PublicKey) error {
	if p.Format != Format {
		return fmt.Errorf("proof of batch %s: unknown format %d", p.BatchID, p.Format)
	}
	pub, ok := keys[p.KeyID]
	if !ok {
		return fmt.Errorf("proof of batch %s (%s #%d): signed by unknown key %s", p.BatchID, p.Instance, p.Seq, p.KeyID)
	}
	sig, err := hex.DecodeString(p.Signature)
	if err != nil || !ed25519.Verify(pub, p.Message(), sig) {
		return fmt.Errorf("proof of batch %s (%s #%d): bad signature", p.BatchID, p.Instance, p.Seq)
	}
	return nil
}

// ErrNoProof is returned by a Store that has no proof for a batch.
var ErrNoProof = errors.New("ledger: no proof")
