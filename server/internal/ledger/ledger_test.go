package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/rfc6962"
)

func testKey(t *testing.T) *Key {
	t.Helper()
	k, err := LoadKey(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyIsMadeOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKey(dir, false); err == nil {
		t.Fatal("a missing key was made although create was false")
	}
	k1, err := LoadKey(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKey(dir, false)
	if err != nil || k1.ID != k2.ID {
		t.Fatalf("the key must be kept: %v %v", k2, err)
	}
}

// A leaf's data has one encoding, and its hash is RFC 9162's.
func TestLeafRoundTripAndHash(t *testing.T) {
	l := Leaf{RecordID: uuid.New(), Site: "demo", TimeMs: 1764000000123, RetainUntil: time.Date(2028, 11, 24, 0, 0, 0, 0, time.UTC),
		RecordHash: sha256.Sum256([]byte("row"))}
	got, err := ParseLeaf(l.Data())
	if err != nil || got != l {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if h := l.Hash(); !bytes.Equal(h[:], rfc6962.DefaultHasher.HashLeaf(l.Data())) {
		t.Error("leaf hash is not SHA-256(0x00 ‖ data)")
	}
	for name, b := range map[string][]byte{"short": l.Data()[:20], "long": append(l.Data(), 'x'), "format": append([]byte{2}, l.Data()[1:]...)} {
		if _, err := ParseLeaf(b); err == nil {
			t.Errorf("%s leaf data parsed", name)
		}
	}
}

func signed(k *Key, log string, size uint64, at time.Time) Head {
	h := Head{Log: log, Size: size, Root: strings.Repeat("ab", 32), Timestamp: at.UnixMilli()}
	h.sign(k)
	return h
}

// A head verifies only with its log's key, and a key takes over only with
// its predecessor's statement.
func TestKeyringBindsKeysToLogs(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b, evil := testKey(t), testKey(t), testKey(t)
	pa := a.Published("inst-a", t0)
	pb := b.Published("inst-b", t0)
	anchors := Anchors{Fingerprint(a.Public): true, Fingerprint(b.Public): true}
	ring := NewKeyring([]PublicKey{pa, pb}, anchors)
	ok := signed(a, "demo@inst-a", 3, t0.Add(time.Hour))
	if _, err := ring.CheckHead(&ok); err != nil {
		t.Fatal(err)
	}
	wrongLog := signed(a, "demo@inst-b", 3, t0.Add(time.Hour))
	if _, err := ring.CheckHead(&wrongLog); err == nil || !strings.Contains(err.Error(), "not this log's key") {
		t.Errorf("a head of another instance's log: %v", err)
	}
	changed := ok
	changed.Size++
	if _, err := ring.CheckHead(&changed); err == nil || !strings.Contains(err.Error(), "bad signature") {
		t.Errorf("a changed head: %v", err)
	}
	// An attacker's key published for inst-a (in ClickHouse, say) signs
	// nothing an auditor trusts.
	pe := evil.Published("inst-a", t0)
	ring = NewKeyring([]PublicKey{pa, pb, pe}, anchors)
	forged := signed(evil, "demo@inst-a", 9, t0.Add(time.Hour))
	if _, err := ring.CheckHead(&forged); err == nil || !strings.Contains(err.Error(), "does not chain to a trusted key") {
		t.Errorf("an inserted key: %v", err)
	}
	// Claiming a trusted key for another instance breaks its self-signature.
	moved := pa
	moved.Instance = "inst-b"
	ring = NewKeyring([]PublicKey{moved}, anchors)
	if _, err := ring.CheckHead(&wrongLog); err == nil || !strings.Contains(err.Error(), "not published by its owner") {
		t.Errorf("a key moved to another instance: %v", err)
	}
	// A transition without the previous key's signature: refused.
	pe.Transition = &Transition{Previous: a.ID, At: t0.Add(time.Hour), Signature: strings.Repeat("00", 64)}
	ring = NewKeyring([]PublicKey{pa, pe}, anchors)
	late := signed(evil, "demo@inst-a", 9, t0.Add(2*time.Hour))
	if _, err := ring.CheckHead(&late); err == nil || !strings.Contains(err.Error(), "not signed by previous key") {
		t.Errorf("a forged transition: %v", err)
	}
	// A proper rotation: the new key is valid from the hand-over, the old
	// one until then.
	next := testKey(t)
	pn := next.Published("inst-a", t0.Add(time.Hour))
	a.Hand(&pn, t0.Add(time.Hour))
	ring = NewKeyring([]PublicKey{pa, pn}, anchors)
	for _, c := range []struct {
		h    Head
		want string
	}{
		{signed(next, "demo@inst-a", 5, t0.Add(2*time.Hour)), ""},
		{signed(a, "demo@inst-a", 4, t0.Add(30*time.Minute)), ""},
		{signed(a, "demo@inst-a", 6, t0.Add(3*time.Hour)), "after it was retired"},
		{signed(next, "demo@inst-a", 2, t0.Add(10*time.Minute)), "before it took over"},
	} {
		_, err := ring.CheckHead(&c.h)
		if (c.want == "" && err != nil) || (c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want))) {
			t.Errorf("head of %s at %s: %v, want %q", c.h.KeyID, c.h.Time(), err, c.want)
		}
	}
	// Without anchors everything is checked but nothing is anchored.
	ring = NewKeyring([]PublicKey{pa}, nil)
	if anchored, err := ring.CheckHead(&ok); err != nil || anchored {
		t.Errorf("without anchors: %v %v", anchored, err)
	}
}

// Proofs from the writer's own tree verify with transparency-dev/merkle;
// compact ranges around a slice of leaves give the root.
// Proofs and ranges come from what the writer stores, the leaves and the
// nodes from StoredLevel up, in a tree of a few blocks of 2^StoredLevel.
func TestProofsAndRanges(t *testing.T) {
	nodes := memNodes{}
	r, err := NewRange(0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var leaves [][32]byte
	var roots [][32]byte
	for i := range 600 {
		h := LeafHash([]byte{byte(i), byte(i >> 8)})
		leaves = append(leaves, h)
		err := r.Append(h, func(id NodeID, hash []byte) {
			if id.Level == 0 || id.Level >= StoredLevel {
				nodes[id] = hash
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		root, err := r.Root()
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)
	}
	size := uint64(len(leaves))
	for i := range leaves {
		p, err := InclusionProof(t.Context(), nodes, "x", uint64(i), size)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyInclusion(uint64(i), size, leaves[i], p, roots[size-1]); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
	}
	for s1 := uint64(1); s1 <= size; s1 += 37 {
		p, err := ConsistencyProof(t.Context(), nodes, "x", s1, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyConsistency(s1, size, p, roots[s1-1], roots[size-1]); err != nil {
			t.Fatalf("consistency %d..%d: %v", s1, size, err)
		}
		if err := VerifyConsistency(s1, size, p, roots[(s1+1)%size], roots[size-1]); s1 != size && err == nil {
			t.Errorf("consistency %d..%d verified against another root", s1, size)
		}
	}
	for _, rg := range [][2]uint64{{0, 600}, {5, 9}, {16, 32}, {36, 37}, {0, 1}, {250, 520}, {256, 512}, {599, 600}} {
		left, err := RangeHashes(t.Context(), nodes, "x", 0, rg[0])
		if err != nil {
			t.Fatal(err)
		}
		right, err := RangeHashes(t.Context(), nodes, "x", rg[1], size)
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewRange(0, rg[0], left)
		if err != nil {
			t.Fatal(err)
		}
		for i := rg[0]; i < rg[1]; i++ {
			if err := v.Append(leaves[i], nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := v.AppendRange(size, right); err != nil {
			t.Fatal(err)
		}
		if root, err := v.Root(); err != nil || root != roots[size-1] {
			t.Errorf("range %v: root %x %v", rg, root, err)
		}
	}
}

type memNodes map[NodeID][]byte

func (m memNodes) Nodes(_ context.Context, _ string, ids []NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := m[id]
		if !ok {
			return nil, fmt.Errorf("node %v missing", id)
		}
		out[i] = h
	}
	return out, nil
}
