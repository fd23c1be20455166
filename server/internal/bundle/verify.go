package bundle

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/ledger"
)

// Report is what Verify found in a bundle that verifies.
type Report struct {
	Manifest  Manifest
	Records   uint64
	Batches   int      // batches whose records were checked against their signed root
	Proofs    int      // proofs in the chain segments, all signatures good
	Keys      []string // IDs of the keys that signed
	Versions  int
	Omitted   uint64 // records of the site in the period left out by the filters (unprovable either way)
	Expired   []string
	Unproven  uint64 // records without a batch (shipped before the ledger existed)
	Instances []string
}

// Verify checks a bundle offline: the manifest's hashes, the keys, every
// proof's signature and the chains, each batch's records against its
// signed root, the configuration versions' hashes, and that the records are
// in export order and match the export's query. trusted (may be nil) pins
// the public keys the proofs must be signed with; without it the bundle's
// own keys.json is used, and the caller should compare Report.Keys with the
// server's published keys. The error names the first thing that is wrong.
func Verify(zr *zip.Reader, trusted map[string]ed25519.PublicKey) (*Report, error) {
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return nil, fmt.Errorf("%s appears twice in the bundle", f.Name)
		}
		files[f.Name] = f
	}
	rep := &Report{}
	if err := readJSON(files, "manifest.json", &rep.Manifest); err != nil {
		return nil, err
	}
	m := &rep.Manifest
	if m.Bundle != 1 || (m.Format != CSV && m.Format != NDJSON) {
		return nil, fmt.Errorf("manifest.json: unknown bundle %d or format %q", m.Bundle, m.Format)
	}
	for name := range files {
		if _, ok := m.Files[name]; !ok && name != "manifest.json" {
			return nil, fmt.Errorf("%s is not listed in manifest.json", name)
		}
	}
	names := make([]string, 0, len(m.Files))
	for name := range m.Files {
		if _, ok := files[name]; !ok {
			return nil, fmt.Errorf("%s is listed in manifest.json but missing", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)

	// Keys and proofs.
	var pks []ledger.PublicKey
	if err := readJSON(files, "keys.json", &pks); err != nil {
		return nil, err
	}
	keys, err := ledger.ParseKeys(pks)
	if err != nil {
		return nil, fmt.Errorf("keys.json: %w", err)
	}
	if trusted != nil {
		keys = trusted
	}
	var proofs []ledger.Proof
	if err := readJSON(files, "proofs.json", &proofs); err != nil {
		return nil, err
	}
	if !slices.IsSortedFunc(proofs, func(a, b ledger.Proof) int {
		return cmpOr(strings.Compare(a.Instance, b.Instance), cmpU(a.Seq, b.Seq))
	}) {
		return nil, errors.New("proofs.json: proofs are not in (instance, seq) order")
	}
	if err := ledger.CheckChain(proofs, keys); err != nil {
		return nil, fmt.Errorf("proofs.json: %w", err)
	}
	byBatch := map[uuid.UUID]*ledger.Proof{}
	used := map[string]bool{}
	for i := range proofs {
		p := &proofs[i]
		byBatch[p.BatchID] = p
		used[p.KeyID] = true
		if !slices.Contains(rep.Instances, p.Instance) {
			rep.Instances = append(rep.Instances, p.Instance)
		}
	}
	rep.Proofs = len(proofs)
	for id := range used {
		rep.Keys = append(rep.Keys, id)
	}
	slices.Sort(rep.Keys)

	// Versions.
	versions := map[uint32]string{}
	for _, name := range names {
		if !strings.HasPrefix(name, "versions/") {
			continue
		}
		var v VersionFile
		if err := readJSON(files, name, &v); err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(v.Config))
		if hex.EncodeToString(sum[:]) != v.SHA256 {
			return nil, fmt.Errorf("%s: version %d's configuration does not match its SHA-256: its texts were changed", name, v.Version)
		}
		if v.Site != m.Query.Site || name != fmt.Sprintf("versions/%d.json", v.Version) {
			return nil, fmt.Errorf("%s: holds version %d of site %q", name, v.Version, v.Site)
		}
		versions[v.Version] = v.SHA256
	}
	rep.Versions = len(versions)

	// Records: each is parsed, checked, and its leaf kept under its batch.
	leaves := map[uuid.UUID][][32]byte{}
	lines := map[uuid.UUID][]int{}
	firstLine := map[uuid.UUID]int{}
	var prev ledger.Row
	err = eachRecord(files["records."+m.Format], m.Format, func(line int, r ledger.Row) error {
		what := fmt.Sprintf("record %d (line %d, record_id %s)", rep.Records+1, line, r.RecordID)
		if !m.Query.Match(&r) {
			return fmt.Errorf("%s: not one the export selects (site, period or filters)", what)
		}
		if rep.Records > 0 && cmpOr(strings.Compare(prev.RecordedAt, r.RecordedAt), strings.Compare(prev.RecordID, r.RecordID)) >= 0 {
			return fmt.Errorf("%s: out of order (records are sorted by recorded_at, then record_id): rows were moved or duplicated", what)
		}
		prev = r
		if h, ok := versions[r.ConfigVersion]; !ok || (r.ConfigHash != "" && h != r.ConfigHash) {
			return fmt.Errorf("%s: its configuration version %d (%s) is not in the bundle", what, r.ConfigVersion, r.ConfigHash)
		}
		rep.Records++
		if r.BatchID == "" {
			rep.Unproven++
			return nil
		}
		id, err := uuid.Parse(r.BatchID)
		if err != nil {
			return fmt.Errorf("%s: batch_id %q", what, r.BatchID)
		}
		if byBatch[id] == nil {
			return fmt.Errorf("%s: its batch %s has no proof in the bundle", what, id)
		}
		l, err := ledger.LeafOf(r)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, ok := firstLine[id]; !ok {
			firstLine[id] = line
		}
		leaves[id] = append(leaves[id], l.Hash())
		lines[id] = append(lines[id], line)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rep.Records != m.Rows {
		return nil, fmt.Errorf("records.%s holds %d records, manifest.json says %d", m.Format, rep.Records, m.Rows)
	}

	// Batches, in file order of their first record, so the first bad one is named.
	ids := make([]uuid.UUID, 0, len(leaves))
	for id := range leaves {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return firstLine[a] - firstLine[b] })
	siteHash := sha256.Sum256([]byte(m.Query.Site))
	for _, id := range ids {
		p, got := byBatch[id], leaves[id]
		name := fmt.Sprintf("batch %s (%s #%d, first record on line %d)", id, p.Instance, p.Seq, firstLine[id])
		all := got
		if f, ok := files["leaves/"+id.String()+".bin"]; ok {
			stored, err := readLeaves(f)
			if err != nil {
				return nil, err
			}
			if uint32(len(stored)) < p.Rows {
				// Retention dropped some of the batch's rows (another
				// site's, or the edge of a shortened retention).
				rep.Expired = append(rep.Expired, fmt.Sprintf("%s: %d of %d rows remain; its records are not provable", name, len(stored), p.Rows))
				continue
			}
			all = make([][32]byte, len(stored))
			held := map[[32]byte]int{}
			for i, l := range stored {
				all[i] = l.Hash()
				held[all[i]]++
			}
			for i, h := range got {
				if held[h] == 0 {
					return nil, fmt.Errorf("%s: the record on line %d is not one the batch holds: it was changed or added", name, lines[id][i])
				}
				held[h]--
			}
			for _, l := range stored {
				if held[l.Hash()] == 0 {
					continue
				}
				held[l.Hash()]--
				at := time.UnixMilli(l.RecordedMs).UTC()
				if l.SiteHash == siteHash && !at.Before(m.Query.From) && at.Before(m.Query.To) {
					if !m.Query.Filtered() {
						return nil, fmt.Errorf("%s: a record of %s recorded at %s is missing from the bundle: it was deleted", name, m.Query.Site, at.Format(ledger.TimeLayout))
					}
					rep.Omitted++
				}
			}
		}
		if uint32(len(all)) != p.Rows {
			return nil, fmt.Errorf("%s: %d records, the signed batch holds %d: records were added or deleted", name, len(all), p.Rows)
		}
		root := ledger.Root(all)
		if hex.EncodeToString(root[:]) != p.Root {
			return nil, fmt.Errorf("%s: its records do not recompute the signed root: a record of it was changed", name)
		}
		rep.Batches++
	}
	// Last, so that a changed record is named above rather than its file.
	for _, name := range names {
		sum, err := hashFile(files[name])
		if err != nil {
			return nil, err
		}
		if sum != m.Files[name] {
			return nil, fmt.Errorf("%s: its SHA-256 is not the one in manifest.json: the file was changed", name)
		}
	}
	if rep.Unproven > 0 {
		return rep, fmt.Errorf("%d records have no batch and so no proof (shipped before the ledger existed, or inserted behind its back)", rep.Unproven)
	}
	return rep, nil
}

func eachRecord(f *zip.File, format string, fn func(line int, r ledger.Row) error) error {
	if f == nil {
		return fmt.Errorf("records.%s is missing", format)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if format == CSV {
		cr := csv.NewReader(rc)
		cr.ReuseRecord = true
		head, err := cr.Read()
		if err != nil || !slices.Equal(head, csvHeader) {
			return errors.New("records.csv: the header row is not the expected one")
		}
		for {
			cells, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			line, _ := cr.FieldPos(0)
			if err != nil {
				return fmt.Errorf("records.csv line %d: %w", line, err)
			}
			r, err := rowOfCSV(cells)
			if err != nil {
				return fmt.Errorf("records.csv line %d: %w", line, err)
			}
			if err := fn(line, r); err != nil {
				return err
			}
		}
	}
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var r ledger.Row
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return fmt.Errorf("records.ndjson line %d: %w", line, err)
		}
		if !bytes.Equal(r.Encode(), sc.Bytes()) {
			return fmt.Errorf("records.ndjson line %d (record_id %s): not in canonical form: the line was edited", line, r.RecordID)
		}
		if err := fn(line, r); err != nil {
			return err
		}
	}
	return sc.Err()
}

func readLeaves(f *zip.File) ([]ledger.Leaf, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	if len(b)%leafSize != 0 {
		return nil, fmt.Errorf("%s: not a whole number of leaves", f.Name)
	}
	out := make([]ledger.Leaf, len(b)/leafSize)
	for i := range out {
		e := b[i*leafSize:]
		copy(out[i].SiteHash[:], e[:32])
		out[i].RecordedMs = int64(binary.BigEndian.Uint64(e[32:40]))
		copy(out[i].RowHash[:], e[40:72])
	}
	return out, nil
}

func readJSON(files map[string]*zip.File, name string, v any) error {
	f, ok := files[name]
	if !ok {
		return fmt.Errorf("%s is missing", name)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func hashFile(f *zip.File) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", fmt.Errorf("%s: %w", f.Name, err) // includes zip's checksum error
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
