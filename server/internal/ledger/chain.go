package ledger

import (
	"crypto/ed25519"
	"fmt"
)

// CheckChain verifies each proof's signature and that the proofs of each
// instance form an unbroken chain: seq numbers consecutive and each Prev
// the Link of the proof before. proofs must be sorted by instance and seq.
// A chain may start anywhere (a bundle holds a segment); it must start at
// ZeroLink only at an instance's first proven batch.
func CheckChain(proofs []Proof, keys map[string]ed25519.PublicKey) error {
	for i := range proofs {
		p := &proofs[i]
		if err := p.Check(keys); err != nil {
			return err
		}
		if i == 0 || proofs[i-1].Instance != p.Instance {
			continue
		}
		q := &proofs[i-1]
		if p.Seq != q.Seq+1 {
			return fmt.Errorf("chain of %s: batch %d follows batch %d: the batches between are missing", p.Instance, p.Seq, q.Seq)
		}
		if p.Prev != q.Link() {
			return fmt.Errorf("chain of %s: batch %d (%s) does not follow from batch %d", p.Instance, p.Seq, p.BatchID, q.Seq)
		}
	}
	return nil
}
