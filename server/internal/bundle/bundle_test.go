package bundle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// A filtered NDJSON export verifies and counts the leaves its filter left
// out; its records all match the filter. (The attacks on bundles and on
// ClickHouse are in cmd/samtycke's attack suite.)
func TestFilteredNDJSONExport(t *testing.T) {
	ctx := context.Background()
	st := testutil.ClickHouse(t)
	v, err := demo.Seed(ctx, st, siteconfig.NewProvider(st, memory.New(100), time.Second, testutil.Logger(t)), "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	w, err := ledger.Open(ctx, st, st, ledger.Options{Dir: t.TempDir(), Instance: "a", Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	var recs []consent.Record
	for i := range 40 {
		at := day.Add(time.Duration(i) * time.Minute)
		r := consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), Site: demo.SiteID, RecordedAt: at, ConfigVersion: v.Number, ConfigHash: v.Hash,
			Lang: "sv", Categories: []string{"necessary", "statistics"}, Granted: []bool{true, false}, Method: consent.MethodRejectAll,
			Source: consent.SourceBanner, PageOrigin: "https://demo.example", PagePath: "/<&>", RetainUntil: at.AddDate(2, 0, 0)}
		if i%4 == 0 {
			r.Method, r.Granted = consent.MethodAcceptAll, []bool{true, true}
		}
		recs = append(recs, r)
	}
	if err := w.AppendBatch(ctx, consent.NewBatch("a", 1, recs)); err != nil {
		t.Fatal(err)
	}
	q, err := bundle.ParseQuery(demo.SiteID, "2026-03-10", "2026-03-10", consent.MethodAcceptAll, "", "", bundle.NDJSON)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	m, err := bundle.Write(ctx, &buf, st, q, bundle.NDJSON, "test", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 10 || len(m.Logs) != 1 || m.Logs[0].Filtered != 30 {
		t.Fatalf("manifest %+v", m)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	anchors := ledger.Anchors{ledger.Fingerprint(w.Key().Public): true}
	rep, err := bundle.Verify(zr, bundle.Options{Anchors: anchors})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 10 || rep.Logs[0].Filtered != 30 || !rep.Anchored {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(strings.Join(rep.Claims, "\n"), "filtered bundle cannot show") {
		t.Errorf("a filtered export's limit is not said: %q", rep.Claims)
	}
	// The same bundle, claimed to be unfiltered: the left-out leaves are
	// then deletions.
	m.Query.Method = ""
	zr2 := rewriteManifest(t, buf.Bytes(), m)
	if _, err := bundle.Verify(zr2, bundle.Options{Anchors: anchors}); err == nil || !strings.Contains(err.Error(), "the record was deleted") {
		t.Errorf("filters dropped from the manifest: %v", err)
	}
}

// rewriteManifest replaces manifest.json of a bundle.
func rewriteManifest(t *testing.T, b []byte, m *bundle.Manifest) *zip.Reader {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "manifest.json" {
			if err := json.NewEncoder(w).Encode(m); err != nil {
				t.Fatal(err)
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr2, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return zr2
}
