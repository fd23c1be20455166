package main

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// formulas are cells a visitor could plant through the event ID.
var formulas = []string{"=1+1", "+1+1", "-1+1", "@SUM(1,1)", "\t=1+1", "'=1+1", `=HYPERLINK("http://example.com","x")`, "=cmd|' /C calc'!A0"}

// seedProven publishes the demo site and ships n proven records on day.
func seedProven(t *testing.T, day time.Time, n int) map[string]string {
	t.Helper()
	ctx := context.Background()
	url := testutil.ClickHouseURL(t)
	st, err := clickhouse.Open(ctx, url, testutil.Logger(t))
	if err != nil {
		testutil.ClickHouse(t) // skips or fails with the reason
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := demo.Seed(ctx, st, siteconfig.NewProvider(st, memory.New(100), time.Second, testutil.Logger(t)), "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	sink, err := ledger.Open(ctx, st, st, ledger.Options{Dir: dataDir, Instance: "cli", Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	var recs []consent.Record
	for i := range n {
		at := day.Add(time.Duration(i) * time.Second)
		recs = append(recs, consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), EventID: formulas[i%len(formulas)], Site: demo.SiteID,
			RecordedAt: at, ConfigVersion: v.Number, ConfigHash: v.Hash, Lang: "sv", Categories: []string{"necessary", "statistics"},
			Granted: []bool{true, i%2 == 0}, Method: consent.MethodCustom, Source: consent.SourceBanner, PageOrigin: "https://demo.example",
			PagePath: "/", RetainUntil: at.AddDate(2, 0, 0)})
	}
	if err := sink.AppendBatch(ctx, consent.NewBatch("cli", 1, recs)); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"SAMTYCKE_CLICKHOUSE_URL": url, "SAMTYCKE_LOG_LEVEL": "warn", "SAMTYCKE_DATA_DIR": dataDir}
}

func TestExportVerifyAndOpenInLibreOffice(t *testing.T) {
	vars := seedProven(t, time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC), len(formulas)*3)
	dir := t.TempDir()
	out := filepath.Join(dir, "export.zip")
	_, stderr, err := runCLI(t, vars, "export", "--site", demo.SiteID, "--from", "2026-05-04", "--to", "2026-05-04", "--format", "csv", "--out", out)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "100%") || !strings.Contains(stderr, "24 records") {
		t.Errorf("no progress bar on stderr: %q", stderr)
	}
	trusted := filepath.Join(dir, "trusted.json")
	if _, _, err := runCLI(t, vars, "log", "keys", "--out", trusted); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCLI(t, nil, "verify", "--trust", trusted, out)
	if err != nil || !strings.Contains(stdout, "verifies.") {
		t.Fatalf("verify: %v\n%s", err, stdout)
	}
	// A byte flipped in the middle of the zip (inside the compressed records).
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x20
	bad := filepath.Join(dir, "bad.zip")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, nil, "verify", "--trust", trusted, bad); err == nil || !strings.Contains(err.Error(), "does NOT verify") {
		t.Errorf("verify of a changed bundle: %v", err)
	}
	if _, _, err := runCLI(t, vars, "export", "--site", demo.SiteID, "--from", "2026-05-04", "--to", "2026-05-03"); err == nil || !strings.Contains(err.Error(), "before") {
		t.Errorf("a period that ends before it starts: %v", err)
	}

	// R6: the records opened in LibreOffice Calc show every cell as text.
	csvPath := filepath.Join(dir, "records.csv")
	extract(t, out, "records.csv", csvPath)
	lo, err := exec.LookPath("libreoffice")
	if err != nil {
		t.Fatal("libreoffice is not installed (make test installs Debian's libreoffice-calc)")
	}
	profile := "-env:UserInstallation=file://" + filepath.Join(dir, "lo-profile")
	xlsx := exec.Command(lo, profile, "--headless", "--convert-to", "xlsx", "--outdir", dir, csvPath)
	if b, err := xlsx.CombinedOutput(); err != nil {
		t.Fatalf("libreoffice to xlsx: %v\n%s", err, b)
	}
	back := filepath.Join(dir, "back")
	conv := exec.Command(lo, profile, "--headless", "--convert-to", "csv", "--outdir", back, filepath.Join(dir, "records.xlsx"))
	if b, err := conv.CombinedOutput(); err != nil {
		t.Fatalf("libreoffice back to csv: %v\n%s", err, b)
	}
	f, err := os.Open(filepath.Join(back, "records.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 25 {
		t.Fatalf("%d rows read back, want 25", len(rows))
	}
	for i, row := range rows[1:] {
		// Calc shows a quoted cell as its text, the quote included; a
		// formula would have been replaced by its value (2, 0, …).
		want := bundleNeutralized(formulas[i%len(formulas)])
		if got := row[4]; got != want {
			t.Errorf("row %d: event_id reads back as %q, want the text %q", i+1, got, want)
		}
	}
}

// bundleNeutralized is the cell as written, with LibreOffice turning a tab
// into a space on the way back.
func bundleNeutralized(s string) string { return strings.ReplaceAll("'"+s, "\t", "\t") }

func extract(t *testing.T, zipPath, name, to string) {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	w, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := io.Copy(w, rc); err != nil {
		t.Fatal(err)
	}
}
