package shipper

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/durable"
	"github.com/samtycke/samtycke/server/internal/spool"
)

// QuarantineDir is the folder, in the shipper's Dir, of the batches the
// consent log refused for good: one file per batch, named by its number.
const QuarantineDir = "quarantine"

// Quarantined is a refused batch as kept in its file: the records as the
// log was given them, in the ledger's order with their positions (the
// ledger has logged them, so a retry must store them at those positions),
// and the spool range they came from.
type Quarantined struct {
	Instance  string           `json:"instance"`
	Seq       uint64           `json:"seq"`
	BatchID   uuid.UUID        `json:"batch_id"`
	At        time.Time        `json:"quarantined_at"`
	Error     string           `json:"error"`
	From      spool.Pos        `json:"from"`
	To        spool.Pos        `json:"to"`
	Records   [][]byte         `json:"records"` // consent.Record.Encode
	Positions []consent.LogPos `json:"positions,omitempty"`
	// RetriedAt is when a retry stored the batch (files in RetriedDir).
	RetriedAt time.Time `json:"retried_at,omitzero"`
}

// Batch decodes the kept batch.
func (q *Quarantined) Batch() (consent.Batch, error) {
	recs := make([]consent.Record, len(q.Records))
	for i, b := range q.Records {
		r, err := consent.DecodeRecord(b)
		if err != nil {
			return consent.Batch{}, fmt.Errorf("quarantined batch %d: record %d: %w", q.Seq, i, err)
		}
		recs[i] = r
	}
	b := consent.NewBatch(q.Instance, q.Seq, recs)
	b.Positions = q.Positions
	return b, nil
}

// quarantine keeps a refused batch in its file, durably, before the
// checkpoint moves past it.
func (s *Shipper) quarantine(r *consent.RefusedError, recs []spool.Record) error {
	st := s.checkpoint()
	q := Quarantined{Instance: s.opt.Instance, Seq: r.Batch.Seq, BatchID: r.Batch.ID, At: s.opt.Now().UTC(),
		Error: r.Err.Error(), Positions: r.Batch.Positions}
	if st.InFlight != nil {
		q.From, q.To = st.InFlight.From, st.InFlight.To
	}
	for i := range r.Batch.Records {
		q.Records = append(q.Records, r.Batch.Records[i].Encode())
	}
	if len(q.Records) == 0 { // nothing decoded: keep the raw records
		for _, rec := range recs {
			q.Records = append(q.Records, rec.Data)
		}
	}
	b, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("shipper: quarantine batch %d: %w", q.Seq, err)
	}
	dir := filepath.Join(s.opt.Dir, QuarantineDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("shipper: quarantine batch %d: %w", q.Seq, err)
	}
	if err := durable.WriteFile(filepath.Join(dir, QuarantineFile(q.Seq)), b); err != nil {
		return fmt.Errorf("shipper: quarantine batch %d: %w", q.Seq, err)
	}
	return durable.SyncDir(s.opt.Dir)
}

// QuarantineFile is the file name of batch seq in the quarantine.
func QuarantineFile(seq uint64) string { return fmt.Sprintf("%020d.json", seq) }

// ListQuarantine reads the quarantined batches in dir (the shipper's Dir),
// oldest first.
func ListQuarantine(dir string) ([]Quarantined, error) {
	qs, err := readBatches(dir, QuarantineDir)
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	return qs, nil
}

// QuarantineCount is the number of batches in the quarantine of dir, for
// readiness: -1 when the folder cannot be read.
func QuarantineCount(dir string) int {
	entries, err := os.ReadDir(filepath.Join(dir, QuarantineDir))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			n++
		}
	}
	return n
}

// RemoveQuarantined deletes the file of batch seq once it is stored.
func RemoveQuarantined(dir string, seq uint64) error {
	qdir := filepath.Join(dir, QuarantineDir)
	if err := os.Remove(filepath.Join(qdir, QuarantineFile(seq))); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	return durable.SyncDir(qdir)
}
