package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/samtycke/samtycke/server/internal/consent"
)

// Store keeps proofs and the keyring (ClickHouse).
type Store interface {
	AppendProof(ctx context.Context, p Proof) error
	// ProofAt returns the instance's proof number seq, or ErrNoProof.
	ProofAt(ctx context.Context, instance string, seq uint64) (Proof, error)
	PutKey(ctx context.Context, k PublicKey) error
}

// Sink is a consent.Sink that writes each batch's proof right after its
// rows and before the shipper checkpoints it. A crash between the two
// leaves a batch without proof only until the shipper ships it again from
// its checkpoint: same records, same previous proof, so the same proof.
type Sink struct {
	next consent.Sink
	st   Store
	key  *Key

	mu   sync.Mutex
	last map[string]Proof // the newest proof written, per instance
}

var _ consent.Sink = (*Sink)(nil)

// NewSink wraps next.
func NewSink(next consent.Sink, st Store, key *Key) *Sink {
	return &Sink{next: next, st: st, key: key, last: map[string]Proof{}}
}

// AppendBatch stores the batch's rows, then its proof.
func (s *Sink) AppendBatch(ctx context.Context, b consent.Batch) error {
	if len(b.Records) == 0 {
		return s.next.AppendBatch(ctx, b)
	}
	prev, err := s.prevLink(ctx, b.Instance, b.Seq)
	if err != nil {
		return err
	}
	p, err := Prove(&b, prev, s.key)
	if err != nil {
		return err
	}
	if err := s.next.AppendBatch(ctx, b); err != nil {
		return err
	}
	if err := s.st.AppendProof(ctx, p); err != nil {
		return fmt.Errorf("ledger: store proof of batch %d: %w", b.Seq, err)
	}
	s.mu.Lock()
	s.last[b.Instance] = p
	s.mu.Unlock()
	return nil
}

// prevLink finds the Link of the instance's proof seq-1: from memory after
// the first batch, else from the store. None (the instance's first batch,
// or batches shipped before proofs existed) starts the chain at ZeroLink.
func (s *Sink) prevLink(ctx context.Context, instance string, seq uint64) (string, error) {
	if seq <= 1 {
		return ZeroLink, nil
	}
	s.mu.Lock()
	p, ok := s.last[instance]
	s.mu.Unlock()
	if ok && p.Seq == seq-1 {
		return p.Link(), nil
	}
	p, err := s.st.ProofAt(ctx, instance, seq-1)
	if errors.Is(err, ErrNoProof) {
		return ZeroLink, nil
	}
	if err != nil {
		return "", fmt.Errorf("ledger: proof of batch %d: %w", seq-1, err)
	}
	return p.Link(), nil
}
