package ledger

import (
	"context"
	"encoding/hex"
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

// JournalDir holds, in the data directory, one file per recent batch: the
// states of the logs it appended to as they were before it, and the heads
// it signed. With them a batch that ClickHouse lost (a power cut before it
// wrote its parts to disk) is stored again exactly as it was: the same
// leaves at the same positions, the same heads.
const JournalDir = "ledger-batches"

type journalEntry struct {
	Seq   uint64              `json:"seq"`
	At    time.Time           `json:"at"`
	Sites map[string]string   `json:"sites"` // site → log, for the batch's sites
	Prior map[string]LogState `json:"prior"` // log → its state before the batch
	Heads []Head              `json:"heads"` // signed after the batch
}

func journalName(seq uint64) string { return fmt.Sprintf("%020d.json", seq) }

// journal keeps e durably, and deletes the entries older than Keep (with a
// minute to spare over the shipper's, which counts from a later moment).
func (w *Writer) journal(e journalEntry) error {
	dir := filepath.Join(w.opt.Dir, JournalDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ledger: journal: %w", err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("ledger: journal: %w", err)
	}
	if err := durable.WriteFile(filepath.Join(dir, journalName(e.Seq)), b); err != nil {
		return fmt.Errorf("ledger: journal batch %d: %w", e.Seq, err)
	}
	if w.journaled == nil {
		w.journaled = readJournalTimes(dir)
	}
	w.journaled = append(w.journaled, journalTime{e.Seq, e.At})
	cut := 0
	for cut < len(w.journaled) && e.At.Sub(w.journaled[cut].at) > w.opt.Keep+time.Minute {
		// Left behind if this fails: a later start finds it old and tries again.
		os.Remove(filepath.Join(dir, journalName(w.journaled[cut].seq)))
		cut++
	}
	w.journaled = slices.Delete(w.journaled, 0, cut)
	return nil
}

type journalTime struct {
	seq uint64
	at  time.Time
}

// readJournalTimes lists the entries in dir by number, with their files'
// times (only for pruning).
func readJournalTimes(dir string) []journalTime {
	entries, _ := os.ReadDir(dir)
	var out []journalTime
	for _, e := range entries {
		seq, err := strconv.ParseUint(strings.TrimSuffix(e.Name(), ".json"), 10, 64)
		if err != nil || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			out = append(out, journalTime{seq, fi.ModTime()})
		}
	}
	slices.SortFunc(out, func(a, b journalTime) int { return a.at.Compare(b.at) })
	return out
}

// ReplayBatch stores again what ClickHouse lacks of batch b, which this
// Writer appended before: it builds the batch again from the log states
// kept from before it (it must give the heads signed then, or the records
// are not the batch's), then stores the leaves and nodes if any is missing,
// the rows (the Sink stores only a batch whose rows are not all there), and
// the heads if ClickHouse's newest is older. The state is not changed: it
// already includes the batch.
func (w *Writer) ReplayBatch(ctx context.Context, b consent.Batch) error {
	if len(b.Records) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	raw, err := os.ReadFile(filepath.Join(w.opt.Dir, JournalDir, journalName(b.Seq)))
	if errors.Is(err, os.ErrNotExist) {
		// Never appended (the shipper sends it as usual), or appended
		// while no states were kept (Keep 0): its leaves cannot be rebuilt,
		// and rows without their positions are not stored.
		if b.Seq <= w.state.AppliedSeq {
			w.log.Warn("a confirmed batch cannot be shipped again: its prior log states are not kept", "seq", b.Seq)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("ledger: journal: %w", err)
	}
	var e journalEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("ledger: journal of batch %d: %w", b.Seq, err)
	}
	sortBatch(&b)
	leaves, nodes, touched, err := w.build(&b, e.Sites, e.Prior)
	if err != nil {
		return err
	}
	for _, h := range e.Heads {
		wk := touched[h.Log]
		if wk == nil {
			return fmt.Errorf("ledger: batch %d built again does not touch log %s", b.Seq, h.Log)
		}
		root, err := wk.r.Root()
		if err != nil {
			return err
		}
		if wk.r.End() != h.Size || hex.EncodeToString(root[:]) != h.Root {
			return fmt.Errorf("ledger: batch %d built again gives %s size %d root %x, it was signed at size %d root %s: the spool's records are not the batch's",
				b.Seq, h.Log, wk.r.End(), root, h.Size, h.Root)
		}
	}
	if len(touched) != len(e.Heads) {
		return fmt.Errorf("ledger: batch %d built again touches %d logs, %d were signed", b.Seq, len(touched), len(e.Heads))
	}
	lost := false
	for id := range touched {
		var ids []NodeID
		for _, l := range leaves {
			if l.Log == id {
				ids = append(ids, NodeID{Level: 0, Index: l.Index})
			}
		}
		for _, n := range nodes {
			if n.Log == id {
				ids = append(ids, n.ID)
			}
		}
		// An error (a node missing, or a failed read) stores them again:
		// a copy too many is folded by the tables and ignored by reads.
		if _, err := w.st.Nodes(ctx, id, ids); err != nil {
			lost = true
			break
		}
	}
	if lost {
		if err := w.st.AppendTree(ctx, leaves, nodes); err != nil {
			return fmt.Errorf("ledger: batch %d again: store leaves: %w", b.Seq, err)
		}
	}
	if err := w.next.AppendBatch(ctx, b); err != nil {
		return err
	}
	stored, err := w.st.NewestHeads(ctx, w.opt.Instance)
	if err != nil {
		return fmt.Errorf("ledger: batch %d again: %w", b.Seq, err)
	}
	var heads []Head
	for _, h := range e.Heads {
		if sh, ok := stored[h.Log]; lost || !ok || sh.Size < h.Size {
			heads = append(heads, h)
		}
	}
	if len(heads) > 0 {
		if err := w.st.AppendHeads(ctx, heads, b.Seq); err != nil {
			return fmt.Errorf("ledger: batch %d again: store heads: %w", b.Seq, err)
		}
	}
	if lost {
		w.log.Warn("stored a batch again that ClickHouse had lost", "seq", b.Seq, "leaves", len(leaves))
	}
	return nil
}
