package ledger

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
)

// Store is where the logs live (ClickHouse): leaves, nodes, heads and the
// published keys. Nothing in it is trusted by the Writer at start without
// a check against the instance's own state.
type Store interface {
	Nodes
	// AppendTree stores leaves and the nodes they complete (level ≥ 1).
	// Storing the same ones again (a batch shipped twice) is harmless.
	AppendTree(ctx context.Context, leaves []StoredLeaf, nodes []StoredNode) error
	// AppendHeads stores signed heads, made by batch seq (0: a refresh).
	AppendHeads(ctx context.Context, heads []Head, seq uint64) error
	// NewestHeads returns the newest head of every log of instance (any
	// generation), with the batch that made it.
	NewestHeads(ctx context.Context, instance string) (map[string]StoredHead, error)
	// LeafAt returns leaf index of log.
	LeafAt(ctx context.Context, log string, index uint64) (Leaf, error)
	// EachLeaf streams the leaf data of [begin, end) in order.
	EachLeaf(ctx context.Context, log string, begin, end uint64, fn func(index uint64, data []byte) error) error
	PutKey(ctx context.Context, k PublicKey) error
}

// StoredLeaf is a leaf as stored, with its record's recorded time (not
// committed to: it lets an export find the records of a range by the
// table's sort key).
type StoredLeaf struct {
	Log        string
	Index      uint64
	Data       []byte
	Hash       [32]byte
	RecordID   uuid.UUID
	RecordedAt time.Time
}

// StoredNode is an interior node of a log's tree.
type StoredNode struct {
	Log  string
	ID   NodeID
	Hash [32]byte
}

// StoredHead is a head with the batch that made it.
type StoredHead struct {
	Head
	Seq uint64
}

// Options configure a Writer.
type Options struct {
	Dir      string // the instance's data directory (key and state)
	Instance string
	// NewLogs names logs the operator lets the Writer start again (a new
	// generation) because they cannot be continued; see Open.
	NewLogs []string
	Log     *slog.Logger
	Now     func() time.Time
	// Keep is how long the states before each batch are kept (in
	// ledger-batches/) so that ReplayBatch can store a batch's leaves,
	// rows and heads again exactly as they were; 0 keeps none.
	Keep time.Duration
	// Replay, if set, runs in Open once the state is read and before it is
	// checked against ClickHouse: the shipper's Replay, after an unclean
	// stop, so that what ClickHouse lost is back before Open looks.
	Replay func(ctx context.Context, w *Writer) error
}

// Writer appends every shipped record to its site's log, signs the heads,
// and keeps the state in the data directory. It is a consent.Sink that
// wraps the one storing the rows.
type Writer struct {
	next consent.Sink
	st   Store
	key  *Key
	opt  Options
	log  *slog.Logger

	mu        sync.Mutex
	state     *State
	started   []NewLog      // logs started anew by this Open
	journaled []journalTime // the batches in JournalDir, oldest first (nil: not read yet)
}

var _ consent.Sink = (*Writer)(nil)

// ErrLogExists is wrapped by Open's refusals to start or continue a log.
var ErrLogExists = errors.New("ledger: refusing to start a log that exists")

// Open loads the instance's key and state and checks them against the
// store: every log of this instance in ClickHouse must be one the state
// knows, and its newest head there must be the state's head or one that
// extends it (a batch stored just before a crash). A log that ClickHouse
// has lost heads of is repaired from its stored leaves when they still add
// up to the state's root. Anything else — ClickHouse holds a log the state
// does not know, the log is shorter or different there, the state or the key
// is missing while ClickHouse has this instance's logs — is refused with an
// error naming the log, unless the log is in opt.NewLogs: then its site gets
// a new log (site@instance~N), recorded in the state and returned by Started.
func Open(ctx context.Context, next consent.Sink, st Store, opt Options) (*Writer, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{next: next, st: st, opt: opt, log: opt.Log.With("component", "ledger")}
	state, err := readState(opt.Dir)
	if err != nil {
		return nil, err
	}
	if state != nil && opt.Replay != nil {
		w.state = state
		if err := opt.Replay(ctx, w); err != nil {
			return nil, err
		}
	}
	stored, err := st.NewestHeads(ctx, opt.Instance)
	if err != nil {
		return nil, fmt.Errorf("ledger: read heads: %w", err)
	}
	fresh := state == nil
	if fresh {
		state = &State{Format: 1, Instance: opt.Instance, Sites: map[string]string{}, Logs: map[string]*LogState{}}
	}
	if state.Instance != opt.Instance {
		return nil, fmt.Errorf("ledger: %s is the state of instance %q, not %q", StateFile, state.Instance, opt.Instance)
	}
	// A key is made only for an instance that has never logged anything.
	w.key, err = LoadKey(opt.Dir, fresh && len(stored) == 0)
	if err != nil {
		if fresh && len(stored) > 0 {
			return nil, fmt.Errorf("%w: ClickHouse holds %d logs of instance %s (%s) but its data directory %s has neither key nor %s; restore them, or start new logs with --new-log",
				ErrLogExists, len(stored), opt.Instance, strings.Join(slices.Sorted(maps.Keys(stored)), ", "), opt.Dir, StateFile)
		}
		return nil, err
	}
	if len(state.Keys) == 0 {
		state.Keys = []PublicKey{w.key.Published(opt.Instance, opt.Now())}
	}
	if cur := state.Keys[len(state.Keys)-1]; cur.ID != w.key.ID {
		return nil, fmt.Errorf("ledger: the key in %s (%s) is not this instance's current key %s: a key is replaced only by `samtycke log rotate-key`, which has the previous key sign the change", opt.Dir, w.key.ID, cur.ID)
	}
	w.state = state
	own := NewKeyring(state.Keys, nil)
	newLog := map[string]bool{}
	for _, l := range opt.NewLogs {
		newLog[l] = true
	}
	var refusals []string
	refuse := func(log, why string) {
		if newLog[log] {
			w.restart(log, why)
			return
		}
		refusals = append(refusals, fmt.Sprintf("log %s: %s", log, why))
	}
	for _, id := range slices.Sorted(maps.Keys(stored)) {
		h := stored[id]
		if _, err := own.CheckHead(&h.Head); err != nil {
			refuse(id, fmt.Sprintf("ClickHouse's newest head is not signed by this instance's keys (%v)", err))
			continue
		}
		ls := state.Logs[id]
		if ls != nil && ls.ReplacedBy != "" {
			continue // started anew earlier: what ClickHouse holds of it is history
		}
		if ls == nil {
			refuse(id, fmt.Sprintf("ClickHouse holds it (size %d, signed %s) but this instance's %s does not: refusing to start it again from zero", h.Size, h.Time().Format(time.RFC3339), StateFile))
			continue
		}
		if err := w.reconcile(ctx, id, ls, &h); err != nil {
			refuse(id, err.Error())
		}
	}
	for _, id := range slices.Sorted(maps.Keys(state.Logs)) {
		if _, ok := stored[id]; ok || state.Logs[id].Size == 0 || state.Logs[id].ReplacedBy != "" {
			continue
		}
		if err := w.repair(ctx, id, state.Logs[id]); err != nil {
			refuse(id, err.Error())
		}
	}
	if len(refusals) > 0 {
		return nil, fmt.Errorf("%w:\n  %s\nFix ClickHouse (restore the lost data) or start those logs anew with --new-log LOG (recorded as such)", ErrLogExists, strings.Join(refusals, "\n  "))
	}
	for _, k := range state.Keys {
		if err := st.PutKey(ctx, k); err != nil {
			return nil, fmt.Errorf("ledger: publish key: %w", err)
		}
	}
	if err := state.save(opt.Dir); err != nil {
		return nil, err
	}
	return w, nil
}

// reconcile checks ClickHouse's newest head h of log id against the state.
func (w *Writer) reconcile(ctx context.Context, id string, ls *LogState, h *StoredHead) error {
	switch {
	case h.Size == ls.Size && h.Root == ls.Head.Root:
		return nil
	case h.Size == ls.Size:
		return fmt.Errorf("ClickHouse's head at size %d has root %s, this instance signed %s: the log was forked", h.Size, h.Root, ls.Head.Root)
	case h.Size < ls.Size:
		return w.repair(ctx, id, ls)
	}
	// ClickHouse is ahead: a batch's heads were stored before a crash kept
	// the state from being saved. Adopt them if they extend the state's.
	r1, err := ls.Head.RootHash()
	if err != nil {
		return err
	}
	r2, err := h.RootHash()
	if err != nil {
		return err
	}
	path, err := ConsistencyProof(ctx, w.st, id, ls.Size, h.Size)
	if err == nil {
		err = VerifyConsistency(ls.Size, h.Size, path, r1, r2)
	}
	if err != nil {
		return fmt.Errorf("ClickHouse's newest head (size %d) does not extend this instance's (size %d): %v", h.Size, ls.Size, err)
	}
	frontier, err := RangeHashes(ctx, w.st, id, 0, h.Size)
	if err != nil {
		return err
	}
	last, err := w.st.LeafAt(ctx, id, h.Size-1)
	if err != nil {
		return err
	}
	*ls = LogState{Size: h.Size, Frontier: HexHashes(frontier), LastTimeMs: last.TimeMs, Head: h.Head, StartedAfter: ls.StartedAfter}
	w.state.AppliedSeq = max(w.state.AppliedSeq, h.Seq)
	w.log.Info("adopted the heads of a batch stored before a crash", "log", id, "size", h.Size, "seq", h.Seq)
	return nil
}

// repair stores the state's head again where ClickHouse lacks it, once
// every stored leaf is read back and they add up to it; a log with a leaf
// gone or changed cannot be repaired.
func (w *Writer) repair(ctx context.Context, id string, ls *LogState) error {
	r, err := NewRange(0, 0, nil)
	if err != nil {
		return err
	}
	err = w.st.EachLeaf(ctx, id, 0, ls.Size, func(i uint64, data []byte) error {
		if i != r.End() {
			return fmt.Errorf("leaf %d is missing", r.End())
		}
		return r.Append(LeafHash(data), nil)
	})
	if err == nil && r.End() != ls.Size {
		err = fmt.Errorf("leaves %d..%d are missing", r.End(), ls.Size-1)
	}
	var root [32]byte
	if err == nil {
		root, err = r.Root()
	}
	if err != nil || hex.EncodeToString(root[:]) != ls.Head.Root {
		return fmt.Errorf("this instance signed it at size %d but ClickHouse's leaves do not add up to that head (%s): they were deleted or changed, or ClickHouse was restored from an older backup", ls.Size, errOr(err, "another root"))
	}
	if err := w.st.AppendHeads(ctx, []Head{ls.Head}, 0); err != nil {
		return err
	}
	w.log.Warn("ClickHouse lacked the newest head of a log; stored it again from this instance's state", "log", id, "size", ls.Size)
	return nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// restart gives the site of log id a new log, recorded in the state.
func (w *Writer) restart(id, why string) {
	site, inst, _ := SplitLogID(id)
	base, genText, _ := strings.Cut(inst, "~")
	gen, _ := strconv.Atoi(genText)
	next := LogID(site, base+"~"+strconv.Itoa(max(gen, 1)+1))
	for w.state.Logs[next] != nil {
		gen++
		next = LogID(site, base+"~"+strconv.Itoa(max(gen, 1)+1))
	}
	w.state.Sites[site] = next
	w.state.Logs[next] = &LogState{StartedAfter: id}
	if old := w.state.Logs[id]; old != nil {
		old.ReplacedBy = next
	} else {
		w.state.Logs[id] = &LogState{ReplacedBy: next}
	}
	w.started = append(w.started, NewLog{Log: next, Site: site, Replaces: id, Why: why})
	w.log.Error("a log could not be continued; started a new one as asked (--new-log)", "log", next, "replaces", id, "why", why)
}

// NewLog is a log started anew in place of one that could not be continued.
type NewLog struct {
	Log      string `json:"log_id"`
	Site     string `json:"site"`
	Replaces string `json:"replaces"`
	Why      string `json:"why"`
}

// Started lists the logs Open started anew: the caller records them in the
// audit trail.
func (w *Writer) Started() []NewLog { return w.started }

// Key is the instance's current signing key.
func (w *Writer) Key() *Key { return w.key }

// AppendBatch appends the batch's records to their sites' logs, stores the
// leaves and nodes, then the rows (with their positions), then the signed
// heads, then the state. A crash anywhere before the state is saved makes
// the shipper send the same batch again, which gives the same leaves at the
// same positions (the same records, sorted, after the same state); after
// the heads are stored, Open adopts them and the batch is not appended
// twice.
//
// Rows the log refuses for good (consent.RefusedError) do not stop the
// batch: its leaves stay logged, its heads and state are stored, and the
// refusal, with the positions, goes back to the shipper, which keeps the
// rows aside until they can be stored at those positions. Leaves without
// rows are what verify reports; a log with a hole would be worse.
func (w *Writer) AppendBatch(ctx context.Context, b consent.Batch) error {
	if len(b.Records) == 0 {
		return w.next.AppendBatch(ctx, b)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if b.Seq <= w.state.AppliedSeq {
		return nil
	}
	sortBatch(&b)
	prior := map[string]LogState{}
	sites := map[string]string{}
	for i := range b.Records {
		site := b.Records[i].Site
		if _, ok := sites[site]; ok {
			continue
		}
		id, ok := w.state.Sites[site]
		if !ok {
			id = LogID(site, w.opt.Instance)
		}
		sites[site] = id
		if cur := w.state.Logs[id]; cur != nil {
			prior[id] = *cur
		} else {
			prior[id] = LogState{}
		}
	}
	leaves, nodes, touched, err := w.build(&b, sites, prior)
	if err != nil {
		return err
	}
	now := w.opt.Now().UnixMilli()
	heads := make([]Head, 0, len(touched))
	for _, id := range slices.Sorted(maps.Keys(touched)) {
		wk := touched[id]
		root, err := wk.r.Root()
		if err != nil {
			return fmt.Errorf("ledger: %s: %w", id, err)
		}
		h := Head{Log: id, Size: wk.r.End(), Root: hex.EncodeToString(root[:]), Timestamp: max(now, wk.ls.Head.Timestamp+1)}
		h.sign(w.key)
		wk.ls.Size, wk.ls.Frontier, wk.ls.Head = h.Size, HexHashes(wk.r.Hashes()), h
		heads = append(heads, h)
	}
	if err := w.st.AppendTree(ctx, leaves, nodes); err != nil {
		return fmt.Errorf("ledger: batch %d: store leaves: %w", b.Seq, err)
	}
	var refused *consent.RefusedError
	rowsErr := w.next.AppendBatch(ctx, b)
	if rowsErr != nil && !errors.As(rowsErr, &refused) {
		return rowsErr
	}
	if err := w.st.AppendHeads(ctx, heads, b.Seq); err != nil {
		return fmt.Errorf("ledger: batch %d: store heads: %w", b.Seq, err)
	}
	if w.opt.Keep > 0 {
		if err := w.journal(journalEntry{Seq: b.Seq, At: w.opt.Now(), Sites: sites, Prior: prior, Heads: heads}); err != nil {
			return err
		}
	}
	next := *w.state
	next.Sites, next.Logs = maps.Clone(w.state.Sites), maps.Clone(w.state.Logs)
	for site, id := range sites {
		next.Sites[site] = id
	}
	for id, wk := range touched {
		ls := wk.ls
		next.Logs[id] = &ls
	}
	next.AppliedSeq = b.Seq
	if err := next.save(w.opt.Dir); err != nil {
		return err
	}
	w.state = &next
	return rowsErr
}

// sortBatch puts the records in shipping order: by time, then record ID —
// the same every time the batch is read, and as close to time order as the
// spool allows.
func sortBatch(b *consent.Batch) {
	recs := slices.Clone(b.Records)
	slices.SortFunc(recs, func(x, y consent.Record) int {
		// The bytes order as their hex text does, without making strings.
		return cmp.Or(x.RecordedAt.Compare(y.RecordedAt), bytes.Compare(x.RecordID[:], y.RecordID[:]))
	})
	b.Records = recs
}

// work is one log's part of a batch: its state as the batch leaves it and
// the range of its tree.
type work struct {
	ls LogState
	r  *Range
}

// build appends the sorted records of b to their logs, each log starting
// from its prior state, and sets b.Positions. It is a pure function of the
// records and the prior states: a batch built again from the same states
// gives the same leaves, nodes and roots.
func (w *Writer) build(b *consent.Batch, sites map[string]string, prior map[string]LogState) ([]StoredLeaf, []StoredNode, map[string]*work, error) {
	recs := b.Records
	b.Positions = make([]consent.LogPos, len(recs))
	touched := map[string]*work{}
	var leaves []StoredLeaf
	var nodes []StoredNode
	for i := range recs {
		consent.StepAside(i)
		id, ok := sites[recs[i].Site]
		if !ok {
			return nil, nil, nil, fmt.Errorf("ledger: batch %d: no log for site %s", b.Seq, recs[i].Site)
		}
		wk := touched[id]
		if wk == nil {
			ls := prior[id]
			hashes, err := ParseHashes(ls.Frontier)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("ledger: state of %s: %w", id, err)
			}
			r, err := NewRange(0, ls.Size, hashes)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("ledger: state of %s: %w", id, err)
			}
			wk = &work{ls: ls, r: r}
			touched[id] = wk
		}
		row := RowOf(&recs[i])
		ms := max(recs[i].RecordedAt.UnixMilli(), wk.ls.LastTimeMs)
		leaf, err := LeafOf(&row, ms)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("ledger: batch %d: record %s: %w", b.Seq, recs[i].RecordID, err)
		}
		data := leaf.Data()
		hash := LeafHash(data)
		index := wk.r.End()
		leaves = append(leaves, StoredLeaf{Log: id, Index: index, Data: data, Hash: hash, RecordID: recs[i].RecordID, RecordedAt: recs[i].RecordedAt})
		err = wk.r.Append(hash, func(n NodeID, h []byte) {
			if n.Level >= StoredLevel {
				nodes = append(nodes, StoredNode{Log: id, ID: n, Hash: [32]byte(h)})
			}
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("ledger: %s: %w", id, err)
		}
		wk.ls.LastTimeMs = ms
		b.Positions[i] = consent.LogPos{Log: id, Leaf: index}
	}
	return leaves, nodes, touched, nil
}

// Refresh signs a new head, of the same size, for every log whose newest
// head is older than maxAge, so that a bundle's head shows how recent its
// view of the log is even when nothing was logged (RFC 9162's logs do the
// same).
func (w *Writer) Refresh(ctx context.Context, maxAge time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.opt.Now()
	var heads []Head
	next := *w.state
	next.Logs = maps.Clone(w.state.Logs)
	for _, id := range slices.Sorted(maps.Keys(w.state.Logs)) {
		ls := *w.state.Logs[id]
		if ls.Size == 0 || ls.ReplacedBy != "" || now.Sub(ls.Head.Time()) < maxAge {
			continue
		}
		h := Head{Log: id, Size: ls.Size, Root: ls.Head.Root, Timestamp: max(now.UnixMilli(), ls.Head.Timestamp+1)}
		h.sign(w.key)
		ls.Head = h
		next.Logs[id] = &ls
		heads = append(heads, h)
	}
	if len(heads) == 0 {
		return nil
	}
	if err := w.st.AppendHeads(ctx, heads, 0); err != nil {
		return fmt.Errorf("ledger: refresh heads: %w", err)
	}
	if err := next.save(w.opt.Dir); err != nil {
		return err
	}
	w.state = &next
	return nil
}

// Heads returns the newest head of each of this instance's logs, from its
// own state.
func (w *Writer) Heads() []Head {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Head
	for _, id := range slices.Sorted(maps.Keys(w.state.Logs)) {
		if ls := w.state.Logs[id]; ls.Size > 0 && ls.ReplacedBy == "" {
			out = append(out, ls.Head)
		}
	}
	return out
}
