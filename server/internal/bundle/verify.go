package bundle

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/ledger"
)

// Options are what an auditor brings to Verify besides the bundle.
type Options struct {
	// Anchors are the trusted keys' fingerprints; nil checks the heads
	// against the bundle's own keys only (Report.Anchored stays false).
	Anchors ledger.Anchors
	// AnchorKeys are the keys of saved trust files: their transitions count.
	AnchorKeys []ledger.PublicKey
	// Since are heads saved earlier (an older bundle's, or a live log's):
	// each must be extended by the bundle's head of its log.
	Since []ledger.Head
	// OnLeaf, when set, sees every leaf the bundle holds as it is read. A
	// leaf counts only if Verify then succeeds (the root is checked last).
	OnLeaf func(log string, index uint64, leaf *ledger.Leaf)
}

// Report is what Verify found in a bundle that verifies.
type Report struct {
	Manifest Manifest
	Records  uint64
	Logs     []LogReport
	Versions int
	// Anchored is set when every head chains to a trust anchor.
	Anchored bool
	// Signers are the fingerprints of the keys that signed the heads.
	Signers []string
	// Claims are what the bundle says that verify cannot check.
	Claims []string
	// Since counts the earlier heads checked.
	Since int
}

// LogReport is one verified log.
type LogReport struct {
	LogSummary
	Head ledger.Head
}

// Verify checks a bundle offline: that each log's head is signed by its
// key, that the leaves it holds add up to the head's root with the compact
// ranges around them, that those leaves cover the period (a leaf before and
// after it, where the log goes on), that every record is the one its leaf
// commits to, that every leaf of the period without a record is accounted
// for (its retention passed, or a filter left it out), that the manifest's
// claims match, that the configuration versions match their hashes, and
// that every earlier head given is extended by the bundle's. The error names
// the first record, leaf, head or file that is wrong.
func Verify(zr *zip.Reader, opt Options) (*Report, error) {
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
	if m.Bundle != Layout {
		return nil, fmt.Errorf("manifest.json: bundle layout %d; this verify reads layout %d", m.Bundle, Layout)
	}
	if m.Format != CSV && m.Format != NDJSON {
		return nil, fmt.Errorf("manifest.json: unknown format %q", m.Format)
	}
	if m.Query.Site == "" || !m.Query.From.Before(m.Query.To) {
		return nil, errors.New("manifest.json: the query names no site or an empty period")
	}
	// Every file is one the layout has, listed in the manifest, and there.
	logs := map[string]*LogSummary{}
	for i := range m.Logs {
		s := &m.Logs[i]
		if i > 0 && m.Logs[i-1].Log >= s.Log {
			return nil, errors.New("manifest.json: logs are not in order, or one is listed twice")
		}
		site, _, err := ledger.SplitLogID(s.Log)
		if err != nil {
			return nil, fmt.Errorf("manifest.json: %w", err)
		}
		if site != m.Query.Site {
			return nil, fmt.Errorf("manifest.json: log %s is not a log of site %s", s.Log, m.Query.Site)
		}
		logs[s.Log] = s
	}
	for name := range files {
		if name == "manifest.json" {
			continue
		}
		if _, ok := m.Files[name]; !ok {
			return nil, fmt.Errorf("%s is not listed in manifest.json", name)
		}
		if !expectedFile(name, m.Format, logs) {
			return nil, fmt.Errorf("%s is not a file a bundle has: it was added", name)
		}
	}
	names := slices.Sorted(maps.Keys(m.Files))
	for _, name := range names {
		if files[name] == nil {
			return nil, fmt.Errorf("%s is listed in manifest.json but missing", name)
		}
	}
	for log := range logs {
		for _, f := range []string{"head.json", "range.json", "leaves.bin"} {
			if files[LogDir(log)+f] == nil {
				return nil, fmt.Errorf("%s%s is missing", LogDir(log), f)
			}
		}
	}

	// Keys, and the heads they sign.
	var kd ledger.KeysDoc
	if err := readJSON(files, "keys.json", &kd); err != nil {
		return nil, err
	}
	ring := ledger.NewKeyring(append(kd.Keys, opt.AnchorKeys...), opt.Anchors)
	rep.Anchored = opt.Anchors != nil
	var signers []string
	checks := make([]*logCheck, 0, len(m.Logs))
	for i := range m.Logs {
		c, err := openLog(files, &m.Logs[i], ring)
		if err != nil {
			return nil, err
		}
		c.onLeaf = opt.OnLeaf
		defer c.close()
		signers = append(signers, c.head.KeyID)
		checks = append(checks, c)
	}
	rep.Signers = ring.Fingerprints(signers)
	// The trust file lists the logs that existed when it was saved: a
	// bundle that leaves out one of the site's cannot show it is complete.
	for _, k := range opt.AnchorKeys {
		for _, log := range k.Logs {
			if site, _, err := ledger.SplitLogID(log); err == nil && site == m.Query.Site && logs[log] == nil {
				return nil, fmt.Errorf("the bundle has no log %s, which the trusted keys file lists for site %s: the log was dropped", log, site)
			}
		}
	}
	for _, h := range opt.Since {
		if site, _, err := ledger.SplitLogID(h.Log); err != nil || site != m.Query.Site {
			continue // a head saved of every log (log sth): other sites' are not this bundle's to extend
		}
		if _, err := ring.CheckHead(&h); err != nil {
			return nil, fmt.Errorf("earlier head: %w", err)
		}
		c := checkOf(checks, h.Log)
		if c == nil {
			return nil, fmt.Errorf("the bundle has no log %s, of which an earlier head (size %d, %s) is given: the log was dropped", h.Log, h.Size, h.Time().Format(time.RFC3339))
		}
		if err := c.expect(files, h); err != nil {
			return nil, err
		}
		rep.Since++
	}

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

	// Records, each against its leaf, the logs' leaves between them.
	next := 0 // checks[next:] are the logs not yet begun
	var cur *logCheck
	err := eachRecord(files["records."+m.Format], m.Format, func(line int, r *Record) error {
		what := fmt.Sprintf("record %d (line %d, record_id %s)", rep.Records+1, line, r.RecordID)
		for cur == nil || r.Log != cur.sum.Log {
			if cur != nil {
				if err := cur.finish(&m.Query); err != nil {
					return err
				}
			}
			if next == len(checks) || checks[next].sum.Log > r.Log {
				return fmt.Errorf("%s: its log %s is not in the bundle, or records are not in the order of their logs", what, r.Log)
			}
			cur, next = checks[next], next+1
		}
		if r.Leaf < cur.next {
			return fmt.Errorf("%s: leaf %d of %s comes after leaf %d: records were moved or duplicated", what, r.Leaf, r.Log, cur.next-1)
		}
		if h, ok := versions[r.ConfigVersion]; !ok || h != r.ConfigHash {
			return fmt.Errorf("%s: its configuration version %d (%s) is not in the bundle", what, r.ConfigVersion, r.ConfigHash)
		}
		if !m.Query.MatchFilters(&r.Row) {
			return fmt.Errorf("%s: not one the export's filters select (site, method, language or category)", what)
		}
		rep.Records++
		return cur.record(&m.Query, what, r)
	})
	if err != nil {
		return nil, err
	}
	for c := cur; ; {
		if c != nil {
			if err := c.finish(&m.Query); err != nil {
				return nil, err
			}
		}
		if next == len(checks) {
			break
		}
		c, next = checks[next], next+1
	}
	if rep.Records != m.Rows {
		return nil, fmt.Errorf("records.%s holds %d records, manifest.json says %d", m.Format, rep.Records, m.Rows)
	}
	for _, c := range checks {
		if c.got != *c.sum {
			return nil, fmt.Errorf("manifest.json's counts for log %s (%+v) are not what its leaves show (%+v)", c.sum.Log, *c.sum, c.got)
		}
		if c.pending != nil {
			return nil, fmt.Errorf("the earlier head of %s at size %d lies outside the bundle's leaves and the bundle has no proof for it: export again with --since that head", c.sum.Log, c.pending.Size)
		}
		rep.Logs = append(rep.Logs, LogReport{LogSummary: c.got, Head: c.head})
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
	rep.Claims = claims(m, rep.Logs)
	return rep, nil
}

// claims are the manifest's statements that no signature covers.
func claims(m *Manifest, logs []LogReport) []string {
	out := []string{fmt.Sprintf("exported by %s at %s", m.Tool, m.CreatedAt.Format(time.RFC3339))}
	if len(logs) == 0 {
		out = append(out, "the bundle holds no log of "+m.Query.Site+": nothing was logged, or its logs were removed (verify with --since an earlier head to tell)")
	}
	for _, l := range logs {
		switch {
		case l.End == l.Size && l.Head.Time().Before(m.Query.To):
			out = append(out, fmt.Sprintf("log %s is shown up to its head of %s, before the period's end: records logged after that are not in the bundle", l.Log, l.Head.Time().Format(time.RFC3339)))
		case l.End == l.Size:
			out = append(out, fmt.Sprintf("log %s ends inside the period's leaves: that its head (%s) is the newest rests on the exporter; heads saved earlier (--since) or an export on the instance prove it", l.Log, l.Head.Time().Format(time.RFC3339)))
		}
	}
	if m.Query.Filtered() {
		out = append(out, "the filters' choice: a filtered bundle cannot show that the records it leaves out were not deleted (an unfiltered export of the period can)")
	}
	return out
}

// expectedFile reports whether name is a file of the layout.
func expectedFile(name, format string, logs map[string]*LogSummary) bool {
	switch {
	case name == "records."+format || name == "keys.json":
		return true
	case strings.HasPrefix(name, "versions/"):
		n, ok := strings.CutSuffix(strings.TrimPrefix(name, "versions/"), ".json")
		_, err := parseUint(n, 32)
		return ok && err == nil
	case strings.HasPrefix(name, "logs/"):
		i := strings.LastIndexByte(name, '/')
		if i < len("logs/") {
			return false
		}
		log, file := name[len("logs/"):i], name[i+1:]
		if logs[log] == nil {
			return false
		}
		if file == "head.json" || file == "range.json" || file == "leaves.bin" {
			return true
		}
		n, ok := strings.CutPrefix(file, "consistency-")
		n, ok2 := strings.CutSuffix(n, ".json")
		_, err := parseUint(n, 64)
		return ok && ok2 && err == nil
	}
	return false
}

// logCheck walks one log's leaves in the bundle.
type logCheck struct {
	onLeaf func(log string, index uint64, leaf *ledger.Leaf)
	sum    *LogSummary // as the manifest claims
	got    LogSummary  // as the leaves show
	head   ledger.Head
	root   [32]byte
	rng    *ledger.Range
	right  [][]byte
	leaves *bufio.Reader
	rc     io.ReadCloser
	next   uint64 // index of the next leaf to read
	prevMs int64
	since  map[uint64][32]byte // earlier heads inside the leaves: size → root
	// pending is an earlier head outside the leaves and without a proof.
	pending *ledger.Head
	// deleted is the first leaf of the period found without its record; it
	// is reported when the log is finished, so that a record that comes
	// later out of order is named as moved rather than its place as empty.
	deleted error
	data    []byte
}

func openLog(files map[string]*zip.File, s *LogSummary, ring *ledger.Keyring) (*logCheck, error) {
	dir := LogDir(s.Log)
	c := &logCheck{sum: s, got: LogSummary{Log: s.Log}, since: map[uint64][32]byte{}}
	if err := readJSON(files, dir+"head.json", &c.head); err != nil {
		return nil, err
	}
	if c.head.Log != s.Log {
		return nil, fmt.Errorf("%shead.json is a head of log %s", dir, c.head.Log)
	}
	if _, err := ring.CheckHead(&c.head); err != nil {
		return nil, fmt.Errorf("%shead.json: %w", dir, err)
	}
	var err error
	if c.root, err = c.head.RootHash(); err != nil {
		return nil, err
	}
	var rf RangeFile
	if err := readJSON(files, dir+"range.json", &rf); err != nil {
		return nil, err
	}
	if rf.Size != c.head.Size || rf.Begin > rf.End || rf.End > rf.Size || rf.Begin != s.Begin || rf.End != s.End || s.Size != rf.Size {
		return nil, fmt.Errorf("%srange.json: leaves [%d, %d) of %d do not fit the head (size %d) or the manifest", dir, rf.Begin, rf.End, rf.Size, c.head.Size)
	}
	if rf.Size > 0 && rf.Begin == rf.End {
		return nil, fmt.Errorf("%srange.json: holds no leaf, so nothing shows where the period lies in the log", dir)
	}
	left, err := ledger.ParseHashes(rf.Left)
	if err == nil {
		c.right, err = ledger.ParseHashes(rf.Right)
	}
	if err == nil {
		c.rng, err = ledger.NewRange(0, rf.Begin, left)
	}
	if err != nil {
		return nil, fmt.Errorf("%srange.json: %w", dir, err)
	}
	c.got.Begin, c.got.End, c.got.Size = rf.Begin, rf.End, rf.Size
	c.next = rf.Begin
	if c.rc, err = files[dir+"leaves.bin"].Open(); err != nil {
		return nil, err
	}
	c.leaves = bufio.NewReaderSize(c.rc, 64<<10)
	return c, nil
}

func checkOf(cs []*logCheck, log string) *logCheck {
	for _, c := range cs {
		if c.sum.Log == log {
			return c
		}
	}
	return nil
}

func (c *logCheck) close() { c.rc.Close() }

// expect notes an earlier head the bundle's head must extend.
func (c *logCheck) expect(files map[string]*zip.File, h ledger.Head) error {
	root, err := h.RootHash()
	if err != nil {
		return err
	}
	switch {
	case h.Size == c.head.Size && root != c.root:
		return fmt.Errorf("the bundle's head of %s and the earlier head given have the same size (%d) but different roots: the log was forked", c.head.Log, h.Size)
	case h.Size == c.head.Size:
		return nil
	case h.Size > c.head.Size:
		return fmt.Errorf("the bundle's head of %s (size %d, %s) is older than the earlier head given (size %d, %s): the log was rolled back, or the export used an old head",
			c.head.Log, c.head.Size, c.head.Time().Format(time.RFC3339), h.Size, h.Time().Format(time.RFC3339))
	case h.Size >= c.sum.Begin && h.Size <= c.sum.End:
		c.since[h.Size] = root // checked while the leaves are read
		return nil
	}
	var cf ConsistencyFile
	name := fmt.Sprintf("%sconsistency-%d.json", LogDir(h.Log), h.Size)
	if files[name] == nil {
		c.pending = &h
		return nil
	}
	if err := readJSON(files, name, &cf); err != nil {
		return err
	}
	p, err := ledger.ParseHashes(cf.Proof)
	if err == nil && (cf.First != h.Size || cf.Second != c.head.Size) {
		err = errors.New("it proves other sizes")
	}
	if err == nil {
		err = ledger.VerifyConsistency(h.Size, c.head.Size, p, root, c.root)
	}
	if err != nil {
		return fmt.Errorf("%s: the bundle's head of %s does not extend the earlier head of size %d: %v: the log's history was rewritten", name, h.Log, h.Size, err)
	}
	return nil
}

// leaf reads and appends the next leaf.
func (c *logCheck) leaf(q *Query) (ledger.Leaf, error) {
	i := c.next
	what := fmt.Sprintf("leaf %d of log %s", i, c.sum.Log)
	if i >= c.got.End {
		return ledger.Leaf{}, fmt.Errorf("%s: beyond the leaves the bundle holds (up to %d)", what, c.got.End)
	}
	if root, ok := c.since[i]; ok {
		if got, err := c.rng.Clone().Root(); err != nil || got != root {
			return ledger.Leaf{}, fmt.Errorf("the bundle's leaves of %s do not extend the earlier head of size %d: the log's history was rewritten", c.sum.Log, i)
		}
		delete(c.since, i)
	}
	var n [2]byte
	if _, err := io.ReadFull(c.leaves, n[:]); err != nil {
		return ledger.Leaf{}, fmt.Errorf("%s: missing from %sleaves.bin", what, LogDir(c.sum.Log))
	}
	c.data = slices.Grow(c.data[:0], int(binary.BigEndian.Uint16(n[:])))[:binary.BigEndian.Uint16(n[:])]
	if _, err := io.ReadFull(c.leaves, c.data); err != nil {
		return ledger.Leaf{}, fmt.Errorf("%s: cut short in %sleaves.bin", what, LogDir(c.sum.Log))
	}
	l, err := ledger.ParseLeaf(c.data)
	if err != nil {
		return l, fmt.Errorf("%s: %w", what, err)
	}
	if l.Site != q.Site {
		return l, fmt.Errorf("%s is a leaf of site %q", what, l.Site)
	}
	if l.TimeMs < c.prevMs {
		return l, fmt.Errorf("%s: its time goes back from the leaf before", what)
	}
	// The boundary leaves: times never decrease along a log, so a leaf
	// before the period first and one after it last show that no leaf of
	// the period lies outside the bundle.
	if i == c.got.Begin && i > 0 && l.TimeMs >= q.From.UnixMilli() {
		return l, fmt.Errorf("%s, the first the bundle holds, is not before the period: the leaves before it are not shown (the oldest were dropped)", what)
	}
	if i+1 == c.got.End && c.got.End < c.got.Size && l.TimeMs < q.To.UnixMilli() {
		return l, fmt.Errorf("%s, the last the bundle holds, is not after the period although the log goes on: the leaves after it are not shown (the newest were dropped)", what)
	}
	c.prevMs = l.TimeMs
	if err := c.rng.Append(ledger.LeafHash(c.data), nil); err != nil {
		return l, err
	}
	if c.onLeaf != nil {
		c.onLeaf(c.sum.Log, i, &l)
	}
	c.next++
	return l, nil
}

// skip reads leaves up to index end that have no record in the bundle.
func (c *logCheck) skip(q *Query, end uint64) error {
	for c.next < end {
		i := c.next
		l, err := c.leaf(q)
		if err != nil {
			return err
		}
		if !q.InPeriod(l.TimeMs) {
			continue
		}
		switch {
		case Expired(&l, &c.head):
			c.got.Expired++
		case q.Filtered():
			c.got.Filtered++
		case c.deleted == nil:
			c.deleted = fmt.Errorf("leaf %d of log %s (record_id %s, logged %s, kept until %s) has no record in the bundle although its retention lasts: the record was deleted",
				i, c.sum.Log, l.RecordID, time.UnixMilli(l.TimeMs).UTC().Format(ledger.TimeLayout), l.RetainUntil.Format(time.DateOnly))
		}
	}
	return nil
}

// record checks the record of leaf r.Leaf.
func (c *logCheck) record(q *Query, what string, r *Record) error {
	if r.Leaf >= c.got.End || r.Leaf < c.got.Begin {
		return fmt.Errorf("%s: leaf %d of %s is outside the leaves the bundle holds", what, r.Leaf, r.Log)
	}
	if err := c.skip(q, r.Leaf); err != nil {
		return err
	}
	prev := c.prevMs
	l, err := c.leaf(q)
	if err != nil {
		return err
	}
	if l.RecordID.String() != r.RecordID {
		return fmt.Errorf("%s: leaf %d of %s is record %s: the record was added, or moved to another's place", what, r.Leaf, r.Log, l.RecordID)
	}
	ms, err := ledger.RecordedMs(&r.Row)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	want, err := ledger.LeafOf(&r.Row, l.TimeMs)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if string(want.Data()) != string(c.data) {
		return fmt.Errorf("%s: it is not the record leaf %d of %s commits to: the record was changed", what, r.Leaf, r.Log)
	}
	if l.TimeMs != ms && (l.TimeMs < ms || l.TimeMs != prev) {
		return fmt.Errorf("%s: leaf %d of %s is logged at %d, which is neither its recorded_at nor the leaf before's time", what, r.Leaf, r.Log, l.TimeMs)
	}
	if !q.InPeriod(l.TimeMs) {
		return fmt.Errorf("%s: logged outside the export's period", what)
	}
	c.got.Exported++
	return nil
}

// finish reads the log's remaining leaves and checks the root.
func (c *logCheck) finish(q *Query) error {
	if err := c.skip(q, c.got.End); err != nil {
		return err
	}
	if c.deleted != nil {
		return c.deleted
	}
	if _, err := c.leaves.ReadByte(); err != io.EOF {
		return fmt.Errorf("%sleaves.bin holds more than leaves %d..%d: leaves were added", LogDir(c.sum.Log), c.got.Begin, c.got.End-1)
	}
	if root, ok := c.since[c.next]; ok {
		if got, err := c.rng.Clone().Root(); err != nil || got != root {
			return fmt.Errorf("the bundle's leaves of %s do not extend the earlier head of size %d: the log's history was rewritten", c.sum.Log, c.next)
		}
		delete(c.since, c.next)
	}
	if err := c.rng.AppendRange(c.got.Size, c.right); err != nil {
		return fmt.Errorf("%srange.json: %w", LogDir(c.sum.Log), err)
	}
	root, err := c.rng.Root()
	if err != nil || root != c.root {
		return fmt.Errorf("log %s: the bundle's leaves %d..%d and range.json do not add up to its signed head (size %d): leaves were changed, added or removed",
			c.sum.Log, c.got.Begin, c.got.End-1, c.head.Size)
	}
	return nil
}

// eachRecord streams records.csv or records.ndjson.
func eachRecord(f *zip.File, format string, fn func(line int, r *Record) error) error {
	if f == nil {
		return fmt.Errorf("records.%s is missing", format)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if format == CSV {
		return readCSV(rc, recordsHeader, func(line int, cells []string) error {
			r, err := recordOfCSV(cells)
			if err != nil {
				return fmt.Errorf("records.csv line %d: %w", line, err)
			}
			return fn(line, &r)
		})
	}
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		r, err := recordOfJSON(sc.Bytes())
		if err != nil {
			return fmt.Errorf("records.ndjson line %d: %w", line, err)
		}
		if err := fn(line, &r); err != nil {
			return err
		}
	}
	return sc.Err()
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
	dec := json.NewDecoder(rc)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
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
