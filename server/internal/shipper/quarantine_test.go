package shipper_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/shipper"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// poll waits up to 20 s for cond.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %s", what)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func bogusRows(t *testing.T, st *clickhouse.Store) uint64 {
	t.Helper()
	var n uint64
	if err := st.Conn().QueryRow(context.Background(), "SELECT count() FROM consent_log WHERE toString(method) = 'bogus'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A batch ClickHouse refuses (a method its Enum8 lacks) goes to the
// quarantine and the next batch is shipped; sent back while the table still
// refuses it, it returns to the quarantine with the new error; once the
// table takes it, it is stored (once), kept in retried/, and stored again by
// Replay if ClickHouse loses it.
func TestQuarantineAndRetry(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	dir := t.TempDir()
	sp := openSpool(t, dir)
	bad := record(0)
	bad.Method = "bogus"
	if _, err := sp.Append(bad.Encode()); err != nil {
		t.Fatal(err)
	}
	sh, err := shipper.New(sp, st, shipper.Options{Instance: "a", Dir: dir, Rows: st, RetryPoll: 50 * time.Millisecond,
		MaxWait: 50 * time.Millisecond, Keep: time.Hour, Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	qfile := filepath.Join(dir, shipper.QuarantineDir, shipper.QuarantineFile(1))
	qs, err := shipper.ListQuarantine(dir)
	if err != nil || len(qs) != 1 || qs[0].Seq != 1 || len(qs[0].Records) != 1 || !strings.Contains(qs[0].Error, "bogus") {
		t.Fatalf("quarantine after a refused batch: %+v %v", qs, err)
	}
	if s := sh.Stats(); s.Quarantined != 1 || s.Batches != 0 {
		t.Fatalf("stats %+v, want 1 quarantined and none shipped", s)
	}
	fill(t, sp, 5)
	if err := sh.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, d := rows(t, st); n != 5 || d != 5 {
		t.Fatalf("the batch after the refused one: %d rows (%d distinct), want 5", n, d)
	}

	stop := run(t, sh)
	if err := shipper.Retry(dir, 1); err != nil {
		t.Fatal(err)
	}
	if err := shipper.Retry(dir, 1); !errors.Is(err, shipper.ErrNotQuarantined) {
		t.Fatalf("retry of a batch already sent back: %v", err)
	}
	retryFile := filepath.Join(dir, shipper.RetryDir, shipper.QuarantineFile(1))
	poll(t, "the batch refused again is not back in the quarantine", func() bool { return exists(qfile) && !exists(retryFile) })

	if err := st.Conn().Exec(ctx, "ALTER TABLE consent_log MODIFY COLUMN method Enum8('accept_all' = 1, 'reject_all' = 2, 'custom' = 3, 'withdraw' = 4, 'gpc' = 5, 'bogus' = 6)"); err != nil {
		t.Fatal(err)
	}
	if err := shipper.Retry(dir, 1); err != nil {
		t.Fatal(err)
	}
	retried := filepath.Join(dir, shipper.RetriedDir, shipper.QuarantineFile(1))
	poll(t, "the retried batch is not stored", func() bool { return exists(retried) && !exists(retryFile) })
	if exists(qfile) || shipper.QuarantineCount(dir) != 0 {
		t.Fatal("a stored batch is still in the quarantine")
	}
	if n, d := rows(t, st); n != 6 || d != 6 || bogusRows(t, st) != 1 {
		t.Fatalf("after the retry: %d rows (%d distinct), want 6", n, d)
	}
	if s := sh.Stats(); s.Retried != 1 {
		t.Fatalf("stats %+v, want 1 retried", s)
	}
	stop()

	// ClickHouse loses the retried rows (a power cut): Replay stores them
	// again, and only them.
	if err := st.Conn().Exec(ctx, "ALTER TABLE consent_log DELETE WHERE toString(method) = 'bogus'"); err != nil {
		t.Fatal(err)
	}
	if err := st.Conn().Exec(ctx, "ALTER TABLE consent_batches DELETE WHERE seq = 1"); err != nil {
		t.Fatal(err)
	}
	poll(t, "the mutation did not delete the row", func() bool { return bogusRows(t, st) == 0 })
	// Batch 2 is kept too (Keep), and stored again only if it were lost.
	n, err := sh.Replay(ctx, rowsReplayer{st})
	if err != nil || n != 2 {
		t.Fatalf("replay: %d batches, %v; want 2 (the kept one and the retried one)", n, err)
	}
	if n, d := rows(t, st); n != 6 || d != 6 || bogusRows(t, st) != 1 {
		t.Fatalf("after the replay: %d rows (%d distinct), want 6", n, d)
	}
	n, err = sh.Replay(ctx, rowsReplayer{st})
	if err != nil || n != 2 {
		t.Fatalf("second replay: %d batches, %v", n, err)
	}
	if n, d := rows(t, st); n != 6 || d != 6 {
		t.Fatalf("after a replay with nothing lost: %d rows (%d distinct), want 6", n, d)
	}
}

// rowsReplayer replays a batch through the Sink alone, which stores only
// a batch whose rows are not all there (no ledger here).
type rowsReplayer struct{ consent.Sink }

func (r rowsReplayer) ReplayBatch(ctx context.Context, b consent.Batch) error {
	return r.AppendBatch(ctx, b)
}

// A batch sent back whose records do not decode returns to the quarantine
// with the reason and does not hold up the one sent back after it.
func TestRetryOfUndecodableBatch(t *testing.T) {
	st := testutil.ClickHouse(t)
	dir := t.TempDir()
	sp := openSpool(t, dir)
	good := record(1)
	for seq, recs := range map[uint64][][]byte{5: {[]byte("not a record")}, 6: {good.Encode()}} {
		b, err := json.Marshal(shipper.Quarantined{Instance: "a", Seq: seq, BatchID: consent.NewBatch("a", seq, nil).ID, Records: recs, Error: "refused"})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, shipper.QuarantineDir), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, shipper.QuarantineDir, shipper.QuarantineFile(seq)), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := shipper.Retry(dir, seq); err != nil {
			t.Fatal(err)
		}
	}
	sh, err := shipper.New(sp, st, shipper.Options{Instance: "a", Dir: dir, Rows: st, RetryPoll: 20 * time.Millisecond, Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, sh)
	poll(t, "batch 6 is not stored", func() bool { return sh.Stats().Retried == 1 })
	stop()
	qs, err := shipper.ListQuarantine(dir)
	if err != nil || len(qs) != 1 || qs[0].Seq != 5 || !strings.Contains(qs[0].Error, "record 0") {
		t.Fatalf("quarantine: %+v %v", qs, err)
	}
	if n, d := rows(t, st); n != 1 || d != 1 {
		t.Fatalf("%d rows (%d distinct), want batch 6's one", n, d)
	}
}
