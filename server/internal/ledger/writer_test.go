package ledger_test

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func records(site string, n int, at time.Time) []consent.Record {
	out := make([]consent.Record, n)
	for i := range out {
		out[i] = consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), Site: site, RecordedAt: at.Add(time.Duration(n-i) * time.Millisecond),
			ConfigVersion: 1, ConfigHash: "h", Lang: "sv", Categories: []string{"necessary", "statistics"}, Granted: []bool{true, i%3 == 0},
			Method: consent.MethodCustom, Source: consent.SourceBanner, PageOrigin: "https://x.se", PagePath: "/", RetainUntil: consent.RetainUntil(at, 24)}
	}
	return out
}

func open(t *testing.T, st ledger.Store, dir string, newLogs ...string) (*ledger.Writer, error) {
	t.Helper()
	return ledger.Open(context.Background(), st.(consent.Sink), st, ledger.Options{Dir: dir, Instance: "inst", NewLogs: newLogs, Log: testutil.Logger(t)})
}

// checkStored recomputes each log's root from ClickHouse's leaves and
// compares it with the newest head there and with the rows' positions.
func checkStored(t *testing.T, st *clickhouse.Store, log string, want uint64) {
	t.Helper()
	ctx := context.Background()
	h, err := st.NewestHead(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	if h.Size != want {
		t.Fatalf("%s: head at size %d, want %d", log, h.Size, want)
	}
	r, err := ledger.NewRange(0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var prev int64
	err = st.EachLeaf(ctx, log, 0, h.Size, func(i uint64, data []byte) error {
		l, err := ledger.ParseLeaf(data)
		if err != nil {
			return err
		}
		if l.TimeMs < prev {
			t.Errorf("%s: leaf %d goes back in time", log, i)
		}
		prev = l.TimeMs
		return r.Append(ledger.LeafHash(data), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	root, err := r.Root()
	if err != nil || hex.EncodeToString(root[:]) != h.Root || r.End() != want {
		t.Fatalf("%s: the stored leaves (%d) do not add up to the head: %v", log, r.End(), err)
	}
	var rows, distinct uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count(), uniqExact(leaf_index) FROM consent_log FINAL WHERE log_id = ?", log).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != want || distinct != want {
		t.Errorf("%s: %d rows at %d positions, want %d", log, rows, distinct, want)
	}
}

// crashAfterHeads stands for a process that dies once a batch's heads are
// stored, before its state is saved.
type crashAfterHeads struct {
	*clickhouse.Store
	mu      sync.Mutex
	crashed bool
}

func (c *crashAfterHeads) AppendHeads(ctx context.Context, heads []ledger.Head, seq uint64) error {
	if err := c.Store.AppendHeads(ctx, heads, seq); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.crashed = true
	return errors.New("the process died here")
}

func mutate(t *testing.T, st *clickhouse.Store, sql, left string) {
	t.Helper()
	ctx := context.Background()
	if err := st.Conn().Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
	// ALTER … DELETE runs in the background: wait until it is done.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM "+left).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %d rows", sql, n)
		}
	}
}

func TestWriterAppendsRestartsAndRefusesToFork(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	dir := t.TempDir()
	at := time.Now().UTC().Truncate(time.Millisecond)
	w, err := open(t, st, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Two sites in one batch: two logs, each with its own tree.
	b1 := append(records("demo", 20, at), records("shop", 7, at)...)
	if err := w.AppendBatch(ctx, consent.NewBatch("inst", 1, b1)); err != nil {
		t.Fatal(err)
	}
	checkStored(t, st, "demo@inst", 20)
	checkStored(t, st, "shop@inst", 7)

	// A crash after batch 2's heads: the restart adopts them, and the
	// batch shipped again is not appended twice.
	b2 := records("demo", 5, at.Add(time.Second))
	crash := &crashAfterHeads{Store: st}
	w2, err := ledger.Open(ctx, st, crash, ledger.Options{Dir: dir, Instance: "inst", Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.AppendBatch(ctx, consent.NewBatch("inst", 2, b2)); err == nil {
		t.Fatal("the crash was not reported")
	}
	w3, err := open(t, st, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w3.AppendBatch(ctx, consent.NewBatch("inst", 2, b2)); err != nil {
		t.Fatal(err)
	}
	checkStored(t, st, "demo@inst", 25)

	// ClickHouse loses its newest heads: the restart stores them again.
	mutate(t, st, "ALTER TABLE log_heads DELETE WHERE log_id = 'demo@inst' AND tree_size = 25", "log_heads WHERE log_id = 'demo@inst' AND tree_size = 25")
	if _, err := open(t, st, dir); err != nil {
		t.Fatal(err)
	}
	checkStored(t, st, "demo@inst", 25)

	// A leaf deleted and the heads that cover it: the log cannot be
	// continued, and the start is refused naming it.
	mutate(t, st, "ALTER TABLE log_leaves DELETE WHERE log_id = 'demo@inst' AND leaf_index = 22", "log_leaves WHERE log_id = 'demo@inst' AND leaf_index = 22")
	mutate(t, st, "ALTER TABLE log_heads DELETE WHERE log_id = 'demo@inst' AND tree_size > 20", "log_heads WHERE log_id = 'demo@inst' AND tree_size > 20")
	_, err = open(t, st, dir)
	if !errors.Is(err, ledger.ErrLogExists) || !strings.Contains(err.Error(), "log demo@inst:") || strings.Contains(err.Error(), "shop@inst") {
		t.Fatalf("a log missing a leaf: %v", err)
	}
	// Unless the operator starts it anew: records then go to demo@inst~2.
	w4, err := open(t, st, dir, "demo@inst")
	if err != nil {
		t.Fatal(err)
	}
	if s := w4.Started(); len(s) != 1 || s[0].Log != "demo@inst~2" || s[0].Replaces != "demo@inst" {
		t.Fatalf("started %+v", s)
	}
	if err := w4.AppendBatch(ctx, consent.NewBatch("inst", 3, records("demo", 3, at.Add(2*time.Second)))); err != nil {
		t.Fatal(err)
	}
	checkStored(t, st, "demo@inst~2", 3)
	// The next start continues demo@inst~2 and leaves the old log alone.
	w5, err := open(t, st, dir)
	if err != nil {
		t.Fatalf("the start after a new log: %v", err)
	}
	if err := w5.AppendBatch(ctx, consent.NewBatch("inst", 4, records("demo", 2, at.Add(3*time.Second)))); err != nil {
		t.Fatal(err)
	}
	checkStored(t, st, "demo@inst~2", 5)

	// The state lost (the data directory restored without it): refused,
	// never a log from zero.
	if err := os.Remove(filepath.Join(dir, ledger.StateFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, st, dir); !errors.Is(err, ledger.ErrLogExists) || !strings.Contains(err.Error(), "shop@inst") {
		t.Fatalf("without the state: %v", err)
	}
}

// A key replaced by hand (not rotated) stops the start.
func TestWriterRefusesAKeyWithoutTransition(t *testing.T) {
	st := testutil.ClickHouse(t)
	dir := t.TempDir()
	w, err := open(t, st, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AppendBatch(context.Background(), consent.NewBatch("inst", 1, records("demo", 2, time.Now().UTC()))); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ledger.KeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.LoadKey(dir, true); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, st, dir); err == nil || !strings.Contains(err.Error(), "rotate-key") {
		t.Fatalf("a replaced key: %v", err)
	}
}

// The writer stores interior nodes only from StoredLevel up; proofs from
// ClickHouse hash the levels below again from the leaves, and verify.
func TestWriterProofsFromStoredNodes(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	w, err := open(t, st, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 2; seq++ {
		if err := w.AppendBatch(ctx, consent.NewBatch("inst", seq, records("demo", 300, at.Add(time.Duration(seq)*time.Second)))); err != nil {
			t.Fatal(err)
		}
	}
	const log, size = "demo@inst", 600
	checkStored(t, st, log, size)
	var low, high uint64
	if err := st.Conn().QueryRow(ctx, "SELECT countIf(level < ?), countIf(level >= ?) FROM log_nodes WHERE log_id = ?",
		uint8(ledger.StoredLevel), uint8(ledger.StoredLevel), log).Scan(&low, &high); err != nil {
		t.Fatal(err)
	}
	if low != 0 || high != 3 { // 256-leaf subtrees 0 and 1, and the 512-leaf one
		t.Errorf("log_nodes holds %d nodes below level %d and %d from it, want 0 and 3", low, ledger.StoredLevel, high)
	}
	h, err := st.NewestHead(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	root, err := hex.DecodeString(h.Root)
	if err != nil {
		t.Fatal(err)
	}
	var hashes [][32]byte
	if err := st.EachLeaf(ctx, log, 0, size, func(_ uint64, data []byte) error {
		hashes = append(hashes, ledger.LeafHash(data))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint64{0, 1, 254, 255, 256, 300, 511, 512, 599} {
		p, err := ledger.InclusionProof(ctx, st, log, i, size)
		if err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		if err := ledger.VerifyInclusion(i, size, hashes[i], p, [32]byte(root)); err != nil {
			t.Errorf("leaf %d: %v", i, err)
		}
	}
}
