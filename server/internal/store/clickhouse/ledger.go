package clickhouse

import (
	"context"

	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/ledger"
)

var _ ledger.Store = (*Store)(nil)

const proofColumns = "batch_id, instance, seq, format, rows, root, prev, key_id, signature"

// AppendProof stores a batch's proof. Storing the same proof twice (a
// re-shipped batch) leaves one after merges; readers use FINAL.
func (s *Store) AppendProof(ctx context.Context, p ledger.Proof) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO batch_proofs ("+proofColumns+", proved_at)")
	if err != nil {
		return fmt.Errorf("append proof: %w", err)
	}
	if err := b.Append(p.BatchID, p.Instance, p.Seq, p.Format, p.Rows, p.Root, p.Prev, p.KeyID, p.Signature, time.Now().UTC()); err != nil {
		b.Abort()
		return fmt.Errorf("append proof: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("append proof %s #%d: %w", p.Instance, p.Seq, err)
	}
	return nil
}

// ProofAt returns the instance's proof number seq.
func (s *Store) ProofAt(ctx context.Context, instance string, seq uint64) (ledger.Proof, error) {
	ps, err := s.proofs(ctx, "instance = ? AND seq = ?", instance, seq)
	if err != nil {
		return ledger.Proof{}, err
	}
	if len(ps) == 0 {
		return ledger.Proof{}, ledger.ErrNoProof
	}
	return ps[0], nil
}

// Chain returns the instance's proofs numbered from..to, in order.
func (s *Store) Chain(ctx context.Context, instance string, from, to uint64) ([]ledger.Proof, error) {
	return s.proofs(ctx, "instance = ? AND seq >= ? AND seq <= ?", instance, from, to)
}

// ProofsOf returns the proofs of the given batches (those that have one).
func (s *Store) ProofsOf(ctx context.Context, ids []uuid.UUID) ([]ledger.Proof, error) {
	var out []ledger.Proof
	// One placeholder per ID, in chunks: 18.16 takes no array for IN.
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		ps, err := s.proofs(ctx, "batch_id IN (?"+strings.Repeat(", ?", n-1)+")", args...)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
		ids = ids[n:]
	}
	return out, nil
}

func (s *Store) proofs(ctx context.Context, where string, args ...any) ([]ledger.Proof, error) {
	rows, err := s.conn.Query(ctx, "SELECT "+proofColumns+" FROM batch_proofs FINAL WHERE "+where+" ORDER BY instance, seq", args...)
	if err != nil {
		return nil, fmt.Errorf("read proofs: %w", err)
	}
	defer rows.Close()
	var out []ledger.Proof
	for rows.Next() {
		var p ledger.Proof
		if err := rows.Scan(&p.BatchID, &p.Instance, &p.Seq, &p.Format, &p.Rows, &p.Root, &p.Prev, &p.KeyID, &p.Signature); err != nil {
			return nil, fmt.Errorf("read proofs: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read proofs: %w", err)
	}
	return out, nil
}

// PutKey adds a public key to the keyring (again at every start: harmless).
func (s *Store) PutKey(ctx context.Context, k ledger.PublicKey) error {
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM ledger_keys WHERE key_id = ?", k.ID).Scan(&n); err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	if n > 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO ledger_keys (key_id, public_key, instance, created_at)")
	if err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	if err := b.Append(k.ID, k.PublicKey, k.Instance, k.CreatedAt); err != nil {
		b.Abort()
		return fmt.Errorf("put key: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	return nil
}

// Keys lists every public key that has signed proofs here, oldest first.
func (s *Store) Keys(ctx context.Context) ([]ledger.PublicKey, error) {
	rows, err := s.conn.Query(ctx, "SELECT key_id, any(public_key), any(instance), min(created_at) FROM ledger_keys GROUP BY key_id ORDER BY min(created_at), key_id")
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	defer rows.Close()
	out := []ledger.PublicKey{}
	for rows.Next() {
		var k ledger.PublicKey
		if err := rows.Scan(&k.ID, &k.PublicKey, &k.Instance, &k.CreatedAt); err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		k.CreatedAt = k.CreatedAt.UTC()
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return out, nil
}
