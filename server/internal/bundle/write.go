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
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/flate"

	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// Source is the consent log with its proofs (ClickHouse).
type Source interface {
	// EachRecord streams the records q selects in export order: recorded_at,
	// then record ID as text.
	EachRecord(ctx context.Context, q Query, fn func(ledger.Row) error) error
	// BatchRecords streams every stored record of one batch, of any site.
	BatchRecords(ctx context.Context, id uuid.UUID, fn func(ledger.Row) error) error
	ProofsOf(ctx context.Context, ids []uuid.UUID) ([]ledger.Proof, error)
	Chain(ctx context.Context, instance string, from, to uint64) ([]ledger.Proof, error)
	Keys(ctx context.Context) ([]ledger.PublicKey, error)
	Version(ctx context.Context, site string, n uint32) (*siteconfig.Version, error)
}

// Manifest describes a bundle. Files maps every other file to its SHA-256.
type Manifest struct {
	Bundle        int               `json:"bundle"` // this layout's version
	Tool          string            `json:"tool"`
	CreatedAt     time.Time         `json:"created_at"`
	Query         Query             `json:"query"`
	Format        string            `json:"format"`
	Rows          uint64            `json:"rows"`
	FirstRecorded string            `json:"first_recorded_at,omitempty"`
	LastRecorded  string            `json:"last_recorded_at,omitempty"`
	Files         map[string]string `json:"files"`
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

// leafSize is one leaf in leaves/BATCH.bin: site hash, ms (big-endian), row hash.
const leafSize = 32 + 8 + 32

// Write streams the bundle of q to w as a zip, reading records one at a
// time. progress (may be nil) is told the number of records written so far.
func Write(ctx context.Context, w io.Writer, src Source, q Query, format, tool string, progress func(uint64)) (*Manifest, error) {
	zw := zip.NewWriter(w)
	// The fastest deflate: an export is bound by CPU, and hashes (leaves)
	// do not compress anyway.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	m := &Manifest{Bundle: 1, Tool: tool, CreatedAt: time.Now().UTC().Truncate(time.Second), Query: q, Format: format, Files: map[string]string{}}
	name := "records." + format
	f, err := m.create(zw, name)
	if err != nil {
		return nil, err
	}
	perBatch := map[uuid.UUID]uint32{}
	versions := map[uint32]bool{}
	var line, scratch []byte
	if format == CSV {
		if _, err := f.Write(writeCSV(nil, csvHeader)); err != nil {
			return nil, err
		}
	}
	err = eachChunk(ctx, src, q, func(r *ledger.Row) error {
		if id, err := uuid.Parse(r.BatchID); err == nil {
			perBatch[id]++
		}
		versions[r.ConfigVersion] = true
		if m.Rows == 0 {
			m.FirstRecorded = r.RecordedAt
		}
		m.LastRecorded = r.RecordedAt
		m.Rows++
		if progress != nil && m.Rows%10_000 == 0 {
			progress(m.Rows)
		}
		if format == CSV {
			line = appendRow(line[:0], r, &scratch)
		} else {
			line = append(append(line[:0], r.Encode()...), '\n')
		}
		_, err := f.Write(line)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", q.String(), err)
	}
	if progress != nil {
		progress(m.Rows)
	}
	m.done(name, f)

	if err := writeProofs(ctx, zw, m, src, perBatch); err != nil {
		return nil, err
	}
	nums := make([]uint32, 0, len(versions))
	for n := range versions {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
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
	if err := m.writeJSON(zw, "keys.json", keys); err != nil {
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

// writeProofs adds proofs.json, each touched instance's chain from its first
// to its last touched batch, and leaves/BATCH.bin for each batch the export
// holds only part of (other sites' records, the period's edges, filters).
func writeProofs(ctx context.Context, zw *zip.Writer, m *Manifest, src Source, perBatch map[uuid.UUID]uint32) error {
	ids := make([]uuid.UUID, 0, len(perBatch))
	for id := range perBatch {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	touched, err := src.ProofsOf(ctx, ids)
	if err != nil {
		return err
	}
	span := map[string][2]uint64{}
	for _, p := range touched {
		s, ok := span[p.Instance]
		if !ok {
			s = [2]uint64{p.Seq, p.Seq}
		}
		span[p.Instance] = [2]uint64{min(s[0], p.Seq), max(s[1], p.Seq)}
		if perBatch[p.BatchID] == p.Rows {
			continue
		}
		name := "leaves/" + p.BatchID.String() + ".bin"
		f, err := m.create(zw, name)
		if err != nil {
			return err
		}
		var b [leafSize]byte
		err = src.BatchRecords(ctx, p.BatchID, func(r ledger.Row) error {
			l, err := ledger.LeafOf(r)
			if err != nil {
				return err
			}
			copy(b[:32], l.SiteHash[:])
			binary.BigEndian.PutUint64(b[32:40], uint64(l.RecordedMs))
			copy(b[40:], l.RowHash[:])
			_, err = f.Write(b[:])
			return err
		})
		if err != nil {
			return fmt.Errorf("export: leaves of batch %s: %w", p.BatchID, err)
		}
		m.done(name, f)
	}
	instances := make([]string, 0, len(span))
	for in := range span {
		instances = append(instances, in)
	}
	slices.Sort(instances)
	proofs := []ledger.Proof{}
	for _, in := range instances {
		c, err := src.Chain(ctx, in, span[in][0], span[in][1])
		if err != nil {
			return err
		}
		proofs = append(proofs, c...)
	}
	return m.writeJSON(zw, "proofs.json", proofs)
}

// eachChunk reads the records in one goroutine and hands them to fn in
// another, a chunk at a time, so that reading from ClickHouse and encoding,
// hashing and compressing overlap. At most a few chunks are in flight.
func eachChunk(ctx context.Context, src Source, q Query, fn func(*ledger.Row) error) error {
	const size = 512
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []ledger.Row, 4)
	read := make(chan error, 1)
	go func() {
		defer close(chunks)
		chunk := make([]ledger.Row, 0, size)
		err := src.EachRecord(ctx, q, func(r ledger.Row) error {
			if chunk = append(chunk, r); len(chunk) == size {
				select {
				case chunks <- chunk:
				case <-ctx.Done():
					return ctx.Err()
				}
				chunk = make([]ledger.Row, 0, size)
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
		read <- err
	}()
	for chunk := range chunks {
		for i := range chunk {
			if err := fn(&chunk[i]); err != nil {
				cancel()
				for range chunks { // let the reader finish
				}
				<-read
				return err
			}
		}
	}
	return <-read
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
