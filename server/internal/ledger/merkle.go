package ledger

import (
	"bytes"
	"crypto/sha256"
	"slices"
)

// Root is the Merkle root over leaf hashes. The leaves are sorted first (by
// their bytes), so the root depends on the set of records alone, not on the
// order the spool returned them in. The tree is RFC 6962's: interior nodes
// are SHA-256(0x01 ‖ left ‖ right), split at the largest power of two below
// the number of leaves. An empty batch has the root SHA-256("").
func Root(leaves [][32]byte) [32]byte {
	s := slices.Clone(leaves)
	slices.SortFunc(s, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return root(s)
}

func root(s [][32]byte) [32]byte {
	switch len(s) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return s[0]
	}
	k := 1
	for k*2 < len(s) {
		k *= 2
	}
	l, r := root(s[:k]), root(s[k:])
	var b [65]byte
	b[0] = 1
	copy(b[1:], l[:])
	copy(b[33:], r[:])
	return sha256.Sum256(b[:])
}
