package ledger

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// The trees are RFC 9162's (§2.1): leaves SHA-256(0x00 ‖ data), interior
// nodes SHA-256(0x01 ‖ left ‖ right). transparency-dev/merkle computes them
// (compact ranges as the writer's frontier, proof node lists) and verifies
// proofs, so the verifier's arithmetic is not ours alone.
var (
	hasher = rfc6962.DefaultHasher
	ranges = &compact.RangeFactory{Hash: hasher.HashChildren}
)

// NodeID names a node of a tree: level 0 are the leaves.
type NodeID = compact.NodeID

// StoredLevel is the lowest level of interior nodes the writer stores. A
// node below it is hashed again from the leaves under it when a proof needs
// it (at most one block of 2^StoredLevel leaves per proof): storing every
// level would put a node row beside every leaf row.
const StoredLevel = 8

// Nodes reads stored node hashes of a log (ClickHouse), in the order asked;
// a node that is not stored is an error.
type Nodes interface {
	Nodes(ctx context.Context, log string, ids []NodeID) ([][]byte, error)
}

// InclusionProof is the audit path of leaf index in the tree of size
// (RFC 9162 §2.1.3), from stored nodes.
func InclusionProof(ctx context.Context, src Nodes, log string, index, size uint64) ([][]byte, error) {
	n, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return fetch(ctx, src, log, n)
}

// ConsistencyProof proves the tree of size2 extends the tree of size1
// (RFC 9162 §2.1.4), from stored nodes.
func ConsistencyProof(ctx context.Context, src Nodes, log string, size1, size2 uint64) ([][]byte, error) {
	n, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return fetch(ctx, src, log, n)
}

func fetch(ctx context.Context, src Nodes, log string, n proof.Nodes) ([][]byte, error) {
	hashes, err := nodes(ctx, src, log, n.IDs)
	if err != nil {
		return nil, err
	}
	return n.Rehash(hashes, hasher.HashChildren)
}

// RangeHashes are the roots of the perfect subtrees that cover leaves
// [begin, end), left to right: a compact range. [0, size) is a log's
// frontier; a bundle carries [0, begin) and [end, size) around the leaves it
// holds, so the signed root can be recomputed from them.
func RangeHashes(ctx context.Context, src Nodes, log string, begin, end uint64) ([][]byte, error) {
	return nodes(ctx, src, log, compact.RangeNodes(begin, end, nil))
}

// nodes reads the hashes of ids (complete subtrees) in one call to src:
// leaves and nodes from StoredLevel up as stored, the levels between
// hashed from the leaves under them.
func nodes(ctx context.Context, src Nodes, log string, ids []NodeID) ([][]byte, error) {
	var read []NodeID
	at := map[NodeID]int{} // position in read
	want := func(id NodeID) {
		if _, ok := at[id]; !ok {
			at[id] = len(read)
			read = append(read, id)
		}
	}
	for _, id := range ids {
		if id.Level == 0 || id.Level >= StoredLevel {
			want(id)
			continue
		}
		for i := id.Index << id.Level; i < (id.Index+1)<<id.Level; i++ {
			want(NodeID{Level: 0, Index: i})
		}
	}
	hashes, err := src.Nodes(ctx, log, read)
	if err != nil {
		return nil, err
	}
	var subtree func(id NodeID) []byte
	subtree = func(id NodeID) []byte {
		if i, ok := at[id]; ok {
			return hashes[i]
		}
		return hasher.HashChildren(subtree(NodeID{Level: id.Level - 1, Index: 2 * id.Index}),
			subtree(NodeID{Level: id.Level - 1, Index: 2*id.Index + 1}))
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = subtree(id)
	}
	return out, nil
}

// Range is a compact range being extended leaf by leaf (a verifier's or the
// writer's view of a tree).
type Range struct{ r *compact.Range }

// NewRange starts a range at begin from its compact hashes (none for an
// empty range).
func NewRange(begin, end uint64, hashes [][]byte) (*Range, error) {
	if begin == end && len(hashes) == 0 {
		return &Range{ranges.NewEmptyRange(begin)}, nil
	}
	r, err := ranges.NewRange(begin, end, hashes)
	if err != nil {
		return nil, err
	}
	return &Range{r}, nil
}

// Append adds a leaf hash; visit, if set, hears of every node it completes
// (the leaf included).
func (r *Range) Append(leaf [32]byte, visit func(id NodeID, hash []byte)) error {
	return r.r.Append(leaf[:], visit)
}

// AppendRange adds the compact range [r.End(), end) given by its hashes.
func (r *Range) AppendRange(end uint64, hashes [][]byte) error {
	o, err := NewRange(r.End(), end, hashes)
	if err != nil {
		return err
	}
	return r.r.AppendRange(o.r, nil)
}

// End is the index after the range's last leaf.
func (r *Range) End() uint64 { return r.r.End() }

// Hashes are the range's compact hashes.
func (r *Range) Hashes() [][]byte { return r.r.Hashes() }

// Root is the tree's root: the range must start at 0. An empty tree's root
// is SHA-256 of nothing.
func (r *Range) Root() ([32]byte, error) {
	if r.r.End() == 0 {
		return [32]byte(hasher.EmptyRoot()), nil
	}
	h, err := r.r.GetRootHash(nil)
	if err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h), nil
}

// Clone copies the range (its hashes are shared: they are never changed in
// place).
func (r *Range) Clone() *Range {
	c, _ := NewRange(r.r.Begin(), r.r.End(), append([][]byte(nil), r.r.Hashes()...))
	return c
}

// VerifyInclusion checks an audit path against a root.
func VerifyInclusion(index, size uint64, leaf [32]byte, path [][]byte, root [32]byte) error {
	return proof.VerifyInclusion(hasher, index, size, leaf[:], path, root[:])
}

// VerifyConsistency checks that root2 (size2) extends root1 (size1).
func VerifyConsistency(size1, size2 uint64, path [][]byte, root1, root2 [32]byte) error {
	if size1 == 0 {
		return nil
	}
	if err := proof.VerifyConsistency(hasher, size1, size2, path, root1[:], root2[:]); err != nil {
		return fmt.Errorf("the tree of size %d does not extend the tree of size %d: %w", size2, size1, err)
	}
	return nil
}

// HexHashes and ParseHashes convert proofs for JSON.
func HexHashes(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h)
	}
	return out
}

// ParseHashes decodes hex hashes of 32 bytes.
func ParseHashes(ss []string) ([][]byte, error) {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("hash %d (%.16q) is not 32 bytes of hex", i, s)
		}
		out[i] = b
	}
	return out, nil
}
