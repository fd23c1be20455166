package shipper_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/shipper"
	"github.com/samtycke/samtycke/server/internal/spool"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func record(i int) consent.Record {
	at := time.Now().UTC().Truncate(time.Millisecond).Add(time.Duration(i) * time.Millisecond)
	return consent.Record{
		RecordID: uuid.Must(uuid.NewV7()), ConsentID: uuid.New(), Site: "demo", RecordedAt: at,
		ConfigVersion: 1, ConfigHash: "h", Lang: "sv", Categories: []string{"necessary", "statistics"}, Granted: []bool{true, i%2 == 0},
		Method: consent.MethodCustom, Source: consent.SourceBanner, PageOrigin: "https://x.se", PagePath: "/",
		RetainUntil: consent.RetainUntil(at, 24),
	}
}

func fill(t *testing.T, sp *spool.Spool, n int) {
	t.Helper()
	payloads := make([][]byte, 0, 1000)
	for i := range n {
		rec := record(i)
		payloads = append(payloads, rec.Encode())
		if len(payloads) == cap(payloads) || i == n-1 {
			if _, err := sp.Append(payloads...); err != nil {
				t.Fatal(err)
			}
			payloads = payloads[:0]
		}
	}
}

// rows counts consent_log rows without FINAL: a duplicate would show.
func rows(t *testing.T, st *clickhouse.Store) (n, distinct uint64) {
	t.Helper()
	if err := st.Conn().QueryRow(context.Background(), "SELECT count(), uniqExact(record_id) FROM consent_log").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	return n, distinct
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

func TestShipsEverythingOnceInBatches(t *testing.T) {
	st := testutil.ClickHouse(t)
	dir := t.TempDir()
	sp := openSpool(t, dir)
	fill(t, sp, 25000)
	sh, err := shipper.New(sp, st, shipper.Options{Instance: "a", Dir: dir, Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if lag := sh.Lag(time.Now().Add(time.Minute)); lag < time.Minute {
		t.Errorf("lag with 25000 records waiting: %v", lag)
	}
	if err := sh.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, d := rows(t, st); n != 25000 || d != 25000 {
		t.Fatalf("%d rows (%d distinct), want 25000", n, d)
	}
	var batches uint64
	if err := st.Conn().QueryRow(context.Background(), "SELECT count() FROM consent_batches FINAL WHERE instance = 'a'").Scan(&batches); err != nil {
		t.Fatal(err)
	}
	if batches != 3 || sh.Stats().Batches != 3 {
		t.Errorf("%d batches in the manifest, %d shipped; want 3 of at most 10,000", batches, sh.Stats().Batches)
	}
	if st := sp.Stats(); st.Unreleased != 0 || st.Segments > 1 {
		t.Errorf("after shipping, the spool keeps %d unreleased bytes in %d segments", st.Unreleased, st.Segments)
	}
	if lag := sh.Lag(time.Now()); lag != 0 {
		t.Errorf("lag with nothing waiting: %v", lag)
	}
}

// crashingSink stands for a process that dies around the insert: it may
// insert first, then it fails, and the test drops the shipper without
// letting it save its checkpoint.
type crashingSink struct {
	consent.Sink
	mu          sync.Mutex
	insertFirst bool
	calls       int
}

var errCrash = errors.New("the process died here")

func (c *crashingSink) AppendBatch(ctx context.Context, b consent.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.insertFirst {
		if err := c.Sink.AppendBatch(ctx, b); err != nil {
			return err
		}
	}
	return errCrash
}

// A crash between the insert and the checkpoint, or before the insert,
// re-ships the same batch at the next start and leaves one copy of every
// row.
func TestCrashAroundTheInsert(t *testing.T) {
	for _, insertFirst := range []bool{true, false} {
		name := "before the insert"
		if insertFirst {
			name = "after the insert, before the checkpoint"
		}
		t.Run(name, func(t *testing.T) {
			st := testutil.ClickHouse(t)
			dir := t.TempDir()
			sp := openSpool(t, dir)
			fill(t, sp, 1500)
			crash := &crashingSink{Sink: st, insertFirst: insertFirst}
			first, err := shipper.New(sp, crash, shipper.Options{Instance: "a", Dir: dir, MaxRecords: 1000, Log: testutil.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- first.Flush(ctx) }()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				crash.mu.Lock()
				calls := crash.calls
				crash.mu.Unlock()
				if calls > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the first shipper never tried")
				}
			}
			cancel() // the process is gone; its checkpoint says "in flight"
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("first shipper: %v", err)
			}
			fill(t, sp, 700) // more arrives meanwhile: the batch must not grow
			// A larger batch size after the restart: the batch in flight must
			// still be re-shipped as it was.
			second, err := shipper.New(sp, st, shipper.Options{Instance: "a", Dir: dir, MaxRecords: 5000, Log: testutil.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			if err := second.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n, d := rows(t, st); n != 2200 || d != 2200 {
				t.Fatalf("%d rows (%d distinct), want 2200 exactly once", n, d)
			}
			var size uint32
			if err := st.Conn().QueryRow(context.Background(), "SELECT rows FROM consent_batches FINAL WHERE instance = 'a' AND seq = 1").Scan(&size); err != nil || size != 1000 {
				t.Fatalf("batch 1 holds %d rows (%v); the re-shipped batch must be the one in flight", size, err)
			}
		})
	}
}

// flakySink fails a few times, then works: the shipper retries with backoff.
type flakySink struct {
	consent.Sink
	mu    sync.Mutex
	fails int
}

func (f *flakySink) AppendBatch(ctx context.Context, b consent.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("clickhouse: connection refused")
	}
	return f.Sink.AppendBatch(ctx, b)
}

func TestRunRetriesAndShipsWithinMaxWait(t *testing.T) {
	st := testutil.ClickHouse(t)
	dir := t.TempDir()
	sp := openSpool(t, dir)
	sink := &flakySink{Sink: st, fails: 3}
	logs := &testutil.LogBuffer{}
	sh, err := shipper.New(sp, sink, shipper.Options{Instance: "a", Dir: dir, MaxWait: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, sh)
	fill(t, sp, 300)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if sh.Stats().Rows == 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("records not shipped by Run within 10 s")
		}
	}
	fill(t, sp, 200) // Run wakes up for more
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if sh.Stats().Rows == 500 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("later records not shipped by Run within 10 s")
		}
	}
	stop()
	if s := sh.Stats(); s.InsertErrors != 3 || s.Rows != 500 {
		t.Fatalf("stats %+v, want 3 insert errors and 500 rows", s)
	}
	// The outage is logged when it starts and when it ends, not per retry.
	out := logs.String()
	if n, m := strings.Count(out, "shipping a batch failed"), strings.Count(out, "shipping resumed"); n != 1 || m != 1 || !strings.Contains(out, "failed_attempts=3") {
		t.Errorf("an outage of 3 failed attempts logged %d failures and %d resumptions, want 1 each with failed_attempts=3:\n%s", n, m, out)
	}
	if n, d := rows(t, st); n != 500 || d != 500 {
		t.Fatalf("%d rows (%d distinct), want 500", n, d)
	}
}

// watchedSpool counts the shipper's reads and reports the first; with
// broken set, reads fail.
type watchedSpool struct {
	*spool.Spool
	reads  atomic.Int32
	first  chan struct{}
	broken atomic.Bool
}

func (w *watchedSpool) Read(from spool.Pos, max, maxBytes int) ([]spool.Record, spool.Pos, error) {
	if w.reads.Add(1) == 1 {
		close(w.first)
	}
	if w.broken.Load() {
		return nil, from, errors.New("read segment: input/output error")
	}
	return w.Spool.Read(from, max, maxBytes)
}

// A spool that fails to read is tried again after MaxWait, not at once
// again and again.
func TestPausesAfterAFailedRead(t *testing.T) {
	st := testutil.ClickHouse(t)
	dir := t.TempDir()
	sp := &watchedSpool{Spool: openSpool(t, dir), first: make(chan struct{})}
	sp.broken.Store(true)
	fill(t, sp.Spool, 10)
	sh, err := shipper.New(sp, st, shipper.Options{Instance: "a", Dir: dir, MaxWait: time.Hour, Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, sh)
	<-sp.first
	// A shipper that does not pause reads thousands of times a second.
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n := sp.reads.Load(); n > 3 {
			t.Fatalf("%d reads of a failing spool within a second; MaxWait is an hour", n)
		}
	}
	stop()
}

// The first records after start are shipped at once: a look at a new,
// empty spool is no batch to wait MaxWait after, and the shipper then
// waits for records rather than looking again and again.
func TestFirstBatchDoesNotWait(t *testing.T) {
	st := testutil.ClickHouse(t)
	dir := t.TempDir()
	sp := &watchedSpool{Spool: openSpool(t, dir), first: make(chan struct{})}
	sh, err := shipper.New(sp, st, shipper.Options{Instance: "a", Dir: dir, MaxWait: time.Hour, Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, sh)
	<-sp.first // the look at the empty spool
	fill(t, sp.Spool, 10)
	for deadline := time.Now().Add(10 * time.Second); sh.Stats().Rows != 10; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows shipped within 10 s of start, want 10 (MaxWait is an hour)", sh.Stats().Rows)
		}
	}
	stop()
	if n := sp.reads.Load(); n > 3 {
		t.Errorf("%d reads of the spool for one batch: the shipper polls an empty spool", n)
	}
}

// run starts sh.Run; stop (also called when the test ends) stops it and
// checks that it ended well.
func run(t *testing.T, sh *shipper.Shipper) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
