package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

var _ ledger.Store = (*Store)(nil)

// AppendTree stores leaves and interior nodes; the same ones again fold
// into one (ReplacingMergeTree on their positions).
func (s *Store) AppendTree(ctx context.Context, leaves []ledger.StoredLeaf, nodes []ledger.StoredNode) error {
	lb, err := s.conn.PrepareBatch(ctx, "INSERT INTO log_leaves (log_id, leaf_index, leaf_data, leaf_hash, record_id, time_ms, recorded_at)")
	if err != nil {
		return fmt.Errorf("append leaves: %w", err)
	}
	for i, l := range leaves {
		consent.StepAside(i)
		lf, err := ledger.ParseLeaf(l.Data)
		if err != nil {
			lb.Abort()
			return fmt.Errorf("append leaves: %s #%d: %w", l.Log, l.Index, err)
		}
		if err := lb.Append(l.Log, l.Index, string(l.Data), string(l.Hash[:]), l.RecordID, uint64(lf.TimeMs), l.RecordedAt.UTC()); err != nil {
			lb.Abort()
			return fmt.Errorf("append leaves: %w", err)
		}
	}
	if err := lb.Send(); err != nil {
		return fmt.Errorf("append leaves: %w", err)
	}
	if len(nodes) == 0 {
		return nil
	}
	nb, err := s.conn.PrepareBatch(ctx, "INSERT INTO log_nodes (log_id, level, idx, hash)")
	if err != nil {
		return fmt.Errorf("append nodes: %w", err)
	}
	for _, n := range nodes {
		if err := nb.Append(n.Log, uint8(n.ID.Level), n.ID.Index, string(n.Hash[:])); err != nil {
			nb.Abort()
			return fmt.Errorf("append nodes: %w", err)
		}
	}
	if err := nb.Send(); err != nil {
		return fmt.Errorf("append nodes: %w", err)
	}
	return nil
}

// AppendHeads stores signed heads, all in one insert.
func (s *Store) AppendHeads(ctx context.Context, heads []ledger.Head, seq uint64) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO log_heads (log_id, instance, tree_size, root_hash, timestamp_ms, key_id, signature, batch_seq)")
	if err != nil {
		return fmt.Errorf("append heads: %w", err)
	}
	for _, h := range heads {
		_, inst, err := ledger.SplitLogID(h.Log)
		if err != nil {
			b.Abort()
			return fmt.Errorf("append heads: %w", err)
		}
		inst, _, _ = strings.Cut(inst, "~")
		if err := b.Append(h.Log, inst, h.Size, h.Root, uint64(h.Timestamp), h.KeyID, h.Signature, seq); err != nil {
			b.Abort()
			return fmt.Errorf("append heads: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("append heads: %w", err)
	}
	return nil
}

// newestHeads reads the newest head (largest, then latest) of each log
// matching where.
func (s *Store) newestHeads(ctx context.Context, where string, args ...any) ([]ledger.StoredHead, error) {
	rows, err := s.conn.Query(ctx, "SELECT log_id, argMax(tuple(tree_size, root_hash, timestamp_ms, key_id, signature, batch_seq), tuple(tree_size, timestamp_ms)) AS h"+
		" FROM log_heads WHERE "+where+" GROUP BY log_id ORDER BY log_id", args...)
	if err != nil {
		return nil, fmt.Errorf("read heads: %w", err)
	}
	defer rows.Close()
	var out []ledger.StoredHead
	for rows.Next() {
		var h ledger.StoredHead
		var t []any
		if err := rows.Scan(&h.Log, &t); err != nil {
			return nil, fmt.Errorf("read heads: %w", err)
		}
		if len(t) != 6 {
			return nil, fmt.Errorf("read heads: a tuple of %d", len(t))
		}
		var ok [6]bool
		h.Size, ok[0] = t[0].(uint64)
		h.Root, ok[1] = t[1].(string)
		var ts uint64
		ts, ok[2] = t[2].(uint64)
		h.Timestamp = int64(ts)
		h.KeyID, ok[3] = t[3].(string)
		h.Signature, ok[4] = t[4].(string)
		h.Seq, ok[5] = t[5].(uint64)
		if ok != [6]bool{true, true, true, true, true, true} {
			return nil, fmt.Errorf("read heads: unexpected types %T", t)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// NewestHeads returns the newest head of every log of instance.
func (s *Store) NewestHeads(ctx context.Context, instance string) (map[string]ledger.StoredHead, error) {
	hs, err := s.newestHeads(ctx, "instance = ?", instance)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ledger.StoredHead, len(hs))
	for _, h := range hs {
		out[h.Log] = h
	}
	return out, nil
}

// SiteHeads returns the newest head of every log of site, of any instance.
func (s *Store) SiteHeads(ctx context.Context, site string) ([]ledger.Head, error) {
	return plainHeads(s.newestHeads(ctx, "startsWith(log_id, ?)", site+"@"))
}

// AllHeads returns the newest head of every log.
func (s *Store) AllHeads(ctx context.Context) ([]ledger.Head, error) {
	return plainHeads(s.newestHeads(ctx, "1 = 1"))
}

// NewestHead returns log's newest head, or ledger.ErrNoHead.
func (s *Store) NewestHead(ctx context.Context, log string) (ledger.Head, error) {
	hs, err := plainHeads(s.newestHeads(ctx, "log_id = ?", log))
	if err != nil {
		return ledger.Head{}, err
	}
	if len(hs) == 0 {
		return ledger.Head{}, ledger.ErrNoHead
	}
	return hs[0], nil
}

func plainHeads(hs []ledger.StoredHead, err error) ([]ledger.Head, error) {
	out := make([]ledger.Head, len(hs))
	for i := range hs {
		out[i] = hs[i].Head
	}
	return out, err
}

// Nodes reads node hashes of log: leaves from log_leaves, the rest from
// log_nodes. One query per table, one placeholder pair per node (18.16
// takes no tuple arrays for IN).
func (s *Store) Nodes(ctx context.Context, log string, ids []ledger.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	at := map[ledger.NodeID][]int{}
	var leafArgs, nodeArgs []any
	var nodeConds []string
	for i, id := range ids {
		if len(at[id]) == 0 {
			if id.Level == 0 {
				leafArgs = append(leafArgs, id.Index)
			} else {
				nodeConds = append(nodeConds, "(level = ? AND idx = ?)")
				nodeArgs = append(nodeArgs, uint8(id.Level), id.Index)
			}
		}
		at[id] = append(at[id], i)
	}
	read := func(sql string, args []any) error {
		rows, err := s.conn.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("read nodes of %s: %w", log, err)
		}
		defer rows.Close()
		for rows.Next() {
			var level uint8
			var idx uint64
			var h string
			if err := rows.Scan(&level, &idx, &h); err != nil {
				return fmt.Errorf("read nodes of %s: %w", log, err)
			}
			for _, i := range at[ledger.NodeID{Level: uint(level), Index: idx}] {
				out[i] = []byte(h)
			}
		}
		return rows.Err()
	}
	for len(leafArgs) > 0 {
		n := min(len(leafArgs), 1000)
		if err := read("SELECT toUInt8(0), leaf_index, any(leaf_hash) FROM log_leaves WHERE log_id = ? AND leaf_index IN (?"+strings.Repeat(", ?", n-1)+") GROUP BY leaf_index",
			append([]any{log}, leafArgs[:n]...)); err != nil {
			return nil, err
		}
		leafArgs = leafArgs[n:]
	}
	for len(nodeConds) > 0 {
		n := min(len(nodeConds), 500)
		if err := read("SELECT level, idx, any(hash) FROM log_nodes WHERE log_id = ? AND ("+strings.Join(nodeConds[:n], " OR ")+") GROUP BY level, idx",
			append([]any{log}, nodeArgs[:2*n]...)); err != nil {
			return nil, err
		}
		nodeConds, nodeArgs = nodeConds[n:], nodeArgs[2*n:]
	}
	for i, h := range out {
		if len(h) != 32 {
			return nil, fmt.Errorf("read nodes of %s: node %d/%d is not stored", log, ids[i].Level, ids[i].Index)
		}
	}
	return out, nil
}

// LeafAt returns leaf index of log.
func (s *Store) LeafAt(ctx context.Context, log string, index uint64) (ledger.Leaf, error) {
	var data string
	if err := s.conn.QueryRow(ctx, "SELECT any(leaf_data) FROM log_leaves WHERE log_id = ? AND leaf_index = ?", log, index).Scan(&data); err != nil {
		return ledger.Leaf{}, fmt.Errorf("leaf %d of %s: %w", index, log, err)
	}
	l, err := ledger.ParseLeaf([]byte(data))
	if err != nil {
		return l, fmt.Errorf("leaf %d of %s: %w", index, log, err)
	}
	return l, nil
}

// FindLeaf returns the index and hash of a record's leaf in log, below size.
func (s *Store) FindLeaf(ctx context.Context, log string, recordID uuid.UUID, size uint64) (uint64, [32]byte, error) {
	var idx uint64
	var h string
	var n uint64
	err := s.conn.QueryRow(ctx, "SELECT min(leaf_index), any(leaf_hash), count() FROM log_leaves WHERE log_id = ? AND record_id = ? AND leaf_index < ?", log, recordID, size).
		Scan(&idx, &h, &n)
	if err != nil {
		return 0, [32]byte{}, fmt.Errorf("find leaf: %w", err)
	}
	if n == 0 || len(h) != 32 {
		return 0, [32]byte{}, ledger.ErrNoHead
	}
	return idx, [32]byte([]byte(h)), nil
}

// FindLeafHash returns the index of the leaf with hash in log, below size.
func (s *Store) FindLeafHash(ctx context.Context, log string, hash [32]byte, size uint64) (uint64, error) {
	var idx, n uint64
	if err := s.conn.QueryRow(ctx, "SELECT min(leaf_index), count() FROM log_leaves WHERE log_id = ? AND leaf_hash = ? AND leaf_index < ?", log, string(hash[:]), size).
		Scan(&idx, &n); err != nil {
		return 0, fmt.Errorf("find leaf: %w", err)
	}
	if n == 0 {
		return 0, ledger.ErrNoHead
	}
	return idx, nil
}

// PutKey publishes a key (again at every start: harmless).
func (s *Store) PutKey(ctx context.Context, k ledger.PublicKey) error {
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM ledger_keys WHERE key_id = ? AND signature = ?", k.ID, k.Signature).Scan(&n); err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	if n > 0 {
		return nil
	}
	transition := ""
	if k.Transition != nil {
		b, err := json.Marshal(k.Transition)
		if err != nil {
			return err
		}
		transition = string(b)
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO ledger_keys (key_id, public_key, instance, created_at, signature, transition)")
	if err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	if err := b.Append(k.ID, k.PublicKey, k.Instance, k.CreatedAt, k.Signature, transition); err != nil {
		b.Abort()
		return fmt.Errorf("put key: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	return nil
}

// Keys lists every published key with a signature, oldest first. These
// are claims: whoever checks a head decides which of them to trust (a key
// inserted here by someone else is listed, and chains to no anchor).
func (s *Store) Keys(ctx context.Context) ([]ledger.PublicKey, error) {
	rows, err := s.conn.Query(ctx, "SELECT key_id, public_key, instance, created_at, signature, transition FROM ledger_keys WHERE signature != '' ORDER BY created_at, key_id, signature")
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	defer rows.Close()
	out := []ledger.PublicKey{}
	seen := map[string]bool{}
	for rows.Next() {
		var k ledger.PublicKey
		var transition string
		if err := rows.Scan(&k.ID, &k.PublicKey, &k.Instance, &k.CreatedAt, &k.Signature, &transition); err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		if seen[k.ID+k.Signature] {
			continue
		}
		seen[k.ID+k.Signature] = true
		k.CreatedAt = k.CreatedAt.UTC()
		if transition != "" {
			k.Transition = &ledger.Transition{}
			if err := json.Unmarshal([]byte(transition), k.Transition); err != nil {
				return nil, fmt.Errorf("keys: key %s: transition: %w", k.ID, err)
			}
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return out, nil
}

// LeafRange returns the leaves [begin, end) of a log whose log time lies in
// [from, to) bounds: begin is the number of leaves before from, end the
// number before to (times never decrease along a log), both below size;
// and the earliest recorded_at among them.
func (s *Store) LeafRange(ctx context.Context, log string, from, to time.Time, size uint64) (begin, end uint64, first time.Time, err error) {
	err = s.conn.QueryRow(ctx, "SELECT countIf(time_ms < ?), countIf(time_ms < ?), minIf(recorded_at, time_ms >= ? AND time_ms < ?) FROM "+
		"(SELECT leaf_index, any(time_ms) AS time_ms, any(recorded_at) AS recorded_at FROM log_leaves WHERE log_id = ? AND leaf_index < ? GROUP BY leaf_index)",
		uint64(from.UnixMilli()), uint64(to.UnixMilli()), uint64(from.UnixMilli()), uint64(to.UnixMilli()), log, size).Scan(&begin, &end, &first)
	if err != nil {
		return 0, 0, first, fmt.Errorf("leaf range of %s: %w", log, err)
	}
	return begin, end, first.UTC(), nil
}

// EachLeaf streams leaf data [begin, end) of log in order.
func (s *Store) EachLeaf(ctx context.Context, log string, begin, end uint64, fn func(index uint64, data []byte) error) error {
	rows, err := s.conn.Query(ctx, "SELECT leaf_index, any(leaf_data) FROM log_leaves WHERE log_id = ? AND leaf_index >= ? AND leaf_index < ? GROUP BY leaf_index ORDER BY leaf_index",
		log, begin, end)
	if err != nil {
		return fmt.Errorf("leaves of %s: %w", log, err)
	}
	defer rows.Close()
	var idx uint64
	var data string
	for rows.Next() {
		if err := rows.Scan(&idx, &data); err != nil {
			return fmt.Errorf("leaves of %s: %w", log, err)
		}
		if err := fn(idx, []byte(data)); err != nil {
			return err
		}
	}
	return rows.Err()
}
