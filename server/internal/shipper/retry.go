package shipper

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/durable"
)

// An operator sends a quarantined batch back (samtycke spool quarantine
// retry) by moving its file from QuarantineDir to RetryDir: a rename, so it
// is safe while the server runs, which only ever reads RetryDir. The
// shipper stores it through Options.Rows within RetryPoll: its rows at the
// positions the ledger gave them (the leaves and heads are stored already;
// the ledger must not log the records twice). A batch stored so is kept in
// RetriedDir for Keep, like a confirmed batch, and Replay stores it again
// after an unclean stop; one refused again goes back to the quarantine with
// the new error.
const (
	RetryDir   = "retry"
	RetriedDir = "retried"
)

// ErrNotQuarantined is returned (wrapped) by Retry for a batch that is not
// in the quarantine.
var ErrNotQuarantined = errors.New("not in the quarantine")

// Retry moves quarantined batch seq of dir (the shipper's Dir) to RetryDir.
func Retry(dir string, seq uint64) error {
	from := filepath.Join(dir, QuarantineDir, QuarantineFile(seq))
	if _, err := os.Stat(from); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("batch %d: %w (%s)", seq, ErrNotQuarantined, filepath.Join(dir, QuarantineDir))
	} else if err != nil {
		return fmt.Errorf("batch %d: %w", seq, err)
	}
	rdir := filepath.Join(dir, RetryDir)
	if err := os.MkdirAll(rdir, 0o700); err != nil {
		return fmt.Errorf("batch %d: %w", seq, err)
	}
	if err := os.Rename(from, filepath.Join(rdir, QuarantineFile(seq))); err != nil {
		return fmt.Errorf("batch %d: %w", seq, err)
	}
	// The new name first: at worst a crash leaves the file in both.
	if err := durable.SyncDir(rdir); err != nil {
		return fmt.Errorf("batch %d: %w", seq, err)
	}
	return durable.SyncDir(filepath.Join(dir, QuarantineDir))
}

// readBatches reads the batch files in dir/sub, by number.
func readBatches(dir, sub string) ([]Quarantined, error) {
	entries, err := os.ReadDir(filepath.Join(dir, sub))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Quarantined
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || !e.Type().IsRegular() {
			continue
		}
		if _, err := strconv.ParseUint(strings.TrimSuffix(name, ".json"), 10, 64); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, sub, name))
		if err != nil {
			return nil, err
		}
		var q Quarantined
		if err := json.Unmarshal(b, &q); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, sub, name), err)
		}
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b Quarantined) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// storeRetries stores the batches in RetryDir and forgets the retried ones
// kept longer than Keep. It reports how many it stored.
func (s *Shipper) storeRetries(ctx context.Context) (int, error) {
	qs, err := readBatches(s.opt.Dir, RetryDir)
	if err != nil {
		return 0, fmt.Errorf("shipper: retries: %w", err)
	}
	stored := 0
	if len(qs) > 0 && s.opt.Rows == nil {
		return 0, errors.New("shipper: batches wait in the retry folder, but this shipper has no Options.Rows to store them")
	}
	for i := range qs {
		q := &qs[i]
		b, err := q.Batch()
		if err != nil {
			// Nothing can store it: back to the quarantine, or it would
			// hold up the batches sent back after it.
			q.Error, q.At = err.Error(), s.opt.Now().UTC()
			if err := s.moveBatch(q, RetryDir, QuarantineDir); err != nil {
				return stored, err
			}
			s.log.Error("a batch sent back from the quarantine does not decode; back in the quarantine", "seq", q.Seq, "err", err)
			continue
		}
		actx, cancel := context.WithTimeout(ctx, s.opt.InsertTimeout)
		err = s.opt.Rows.AppendBatch(actx, b)
		cancel()
		var refused *consent.RefusedError
		switch {
		case errors.As(err, &refused):
			q.Error, q.At = refused.Err.Error(), s.opt.Now().UTC()
			if err := s.moveBatch(q, RetryDir, QuarantineDir); err != nil {
				return stored, err
			}
			s.log.Error("a retried batch was refused again; back in the quarantine", "seq", q.Seq, "rows", len(q.Records), "err", refused.Err)
		case err != nil:
			return stored, fmt.Errorf("shipper: retry batch %d: %w", q.Seq, err)
		default:
			q.RetriedAt = s.opt.Now().UTC()
			if err := s.moveBatch(q, RetryDir, RetriedDir); err != nil {
				return stored, err
			}
			stored++
			s.count(func(st *Stats) { st.Retried++ })
			s.log.Info("stored a batch from the quarantine", "seq", q.Seq, "rows", len(q.Records))
		}
	}
	done, err := readBatches(s.opt.Dir, RetriedDir)
	if err != nil {
		return stored, fmt.Errorf("shipper: retried: %w", err)
	}
	for _, q := range done {
		if s.opt.Now().Sub(q.RetriedAt) >= s.opt.Keep {
			if err := os.Remove(filepath.Join(s.opt.Dir, RetriedDir, QuarantineFile(q.Seq))); err != nil {
				return stored, fmt.Errorf("shipper: retried: %w", err)
			}
		}
	}
	return stored, nil
}

// moveBatch writes q durably into to and then removes it from from.
func (s *Shipper) moveBatch(q *Quarantined, from, to string) error {
	b, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("shipper: batch %d: %w", q.Seq, err)
	}
	tdir := filepath.Join(s.opt.Dir, to)
	if err := os.MkdirAll(tdir, 0o700); err != nil {
		return fmt.Errorf("shipper: batch %d: %w", q.Seq, err)
	}
	if err := durable.WriteFile(filepath.Join(tdir, QuarantineFile(q.Seq)), b); err != nil {
		return fmt.Errorf("shipper: batch %d: %w", q.Seq, err)
	}
	fdir := filepath.Join(s.opt.Dir, from)
	if err := os.Remove(filepath.Join(fdir, QuarantineFile(q.Seq))); err != nil {
		return fmt.Errorf("shipper: batch %d: %w", q.Seq, err)
	}
	return durable.SyncDir(fdir)
}

// replayRetried stores again, through Options.Rows, the batches retried
// within Keep: ClickHouse may have lost them like any confirmed batch. The
// Sink stores only a batch whose rows are not all there.
func (s *Shipper) replayRetried(ctx context.Context) (int, error) {
	done, err := readBatches(s.opt.Dir, RetriedDir)
	if err != nil || len(done) == 0 || s.opt.Rows == nil {
		if err != nil {
			err = fmt.Errorf("shipper: retried: %w", err)
		}
		return 0, err
	}
	n := 0
	for i := range done {
		b, err := done[i].Batch()
		if err != nil {
			return n, err
		}
		actx, cancel := context.WithTimeout(ctx, s.opt.InsertTimeout)
		err = s.opt.Rows.AppendBatch(actx, b)
		cancel()
		if err != nil {
			return n, fmt.Errorf("shipper: store retried batch %d again: %w", b.Seq, err)
		}
		n++
	}
	return n, nil
}

// retryEvery is the default of Options.RetryPoll.
const retryEvery = 5 * time.Second
