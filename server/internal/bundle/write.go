package bundle

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// Source is the consent log with its evidence logs (ClickHouse).
type Source interface {
	ledger.Nodes
	// SiteHeads returns the newest head of every log of a site.
	SiteHeads(ctx context.Context, site string) ([]ledger.Head, error)
	// LeafRange returns the leaves [begin, end) of log (below size) whose
	// log time lies in [from, to), and their earliest recorded_at.
	LeafRange(ctx context.Context, log string, from, to time.Time, size uint64) (begin, end uint64, first time.Time, err error)
	// EachLeaf streams the leaf data of [begin, end) in order.
	EachLeaf(ctx context.Context, log string, begin, end uint64, fn func(index uint64, data []byte) error) error
	// EachRecord streams the stored records of log's leaves [begin, end)
	// that q's filters select, in leaf order; none is recorded before first.
	EachRecord(ctx context.Context, q Query, log string, begin, end uint64, first time.Time, fn func(*Record) error) error
	Keys(ctx context.Context) ([]ledger.PublicKey, error)
	Version(ctx context.Context, site string, n uint32) (*siteconfig.Version, error)
}

// Record is an exported record: where it is in the evidence log, and the
// record as hashed into its leaf.
type Record struct {
	Log  string
	Leaf uint64
	ledger.Row
}

// Layout is the bundle layout written: the manifest's "bundle".
const Layout = 2

// Manifest describes a bundle. Everything in it is the exporter's claim;
// verify checks each claim against the signed data and says which it could
// not check. Files maps every other file to its SHA-256.
type Manifest struct {
	Bundle    int               `json:"bundle"`
	Tool      string            `json:"tool"`
	CreatedAt time.Time         `json:"created_at"`
	Query     Query             `json:"query"`
	Format    string            `json:"format"`
	Rows      uint64            `json:"rows"`
	Logs      []LogSummary      `json:"logs"`
	Files     map[string]string `json:"files"`
}

// LogSummary is what a bundle holds of one log.
type LogSummary struct {
	Log string `json:"log_id"`
	// Begin and End bound the leaves the bundle holds ([Begin, End)):
	// those of the period and one on either side where the log goes on.
	Begin    uint64 `json:"begin"`
	End      uint64 `json:"end"`
	Size     uint64 `json:"tree_size"`
	Exported uint64 `json:"exported"`
	Expired  uint64 `json:"expired"`  // leaves of the period whose record's retention has passed
	Filtered uint64 `json:"filtered"` // leaves of the period whose record the filters leave out
	Missing  uint64 `json:"missing"`  // leaves of the period whose record is gone although it must be kept
}

// RangeFile is logs/LOG/range.json: the compact ranges left and right of
// the leaves held, so that with them the signed root can be recomputed.
type RangeFile struct {
	Begin uint64   `json:"begin"`
	End   uint64   `json:"end"`
	Size  uint64   `json:"tree_size"`
	Left  []string `json:"left"`  // compact range [0, begin)
	Right []string `json:"right"` // compact range [end, tree_size)
}

// ConsistencyFile is logs/LOG/consistency-N.json: proof that the bundle's
// head extends an earlier head of size N the exporter was given (--since).
type ConsistencyFile struct {
	First  uint64   `json:"first"`
	Second uint64   `json:"second"`
	Proof  []string `json:"proof"`
}

// VersionFile is versions/N.json: a configuration version exactly as
// published (Config is the canonical JSON whose SHA-256 is SHA256).
type VersionFile struct {
	Site        string    `json:"site"`
	Version     uint32    `json:"version"`
	SHA256      string    `json:"sha256"`
	PublishedAt time.Time `json:"published_at"`
	Config      string    `json:"config"`
}

// LogDir is the folder of a log's files in a bundle.
func LogDir(log string) string { return "logs/" + log + "/" }

// Expired reports whether a leaf's record may be absent at the time of
// head: its retain_until has passed (the day itself still counts, as the
// retention job drops rows only after it).
func Expired(l *ledger.Leaf, head *ledger.Head) bool {
	day := head.Time().Truncate(24 * time.Hour)
	return l.RetainUntil.Before(day)
}

// Write streams the bundle of q to w as a zip, reading records one at a
// time. progress (may be nil) is told the number of records written so
// far. since are heads the caller saved earlier: the bundle carries proofs
// that its heads extend them.
func Write(ctx context.Context, w io.Writer, src Source, q Query, format, tool string, progress func(uint64), since []ledger.Head) (*Manifest, error) {
	zw := zip.NewWriter(w)
	// The fastest deflate: an export is bound by CPU, and hashes do not
	// compress anyway.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	m := &Manifest{Bundle: Layout, Tool: tool, CreatedAt: time.Now().UTC().Truncate(time.Second), Query: q, Format: format, Files: map[string]string{}, Logs: []LogSummary{}}
	heads, err := src.SiteHeads(ctx, q.Site)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	type logWork struct {
		head       ledger.Head
		begin, end uint64 // the period's leaves
		first      time.Time
		exported   []bool // by leaf - begin
	}
	var logs []*logWork
	for _, h := range heads {
		if h.Size == 0 {
			continue
		}
		lw := &logWork{head: h}
		if lw.begin, lw.end, lw.first, err = src.LeafRange(ctx, h.Log, q.From, q.To, h.Size); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		lw.exported = make([]bool, lw.end-lw.begin)
		logs = append(logs, lw)
	}

	name := "records." + format
	f, err := m.create(zw, name)
	if err != nil {
		return nil, err
	}
	versions := map[uint32]bool{}
	var line, scratch []byte
	if format == CSV {
		if _, err := f.Write(csvPreamble()); err != nil {
			return nil, err
		}
	}
	for _, lw := range logs {
		if lw.begin == lw.end {
			continue
		}
		err = eachChunk(ctx, func(ctx context.Context, fn func(*Record) error) error {
			return src.EachRecord(ctx, q, lw.head.Log, lw.begin, lw.end, lw.first, fn)
		}, func(r *Record) error {
			if r.Leaf < lw.begin || r.Leaf >= lw.end {
				return fmt.Errorf("log %s: ClickHouse returned record %s for leaf %d, outside [%d, %d)", r.Log, r.RecordID, r.Leaf, lw.begin, lw.end)
			}
			if lw.exported[r.Leaf-lw.begin] {
				return fmt.Errorf("ClickHouse holds two records for leaf %d of %s (one is %s): a row was inserted behind the log's back", r.Leaf, r.Log, r.RecordID)
			}
			lw.exported[r.Leaf-lw.begin] = true
			versions[r.ConfigVersion] = true
			m.Rows++
			if progress != nil && m.Rows%10_000 == 0 {
				progress(m.Rows)
			}
			if format == CSV {
				line = appendRecordCSV(line[:0], r, &scratch)
			} else {
				line = append(appendRecordJSON(line[:0], r), '\n')
			}
			_, err := f.Write(line)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", q.String(), err)
		}
	}
	if progress != nil {
		progress(m.Rows)
	}
	m.done(name, f)

	sinceOf := map[string][]ledger.Head{}
	for _, h := range since {
		sinceOf[h.Log] = append(sinceOf[h.Log], h)
	}
	for _, lw := range logs {
		s, err := writeLog(ctx, zw, m, src, q, lw.head, lw.begin, lw.end, lw.exported, sinceOf[lw.head.Log])
		if err != nil {
			return nil, err
		}
		m.Logs = append(m.Logs, s)
	}
	for _, n := range slices.Sorted(maps.Keys(versions)) {
		v, err := src.Version(ctx, q.Site, n)
		if err != nil {
			return nil, fmt.Errorf("export: version %d: %w", n, err)
		}
		if err := m.writeJSON(zw, "versions/"+strconv.FormatUint(uint64(n), 10)+".json",
			VersionFile{Site: v.Site, Version: v.Number, SHA256: v.Hash, PublishedAt: v.PublishedAt.UTC(), Config: string(v.JSON)}); err != nil {
			return nil, err
		}
	}
	keys, err := src.Keys(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.writeJSON(zw, "keys.json", ledger.KeysDoc{Keys: keys}); err != nil {
		return nil, err
	}
	mf, err := zw.Create("manifest.json")
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(mf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return m, zw.Close()
}

// writeLog adds one log's files: its head, the leaves of the period with a
// boundary leaf on either side where the log goes on (their times prove
// that no leaf of the period lies outside), and the compact ranges around
// them.
func writeLog(ctx context.Context, zw *zip.Writer, m *Manifest, src Source, q Query, head ledger.Head, begin, end uint64,
	exported []bool, since []ledger.Head) (LogSummary, error) {
	s := LogSummary{Log: head.Log, Begin: begin, End: end, Size: head.Size}
	if s.Begin > 0 {
		s.Begin--
	}
	if s.End < head.Size {
		s.End++
	}
	dir := LogDir(head.Log)
	if err := m.writeJSON(zw, dir+"head.json", head); err != nil {
		return s, err
	}
	left, err := ledger.RangeHashes(ctx, src, head.Log, 0, s.Begin)
	if err == nil {
		var right [][]byte
		if right, err = ledger.RangeHashes(ctx, src, head.Log, s.End, head.Size); err == nil {
			err = m.writeJSON(zw, dir+"range.json", RangeFile{Begin: s.Begin, End: s.End, Size: head.Size,
				Left: ledger.HexHashes(left), Right: ledger.HexHashes(right)})
		}
	}
	if err != nil {
		return s, fmt.Errorf("export: log %s: %w", head.Log, err)
	}
	f, err := m.create(zw, dir+"leaves.bin")
	if err != nil {
		return s, err
	}
	next := s.Begin
	var buf []byte
	err = src.EachLeaf(ctx, head.Log, s.Begin, s.End, func(i uint64, data []byte) error {
		if i != next {
			return fmt.Errorf("leaf %d is not stored", next)
		}
		next++
		if i >= begin && i < end && !exported[i-begin] {
			l, err := ledger.ParseLeaf(data)
			switch {
			case err != nil:
				s.Missing++
			case Expired(&l, &head):
				s.Expired++
			case q.Filtered():
				s.Filtered++
			default:
				s.Missing++
			}
		} else if i >= begin && i < end {
			s.Exported++
		}
		buf = appendLeafEntry(buf[:0], data)
		_, err := f.Write(buf)
		return err
	})
	if err == nil && next != s.End {
		err = fmt.Errorf("leaves %d..%d are not stored", next, s.End-1)
	}
	if err != nil {
		// The bundle would not verify; an export that cannot be checked
		// is refused here, with the reason, rather than handed out.
		return s, fmt.Errorf("export: log %s: %w: ClickHouse has lost or been robbed of leaves of the log", head.Log, err)
	}
	m.done(dir+"leaves.bin", f)
	for _, h := range since {
		if h.Size > head.Size {
			return s, fmt.Errorf("export: the earlier head of %s has size %d, ClickHouse's newest only %d: the log was rolled back", h.Log, h.Size, head.Size)
		}
		p, err := ledger.ConsistencyProof(ctx, src, head.Log, h.Size, head.Size)
		if err != nil {
			return s, fmt.Errorf("export: consistency of %s from %d: %w", head.Log, h.Size, err)
		}
		if err := m.writeJSON(zw, fmt.Sprintf("%sconsistency-%d.json", dir, h.Size), ConsistencyFile{First: h.Size, Second: head.Size, Proof: ledger.HexHashes(p)}); err != nil {
			return s, err
		}
	}
	return s, nil
}

// appendLeafEntry frames one leaf in leaves.bin: its length (2 bytes,
// big-endian), then its data.
func appendLeafEntry(buf, data []byte) []byte {
	return append(binary.BigEndian.AppendUint16(buf, uint16(len(data))), data...)
}

// eachChunk reads the records in one goroutine and hands them to fn in
// another, a chunk at a time, so that reading from ClickHouse and encoding,
// hashing and compressing overlap. At most a few chunks are in flight.
func eachChunk(ctx context.Context, read func(context.Context, func(*Record) error) error, fn func(*Record) error) error {
	const size = 512
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []Record, 4)
	done := make(chan error, 1)
	go func() {
		defer close(chunks)
		chunk := make([]Record, 0, size)
		err := read(ctx, func(r *Record) error {
			if chunk = append(chunk, *r); len(chunk) == size {
				select {
				case chunks <- chunk:
				case <-ctx.Done():
					return ctx.Err()
				}
				chunk = make([]Record, 0, size)
			}
			return nil
		})
		if err == nil && len(chunk) > 0 {
			select {
			case chunks <- chunk:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		done <- err
	}()
	for chunk := range chunks {
		for i := range chunk {
			if err := fn(&chunk[i]); err != nil {
				cancel()
				for range chunks { // let the reader finish
				}
				<-done
				return err
			}
		}
	}
	return <-done
}

// countWriter hashes what goes into one zip entry.
type countWriter struct {
	w io.Writer
	h hash.Hash
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.h.Write(p)
	return c.w.Write(p)
}

func (m *Manifest) create(zw *zip.Writer, name string) (*countWriter, error) {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: m.CreatedAt})
	if err != nil {
		return nil, fmt.Errorf("export: %s: %w", name, err)
	}
	return &countWriter{w: w, h: sha256.New()}, nil
}

func (m *Manifest) done(name string, f *countWriter) {
	m.Files[name] = hex.EncodeToString(f.h.Sum(nil))
}

func (m *Manifest) writeJSON(zw *zip.Writer, name string, v any) error {
	f, err := m.create(zw, name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("export: %s: %w", name, err)
	}
	m.done(name, f)
	return nil
}
