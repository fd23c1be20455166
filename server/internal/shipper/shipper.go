// Package shipper moves consent records from this instance's spool to the
// consent log (ClickHouse) in batches, and only then lets the spool forget
// them.
//
// One batch at a time: read up to MaxRecords from the acknowledged position,
// note the batch as in flight (an fsynced checkpoint), append it to the Sink
// until that succeeds, then advance the checkpoint and release the spool
// segments before it. A crash anywhere in between re-ships exactly the same
// batch (same records, same sequence number, so the same batch ID), which the
// Sink recognises. Between batches the shipper waits for MaxWait unless a
// full batch is waiting, so ClickHouse gets few large inserts under load and
// at most one insert per MaxWait when it is quiet.
//
// Confirmed batches are remembered for Options.Keep (the spool keeps their
// segments as long): ClickHouse may hold them only in its page cache for a
// while, so after an unclean stop Replay ships them again through a
// consent.Replayer, which stores only what the log has lost.
//
// A batch the log refuses for good (consent.RefusedError: rows that do not
// fit the table) is not retried for ever: it is moved to a quarantine file
// in Dir/quarantine, counted, and shipping goes on with the next batch; see
// quarantine.go, and retry.go for sending one back.
package shipper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/durable"
	"github.com/samtycke/samtycke/server/internal/spool"
)

// Spool is what the shipper needs of the spool.
type Spool interface {
	Read(from spool.Pos, max int, maxBytes int) ([]spool.Record, spool.Pos, error)
	Notify() <-chan struct{}
	End() spool.Pos
	Release(pos spool.Pos) error
}

// Options tune a Shipper. Zero values take the defaults.
type Options struct {
	// Instance names this server's spool in every batch (default: the
	// host name); it must be stable across restarts and unique per spool.
	Instance string
	// Dir holds the checkpoint file (the spool's directory is fine).
	Dir string
	// MaxRecords and MaxBytes bound one batch (default 10,000 and 8 MiB).
	MaxRecords int
	MaxBytes   int
	// MaxWait is the pause between two batches when fewer than MaxRecords
	// are waiting (default 1 s).
	MaxWait time.Duration
	// MaxBackoff caps the pause between retries of a failing insert
	// (default 5 s: a ClickHouse that is back is used within seconds).
	MaxBackoff time.Duration
	// InsertTimeout bounds one attempt to store a batch (default 60 s).
	InsertTimeout time.Duration
	// Keep is how long a confirmed batch is remembered for Replay; the
	// spool must keep released segments at least as long (spool.Options.Keep).
	Keep time.Duration
	// Now is the clock for Keep (default time.Now).
	Now func() time.Time
	// Rows stores the rows of batches the ledger has logged already: the
	// quarantined batches an operator sends back (RetryDir). Without it
	// they wait.
	Rows consent.Sink
	// RetryPoll is how often Run looks for such batches (default 5 s).
	RetryPoll time.Duration
	Log       *slog.Logger
	// OnBatch, if set, hears of every attempt: rows, duration, error.
	OnBatch func(rows int, d time.Duration, err error)
}

// Shipper ships one spool. Run it in one goroutine; Flush may be called
// from others.
type Shipper struct {
	sp   Spool
	sink consent.Sink
	opt  Options
	log  *slog.Logger

	shipMu  sync.Mutex // held while shipping: one batch at a time
	stateMu sync.Mutex // guards state, briefly: never held across I/O
	state   checkpoint

	statsMu sync.Mutex
	stats   Stats
}

// Stats are the shipper's counters, for metrics.
type Stats struct {
	Batches, Rows, InsertErrors, Rejected uint64
	// Quarantined counts batches the log refused for good and that were
	// moved to the quarantine; Replayed the confirmed batches shipped again
	// after an unclean stop; Retried the quarantined batches stored since.
	Quarantined, Replayed, Retried uint64
}

// checkpoint is the shipper's durable state: everything before Acked is in
// ClickHouse; InFlight, if set, is the batch being shipped.
type checkpoint struct {
	Acked    spool.Pos `json:"acked"`
	Seq      uint64    `json:"seq"` // the last acknowledged batch's number
	InFlight *inFlight `json:"in_flight,omitempty"`
	// Kept are the batches confirmed within Options.Keep, oldest first.
	Kept []kept `json:"kept,omitempty"`
}

// kept is a confirmed batch that may have to be shipped again.
type kept struct {
	Seq     uint64    `json:"seq"`
	From    spool.Pos `json:"from"`
	To      spool.Pos `json:"to"`
	Records int       `json:"records"`
	At      time.Time `json:"at"`
}

type inFlight struct {
	Seq  uint64    `json:"seq"`
	From spool.Pos `json:"from"`
	To   spool.Pos `json:"to"`
}

const checkpointFile = "shipper.json"

// New loads the checkpoint in opt.Dir (none yet: start at the beginning).
func New(sp Spool, sink consent.Sink, opt Options) (*Shipper, error) {
	if opt.Instance == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("shipper: instance name: %w", err)
		}
		opt.Instance = h
	}
	if opt.MaxRecords <= 0 {
		opt.MaxRecords = 10000
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 8 << 20
	}
	if opt.MaxWait <= 0 {
		opt.MaxWait = time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 5 * time.Second
	}
	if opt.InsertTimeout <= 0 {
		opt.InsertTimeout = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.RetryPoll <= 0 {
		opt.RetryPoll = retryEvery
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	s := &Shipper{sp: sp, sink: sink, opt: opt, log: opt.Log.With("component", "shipper")}
	b, err := os.ReadFile(filepath.Join(opt.Dir, checkpointFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("shipper: read checkpoint: %w", err)
	default:
		if err := json.Unmarshal(b, &s.state); err != nil {
			return nil, fmt.Errorf("shipper: checkpoint %s is damaged (%w); move it aside to re-ship the whole spool — the consent log drops the copies", filepath.Join(opt.Dir, checkpointFile), err)
		}
	}
	return s, nil
}

// Run ships until ctx ends. It returns nil then; whatever is left in the
// spool is shipped by the next start, or by a Flush before it.
func (s *Shipper) Run(ctx context.Context) error {
	last := time.Time{}
	// Kept segments are deleted by releases; a quiet spool gets one now
	// and then.
	expire := time.NewTicker(time.Minute)
	defer expire.Stop()
	retry := time.NewTicker(s.opt.RetryPoll)
	defer retry.Stop()
	s.retries(ctx)
	for {
		select {
		case <-retry.C: // also under a load that never lets the spool idle
			s.retries(ctx)
		default:
		}
		notify := s.sp.Notify()
		for s.idle() {
			select {
			case <-notify:
			case <-expire.C:
				if err := s.Release(); err != nil {
					s.log.Warn("deleting kept spool segments failed", "err", err)
				}
				continue
			case <-retry.C:
				s.retries(ctx)
				continue
			case <-ctx.Done():
				return nil
			}
			break
		}
		// Let a batch fill up for MaxWait after the previous one; a backlog
		// of full batches is shipped without pause (the inner loop).
		if wait := s.opt.MaxWait - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
		}
		started := time.Now()
		for {
			n, full, err := s.shipOne(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if n > 0 || err != nil { // a look that found nothing (a new spool) is no batch
				last = started
			}
			if err != nil {
				// The spool or the checkpoint file failed (disk): nothing is
				// lost, so try again after the usual pause.
				s.log.Error("shipping stopped for a moment", "err", err)
				break
			}
			if !full {
				break
			}
		}
	}
}

// retries stores the batches sent back from the quarantine; a failure is
// logged and tried again at the next poll.
func (s *Shipper) retries(ctx context.Context) {
	if _, err := s.storeRetries(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("storing batches sent back from the quarantine failed; trying again shortly", "err", err)
	}
}

// idle reports whether everything in the spool has been shipped.
func (s *Shipper) idle() bool {
	st := s.checkpoint()
	return st.InFlight == nil && st.Acked == s.sp.End()
}

func (s *Shipper) checkpoint() checkpoint {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.state
}

// Flush ships everything that was in the spool when it was called. Tests and
// shutdown use it.
func (s *Shipper) Flush(ctx context.Context) error {
	target := s.sp.End()
	for {
		if st := s.checkpoint(); st.InFlight == nil && !st.Acked.Less(target) {
			return nil
		}
		n, _, err := s.shipOne(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // the spool has nothing more to read
		}
	}
}

// shipOne ships the in-flight batch, or the next one. It retries the Sink
// with backoff until it succeeds or ctx ends, and reports whether the batch
// was full (more may be waiting) and how many records it held.
func (s *Shipper) shipOne(ctx context.Context) (n int, full bool, err error) {
	s.shipMu.Lock()
	defer s.shipMu.Unlock()
	st := s.checkpoint()
	var recs []spool.Record
	if st.InFlight == nil {
		var next spool.Pos
		recs, next, err = s.sp.Read(st.Acked, s.opt.MaxRecords, s.opt.MaxBytes)
		if err != nil {
			return 0, false, fmt.Errorf("shipper: read spool: %w", err)
		}
		if len(recs) == 0 {
			// Nothing to ship, but a position to wait at: a new spool's end
			// is past Pos{}, and idle must see it reached.
			s.stateMu.Lock()
			if s.state.InFlight == nil && s.state.Acked == st.Acked {
				s.state.Acked = next
			}
			s.stateMu.Unlock()
			return 0, false, nil
		}
		full = len(recs) >= s.opt.MaxRecords
		st.InFlight = &inFlight{Seq: st.Seq + 1, From: st.Acked, To: next}
		if err := s.save(st); err != nil {
			return 0, false, err
		}
	} else if recs, err = s.readRange(st.InFlight.From, st.InFlight.To); err != nil {
		// A batch left in flight by a crash: exactly its records again.
		return 0, false, err
	}
	f := st.InFlight
	batch := consent.NewBatch(s.opt.Instance, f.Seq, s.decode(recs))
	var refused *consent.RefusedError
	// An outage is logged when it starts, once a minute while it lasts and
	// when it ends, not at every retry (InsertErrors counts those).
	var failed int
	var failedSince, logged time.Time
	for pause := 100 * time.Millisecond; ; pause = min(2*pause, s.opt.MaxBackoff) {
		start := time.Now()
		// A ClickHouse that hangs rather than refuses must not stall
		// shipping for good: give each attempt a deadline.
		actx, cancel := context.WithTimeout(ctx, s.opt.InsertTimeout)
		err = s.sink.AppendBatch(actx, batch)
		cancel()
		if s.opt.OnBatch != nil {
			s.opt.OnBatch(len(batch.Records), time.Since(start), err)
		}
		if err == nil {
			if failed > 0 {
				s.log.Info("shipping resumed", "seq", f.Seq, "failed_attempts", failed, "after", time.Since(failedSince).Round(time.Millisecond))
			}
			break
		}
		s.count(func(st *Stats) { st.InsertErrors++ })
		if failed++; failed == 1 {
			failedSince = start
		}
		if errors.As(err, &refused) {
			// Retrying cannot help: keep the batch aside, go on.
			if qerr := s.quarantine(refused, recs); qerr != nil {
				return 0, false, qerr
			}
			s.log.Error("the consent log refused a batch for good; moved it to the quarantine, shipping goes on",
				"seq", f.Seq, "rows", len(batch.Records), "err", err)
			break
		}
		if failed == 1 || time.Since(logged) >= time.Minute {
			s.log.Warn("shipping a batch failed; retrying", "seq", f.Seq, "rows", len(batch.Records), "attempt", failed, "in", pause, "err", err)
			logged = time.Now()
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, false, ctx.Err()
		}
	}
	now := s.opt.Now()
	next := checkpoint{Acked: f.To, Seq: f.Seq}
	for _, k := range st.Kept {
		if now.Sub(k.At) < s.opt.Keep {
			next.Kept = append(next.Kept, k)
		}
	}
	if s.opt.Keep > 0 && refused == nil {
		next.Kept = append(next.Kept, kept{Seq: f.Seq, From: f.From, To: f.To, Records: len(recs), At: now})
	}
	if err := s.save(next); err != nil {
		return 0, false, err
	}
	if err := s.sp.Release(f.To); err != nil {
		s.log.Warn("releasing shipped spool segments failed; retried after the next batch", "err", err)
	}
	s.count(func(st *Stats) {
		if refused != nil {
			st.Quarantined++
			return
		}
		st.Batches++
		st.Rows += uint64(len(batch.Records))
	})
	return len(recs), full, nil
}

// Replay ships again, through r, every confirmed batch still remembered
// (see Options.Keep), oldest first: after an unclean stop ClickHouse may
// have lost what it had not yet written to disk. The batches keep their
// numbers, hence their IDs, and r stores only what is missing. A batch
// whose records the spool no longer holds in full is skipped and logged.
func (s *Shipper) Replay(ctx context.Context, r consent.Replayer) (batches int, err error) {
	s.shipMu.Lock()
	defer s.shipMu.Unlock()
	st := s.checkpoint()
	all := st.Kept
	if f := st.InFlight; f != nil {
		// Stored, maybe, but not yet noted as confirmed: the ledger knows.
		// If it was never stored, shipping goes on with it as usual.
		recs, err := s.readRange(f.From, f.To)
		if err != nil {
			return 0, err
		}
		all = append(slices.Clone(all), kept{Seq: f.Seq, From: f.From, To: f.To, Records: len(recs)})
	}
	for _, k := range all {
		recs, err := s.readRange(k.From, k.To)
		if err == nil && len(recs) != k.Records {
			err = fmt.Errorf("the spool holds %d of its %d records", len(recs), k.Records)
		}
		if err != nil {
			s.log.Error("a confirmed batch cannot be shipped again", "seq", k.Seq, "err", err)
			continue
		}
		batch := consent.NewBatch(s.opt.Instance, k.Seq, s.decode(recs))
		actx, cancel := context.WithTimeout(ctx, s.opt.InsertTimeout)
		err = r.ReplayBatch(actx, batch)
		cancel()
		if err != nil {
			return batches, fmt.Errorf("shipper: ship batch %d again: %w", k.Seq, err)
		}
		batches++
	}
	n, err := s.replayRetried(ctx)
	batches += n
	s.count(func(st *Stats) { st.Replayed += uint64(batches) })
	if err != nil {
		return batches, err
	}
	if batches > 0 {
		s.log.Info("shipped the batches confirmed before an unclean stop again", "batches", batches)
	}
	return batches, nil
}

// CountReplayed adds to Stats.Replayed the batches another Shipper of the
// same spool replayed (the one the ledger's Open runs before this one can
// exist).
func (s *Shipper) CountReplayed(batches int) {
	s.count(func(st *Stats) { st.Replayed += uint64(batches) })
}

// Release lets the spool delete the segments kept longer than Keep, also
// when nothing new is shipped.
func (s *Shipper) Release() error {
	return s.sp.Release(s.checkpoint().Acked)
}

// readRange reads exactly the records in [from, to).
func (s *Shipper) readRange(from, to spool.Pos) ([]spool.Record, error) {
	var out []spool.Record
	for from.Less(to) {
		recs, next, err := s.sp.Read(from, s.opt.MaxRecords, s.opt.MaxBytes)
		if err != nil {
			return nil, fmt.Errorf("shipper: read spool: %w", err)
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("shipper: the spool ends at %v, before the batch in flight ends at %v", from, to)
		}
		for _, r := range recs {
			if !r.Pos.Less(to) {
				return out, nil
			}
			out = append(out, r)
		}
		from = next
	}
	return out, nil
}

// decode turns spool records into consent records. A record that does not
// decode (a bug, since the spool checks CRCs) cannot ever be shipped: it is
// kept aside in rejected.ndjson and logged, rather than blocking the log.
func (s *Shipper) decode(recs []spool.Record) []consent.Record {
	out := make([]consent.Record, 0, len(recs))
	for i, r := range recs {
		consent.StepAside(i)
		rec, err := consent.DecodeRecord(r.Data)
		if err != nil {
			s.reject(r, err)
			continue
		}
		out = append(out, rec)
	}
	return out
}

func (s *Shipper) reject(r spool.Record, cause error) {
	s.count(func(st *Stats) { st.Rejected++ })
	s.log.Error("a spooled record does not decode; kept aside in rejected.ndjson", "pos", r.Pos, "err", cause)
	f, err := os.OpenFile(filepath.Join(s.opt.Dir, "rejected.ndjson"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.log.Error("cannot keep a rejected record", "err", err)
		return
	}
	defer f.Close()
	line, _ := json.Marshal(map[string]any{"pos": r.Pos, "error": cause.Error(), "data": r.Data})
	if _, err := f.Write(append(line, '\n')); err != nil {
		s.log.Error("cannot keep a rejected record", "err", err)
	}
}

// save writes the checkpoint durably: tmp, fsync, rename, fsync the folder.
func (s *Shipper) save(st checkpoint) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	path := filepath.Join(s.opt.Dir, checkpointFile)
	if err := durable.WriteFile(path, b); err != nil {
		return fmt.Errorf("shipper: save checkpoint: %w", err)
	}
	s.stateMu.Lock()
	s.state = st
	s.stateMu.Unlock()
	return nil
}

func (s *Shipper) count(f func(*Stats)) {
	s.statsMu.Lock()
	f(&s.stats)
	s.statsMu.Unlock()
}

// Lag is the age of the oldest record not yet shipped, 0 when none waits.
func (s *Shipper) Lag(now time.Time) time.Duration {
	recs, _, err := s.sp.Read(s.checkpoint().Acked, 1, 1)
	if err != nil || len(recs) == 0 {
		return 0
	}
	rec, err := consent.DecodeRecord(recs[0].Data)
	if err != nil {
		return 0
	}
	return max(now.Sub(rec.RecordedAt), 0)
}

// Stats returns the counters.
func (s *Shipper) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}
