package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
)

func testRecords(n int) []consent.Record {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	out := make([]consent.Record, n)
	for i := range out {
		out[i] = consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), Site: "demo",
			RecordedAt: at.Add(time.Duration(i) * time.Millisecond), ConfigVersion: 1, ConfigHash: "h", Lang: "sv",
			Categories: []string{"necessary", "statistics"}, Granted: []bool{true, i%2 == 0},
			Method: consent.MethodCustom, Source: consent.SourceBanner, PagePath: "/<&>", RetainUntil: at.AddDate(2, 0, 0)}
	}
	return out
}

func TestKeyIsMadeOnceWithMode0600(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k1.ID != k2.ID || len(k1.ID) != 32 {
		t.Errorf("key ids %q and %q: the key must be kept", k1.ID, k2.ID)
	}
	sum := sha256.Sum256(k1.Public)
	if k1.ID != hex.EncodeToString(sum[:16]) {
		t.Errorf("key id %s is not the hash of the public key", k1.ID)
	}
}

func TestProofIsDeterministicAndCoversEveryRecord(t *testing.T) {
	key, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]ed25519.PublicKey{key.ID: key.Public}
	recs := testRecords(7)
	b := consent.NewBatch("a", 3, recs)
	p1, err := Prove(&b, ZeroLink, key)
	if err != nil {
		t.Fatal(err)
	}
	// The same records in another order (the spool read again): the same proof.
	rev := make([]consent.Record, len(recs))
	for i := range recs {
		rev[i] = recs[len(recs)-1-i]
	}
	b2 := consent.NewBatch("a", 3, rev)
	p2, err := Prove(&b2, ZeroLink, key)
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 {
		t.Fatalf("a re-shipped batch got another proof:\n%+v\n%+v", p1, p2)
	}
	if err := p1.Check(keys); err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(rs []consent.Record) []consent.Record{
		"a changed choice": func(rs []consent.Record) []consent.Record { rs[2].Granted[1] = !rs[2].Granted[1]; return rs },
		"a deleted record": func(rs []consent.Record) []consent.Record { return rs[1:] },
		"an added record":  func(rs []consent.Record) []consent.Record { return append(rs, testRecords(1)...) },
		"a moved time": func(rs []consent.Record) []consent.Record {
			rs[0].RecordedAt = rs[0].RecordedAt.Add(time.Millisecond)
			return rs
		},
	}
	for name, change := range changes {
		rs := change(cloneRecords(recs))
		b := consent.NewBatch("a", 3, rs)
		p, err := Prove(&b, ZeroLink, key)
		if err != nil {
			t.Fatal(err)
		}
		if p.Root == p1.Root {
			t.Errorf("%s: same root", name)
		}
	}
	bad := p1
	bad.Rows++
	if err := bad.Check(keys); err == nil || !strings.Contains(err.Error(), "bad signature") {
		t.Errorf("a proof with another row count: %v, want a bad signature", err)
	}
}

func cloneRecords(rs []consent.Record) []consent.Record {
	out := make([]consent.Record, len(rs))
	for i, r := range rs {
		r.Granted = append([]bool(nil), r.Granted...)
		out[i] = r
	}
	return out
}

func TestChain(t *testing.T) {
	key, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]ed25519.PublicKey{key.ID: key.Public}
	var chain []Proof
	prev := ZeroLink
	for seq := uint64(1); seq <= 4; seq++ {
		b := consent.NewBatch("a", seq, testRecords(3))
		p, err := Prove(&b, prev, key)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, p)
		prev = p.Link()
	}
	if err := CheckChain(chain, keys); err != nil {
		t.Fatal(err)
	}
	gap := append(append([]Proof{}, chain[:1]...), chain[2:]...)
	if err := CheckChain(gap, keys); err == nil || !strings.Contains(err.Error(), "batch 3 follows batch 1") {
		t.Errorf("a missing batch: %v", err)
	}
	other, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckChain(chain, map[string]ed25519.PublicKey{other.ID: other.Public}); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("another key: %v", err)
	}
	// A proof re-signed after a batch was replaced still breaks the chain after it.
	b := consent.NewBatch("a", 2, testRecords(3))
	forged, err := Prove(&b, chain[0].Link(), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckChain([]Proof{chain[0], forged, chain[2]}, keys); err == nil || !strings.Contains(err.Error(), "batch 3") {
		t.Errorf("a replaced batch: %v", err)
	}
}

func TestMerkleRootOfKnownShapes(t *testing.T) {
	h := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
	a, b, c := h("a"), h("b"), h("c")
	node := func(l, r [32]byte) [32]byte { return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...)) }
	sorted := [][32]byte{a, b, c}
	// sort as Root does
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if string(sorted[j][:]) < string(sorted[i][:]) {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	want := node(node(sorted[0], sorted[1]), sorted[2])
	if got := Root([][32]byte{c, a, b}); got != want {
		t.Errorf("root of 3 leaves: %x, want %x", got, want)
	}
	if got := Root([][32]byte{a}); got != a {
		t.Errorf("root of 1 leaf: %x", got)
	}
}
