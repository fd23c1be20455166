package bundle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// Hostile cells: what a visitor controls (the event ID, the page path) may
// look like a spreadsheet formula.
var hostile = []string{"=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(1,1)", "\t=1", "\r=1", "'=1+1", `=HYPERLINK("http://x","y")`}

// logged is a site with a published version and proven batches: 3 batches
// of instance a, each with records of the demo site inside and outside the
// period and of another site.
type logged struct {
	st      *clickhouse.Store
	version *siteconfig.Version
	day     time.Time
	inside  int // demo records inside the period
}

func newLogged(t *testing.T) *logged {
	t.Helper()
	ctx := context.Background()
	st := testutil.ClickHouse(t)
	prov := siteconfig.NewProvider(st, memory.New(100), time.Second, testutil.Logger(t))
	v, err := demo.Seed(ctx, st, prov, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ledger.LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutKey(ctx, key.Published("a", time.Now())); err != nil {
		t.Fatal(err)
	}
	sink := ledger.NewSink(st, st, key)
	l := &logged{st: st, version: v, day: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)}
	n := 0
	rec := func(site string, at time.Time) consent.Record {
		n++
		r := consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), EventID: hostile[n%len(hostile)], Site: site, RecordedAt: at,
			ConfigVersion: v.Number, ConfigHash: v.Hash, Lang: "sv", Categories: []string{"necessary", "statistics"},
			Granted: []bool{true, n%2 == 0}, Method: consent.MethodCustom, Source: consent.SourceBanner, UA: consent.UserAgent{Browser: "Firefox 140", OS: "Linux", Device: "desktop"},
			IPPrefix: "192.0.2.0/24", PageOrigin: "https://demo.example", PagePath: "/" + hostile[(n+3)%len(hostile)], RetainUntil: at.AddDate(2, 0, 0)}
		if n%5 == 0 {
			r.Method, r.Granted = consent.MethodAcceptAll, []bool{true, true}
		}
		return r
	}
	for seq := uint64(1); seq <= 3; seq++ {
		var recs []consent.Record
		base := l.day.Add(time.Duration(seq) * time.Hour)
		for i := range 40 {
			recs = append(recs, rec(demo.SiteID, base.Add(time.Duration(i)*time.Second)))
			l.inside++
		}
		recs = append(recs, rec("other", base), rec(demo.SiteID, l.day.AddDate(0, 0, -1)))
		if err := sink.AppendBatch(ctx, consent.NewBatch("a", seq, recs)); err != nil {
			t.Fatal(err)
		}
	}
	// Batch 4 holds only records of the period: it is verified from the
	// records alone, without leaves.
	var recs []consent.Record
	for i := range 10 {
		recs = append(recs, rec(demo.SiteID, l.day.Add(20*time.Hour+time.Duration(i)*time.Second)))
		l.inside++
	}
	if err := sink.AppendBatch(ctx, consent.NewBatch("a", 4, recs)); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *logged) export(t *testing.T, q bundle.Query, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	m, err := bundle.Write(context.Background(), &buf, l.st, q, format, "samtycke test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows == 0 {
		t.Fatal("the export is empty")
	}
	return buf.Bytes()
}

func verify(b []byte) (*bundle.Report, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	return bundle.Verify(zr, nil)
}

// rewrite changes one file of a bundle; with fix, it also updates the
// manifest (hash, and rows by delta) as an attacker would.
func rewrite(t *testing.T, b []byte, name string, change func([]byte) []byte, fix bool, rowsDelta int) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	contents := map[string][]byte{}
	var order []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		c, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		contents[f.Name] = c
		order = append(order, f.Name)
	}
	if _, ok := contents[name]; !ok {
		t.Fatalf("no %s in the bundle", name)
	}
	contents[name] = change(contents[name])
	if fix {
		var m map[string]any
		if err := json.Unmarshal(contents["manifest.json"], &m); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(contents[name])
		m["files"].(map[string]any)[name] = hex.EncodeToString(sum[:])
		m["rows"] = m["rows"].(float64) + float64(rowsDelta)
		if contents["manifest.json"], err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, n := range order {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(contents[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// lines edits the records file line by line (the header of a CSV is line 0).
func lines(format string, edit func(ls []string) []string) func([]byte) []byte {
	sep := "\n"
	if format == bundle.CSV {
		sep = "\r\n"
	}
	return func(b []byte) []byte {
		ls := strings.Split(strings.TrimSuffix(string(b), sep), sep)
		return []byte(strings.Join(edit(ls), sep) + sep)
	}
}

func TestRoundTripAndTampering(t *testing.T) {
	l := newLogged(t)
	q := bundle.Query{Site: demo.SiteID, From: l.day, To: l.day.AddDate(0, 0, 1)}
	for _, format := range []string{bundle.CSV, bundle.NDJSON} {
		t.Run(format, func(t *testing.T) {
			b := l.export(t, q, format)
			rep, err := verify(b)
			if err != nil {
				t.Fatalf("an untouched bundle: %v", err)
			}
			if rep.Records != uint64(l.inside) || rep.Batches != 4 || rep.Proofs != 4 || rep.Versions != 1 || len(rep.Keys) != 1 {
				t.Fatalf("report %+v, want %d records in 4 batches", rep, l.inside)
			}
			records := "records." + format
			first := 1 // the first data line
			if format == bundle.NDJSON {
				first = 0
			}
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			var leaves int
			for _, f := range zr.File {
				if strings.HasPrefix(f.Name, "leaves/") {
					leaves++
				}
			}
			if leaves != 3 {
				t.Errorf("%d leaves files, want 3 (the batches held in part)", leaves)
			}
			cases := []struct {
				name   string
				file   string
				change func([]byte) []byte
				fix    bool
				delta  int
				want   string
			}{
				{"a flipped byte", records, func(b []byte) []byte {
					i := bytes.Index(b, []byte("custom"))
					b[i] = 'C'
					return b
				}, false, 0, "batch"},
				{"a changed choice, manifest updated", records, func(b []byte) []byte {
					return bytes.Replace(b, []byte("[true,false]"), []byte("[true,true]"), 1)
				}, true, 0, "changed"},
				{"a changed method, manifest updated", records, func(b []byte) []byte {
					return bytes.Replace(b, []byte("custom"), []byte("reject_all"), 1)
				}, true, 0, "changed"},
				{"a deleted row", records, lines(format, func(ls []string) []string {
					return append(ls[:first+5], ls[first+6:]...)
				}), true, -1, "missing"},
				{"an inserted row", records, lines(format, func(ls []string) []string {
					extra := strings.Replace(ls[first+2], rowID(ls[first+2]), "ffffffff-ffff-4fff-bfff-ffffffffffff", 1)
					return append(ls[:first+3], append([]string{extra}, ls[first+3:]...)...)
				}), true, 1, "batch"},
				{"a changed row of a whole batch", records, lines(format, func(ls []string) []string {
					n := len(ls) - 1
					ls[n] = strings.Replace(ls[n], "custom", "reject_all", 1)
					return ls
				}), true, 0, "#4"},
				{"reordered rows", records, lines(format, func(ls []string) []string {
					ls[first+7], ls[first+8] = ls[first+8], ls[first+7]
					return ls
				}), true, 0, "out of order"},
				{"a version's text", "versions/1.json", func(b []byte) []byte {
					return bytes.Replace(b, []byte("Accept"), []byte("Acept"), 1)
				}, true, 0, "versions/1.json"},
				{"a dropped proof", "proofs.json", func(b []byte) []byte {
					var ps []ledger.Proof
					if err := json.Unmarshal(b, &ps); err != nil {
						t.Fatal(err)
					}
					out, err := json.Marshal(append(ps[:1], ps[2:]...))
					if err != nil {
						t.Fatal(err)
					}
					return out
				}, true, 0, "batches between are missing"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					_, err := verify(rewrite(t, b, c.file, c.change, c.fix, c.delta))
					if err == nil {
						t.Fatal("verify passed")
					}
					if !strings.Contains(err.Error(), c.want) {
						t.Errorf("verify: %v; want it to say %q", err, c.want)
					}
					t.Logf("verify: %v", err)
				})
			}
		})
	}
}

// rowID finds the record_id in a CSV or NDJSON line.
func rowID(line string) string {
	if i := strings.Index(line, `"record_id":"`); i >= 0 {
		return line[i+13 : i+49]
	}
	return strings.Split(line, ",")[1]
}

// A filtered export verifies too; records left out by the filter are
// counted, not flagged.
func TestFilteredExportVerifies(t *testing.T) {
	l := newLogged(t)
	q := bundle.Query{Site: demo.SiteID, From: l.day, To: l.day.AddDate(0, 0, 1), Method: consent.MethodAcceptAll}
	rep, err := verify(l.export(t, q, bundle.NDJSON))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records == 0 || rep.Omitted == 0 || rep.Records+rep.Omitted != uint64(l.inside) {
		t.Errorf("report %+v: want the accept_all records, and the rest of the period counted as omitted", rep)
	}
}

// countingSource notes how many bytes of the bundle had been written when
// the last record was read: an export streams, it does not collect.
type countingSource struct {
	*clickhouse.Store
	total   uint64
	written *atomic.Int64
	atLast  int64
}

func (c *countingSource) EachRecord(ctx context.Context, q bundle.Query, fn func(ledger.Row) error) error {
	var n uint64
	return c.Store.EachRecord(ctx, q, func(r ledger.Row) error {
		if n++; n == c.total {
			c.atLast = c.written.Load()
		}
		return fn(r)
	})
}

type countingWriter struct{ n *atomic.Int64 }

func (w countingWriter) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }

func TestExportStreams(t *testing.T) {
	ctx := context.Background()
	st := testutil.ClickHouse(t)
	if _, err := demo.Seed(ctx, st, siteconfig.NewProvider(st, memory.New(100), time.Second, testutil.Logger(t)), "http://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	const n = 20_000
	if err := st.GenerateConsents(ctx, demo.SiteID, n, from, 3); err != nil {
		t.Fatal(err)
	}
	var written atomic.Int64
	src := &countingSource{Store: st, total: n, written: &written}
	m, err := bundle.Write(ctx, countingWriter{&written}, src, bundle.Query{Site: demo.SiteID, From: from, To: from.AddDate(0, 0, 3)}, bundle.CSV, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != n {
		t.Fatalf("%d rows exported, want %d", m.Rows, n)
	}
	if src.atLast == 0 {
		t.Errorf("nothing was written before the last record was read (%d bytes in all): the export is collected, not streamed", written.Load())
	}
	t.Logf("%d of %d bytes written when the last record was read", src.atLast, written.Load())
}
