package ledger_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/shipper"
	"github.com/samtycke/samtycke/server/internal/spool"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func fill(t *testing.T, sp *spool.Spool, site string, n int) {
	t.Helper()
	at := time.Now().UTC().Truncate(time.Millisecond)
	for i := range n {
		r := consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), Site: site, RecordedAt: at.Add(time.Duration(i) * time.Millisecond),
			ConfigVersion: 1, ConfigHash: "h", Lang: "sv", Categories: []string{"necessary", "statistics"}, Granted: []bool{true, i%3 == 0},
			Method: consent.MethodCustom, Source: consent.SourceBanner, PageOrigin: "https://x.se", PagePath: "/", RetainUntil: consent.RetainUntil(at, 24)}
		if _, err := sp.Append(r.Encode()); err != nil {
			t.Fatal(err)
		}
	}
}

// crashingProofs stands for a process that dies after a batch's rows are
// in and before its proof is.
type crashingProofs struct {
	*clickhouse.Store
	mu    sync.Mutex
	calls int
}

func (c *crashingProofs) AppendProof(context.Context, ledger.Proof) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return errors.New("the process died here")
}

func (c *crashingProofs) called() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// verifyStored checks every instance's chain in the store and recomputes
// each proof's root from the rows stored under its batch.
func verifyStored(t *testing.T, st *clickhouse.Store, instance string, wantBatches int, keys map[string]ed25519.PublicKey) {
	t.Helper()
	ctx := context.Background()
	proofs, err := st.Chain(ctx, instance, 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	if len(proofs) != wantBatches {
		t.Fatalf("%s: %d proofs, want %d", instance, len(proofs), wantBatches)
	}
	if proofs[0].Seq != 1 || proofs[0].Prev != ledger.ZeroLink {
		t.Errorf("%s: the chain starts at %d with prev %s", instance, proofs[0].Seq, proofs[0].Prev)
	}
	if err := ledger.CheckChain(proofs, keys); err != nil {
		t.Fatal(err)
	}
	for _, p := range proofs {
		var leaves [][32]byte
		err := st.BatchRecords(ctx, p.BatchID, func(r ledger.Row) error {
			l, err := ledger.LeafOf(r)
			leaves = append(leaves, l.Hash())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		root := ledger.Root(leaves)
		if hex.EncodeToString(root[:]) != p.Root || uint32(len(leaves)) != p.Rows {
			t.Errorf("%s #%d: the stored rows (%d) do not recompute the signed root", instance, p.Seq, len(leaves))
		}
	}
}

// A crash between a batch's rows and its proof: the batch is shipped again
// at the next start, gets the identical proof, and the chain stays whole.
// A second instance ships meanwhile and keeps a chain of its own.
func TestCrashBetweenRowsAndProofKeepsTheChain(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	keyA, err := ledger.LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keyB, err := ledger.LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	spA, spB := openSpool(t, dirA), openSpool(t, dirB)
	opts := func(instance, dir string) shipper.Options {
		return shipper.Options{Instance: instance, Dir: dir, MaxRecords: 400, Log: testutil.Logger(t)}
	}

	// Batches 1 and 2 of a ship normally; batch 3's proof is lost in a crash.
	fill(t, spA, "demo", 800)
	sh, err := shipper.New(spA, ledger.NewSink(st, st, keyA), opts("a", dirA))
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fill(t, spA, "demo", 300)
	crash := &crashingProofs{Store: st}
	first, err := shipper.New(spA, ledger.NewSink(st, crash, keyA), opts("a", dirA))
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- first.Flush(cctx) }()
	for deadline := time.Now().Add(10 * time.Second); crash.called() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first shipper never tried")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("first shipper: %v", err)
	}

	// Instance b ships its own batches meanwhile, into the same tables.
	fill(t, spB, "other", 500)
	shB, err := shipper.New(spB, ledger.NewSink(st, st, keyB), opts("b", dirB))
	if err != nil {
		t.Fatal(err)
	}
	if err := shB.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// a restarts (a new Sink: nothing in memory) and ships batch 3 again, then 4.
	fill(t, spA, "demo", 100)
	second, err := shipper.New(spA, ledger.NewSink(st, st, keyA), opts("a", dirA))
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	keys := map[string]ed25519.PublicKey{keyA.ID: keyA.Public, keyB.ID: keyB.Public}
	verifyStored(t, st, "a", 4, keys)
	verifyStored(t, st, "b", 2, keys)
}

func openSpool(t *testing.T, dir string) *spool.Spool {
	t.Helper()
	sp, err := spool.Open(dir, spool.Options{SegmentBytes: 1 << 20, Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}
