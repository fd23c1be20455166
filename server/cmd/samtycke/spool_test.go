package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/shipper"
)

// quarantine writes a quarantined batch of n records into the spool of
// dataDir, as the shipper keeps it.
func quarantine(t *testing.T, dataDir string, seq uint64, n int, at time.Time) {
	t.Helper()
	q := shipper.Quarantined{Instance: "test", Seq: seq, BatchID: uuid.New(), At: at,
		Error: "clickhouse [AppendRow]: method Enum8: unknown element \"bogus\"\nsecond line"}
	for i := range n {
		rec := consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), EventID: "ev-" + uuid.NewString(), Site: "demo",
			RecordedAt: at.Add(time.Duration(i) * time.Second), ConfigVersion: 1, ConfigHash: "h", Lang: "sv",
			Categories: []string{"necessary"}, Granted: []bool{true}, Method: "bogus", Source: consent.SourceBanner,
			PageOrigin: "https://shop.example", PagePath: "/", RetainUntil: consent.RetainUntil(at, 24)}
		q.Records = append(q.Records, rec.Encode())
		q.Positions = append(q.Positions, consent.LogPos{Log: "demo@test", Leaf: uint64(10*seq) + uint64(i)})
	}
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dataDir, "spool", shipper.QuarantineDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, shipper.QuarantineFile(seq)), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSpoolQuarantineList(t *testing.T) {
	data := t.TempDir()
	vars := map[string]string{"SAMTYCKE_DATA_DIR": data}
	out, _, err := runCLI(t, vars, "spool", "quarantine", "list")
	if err != nil || !strings.Contains(out, "the quarantine is empty") {
		t.Fatalf("empty: %v %q", err, out)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	quarantine(t, data, 7, 3, at)
	quarantine(t, data, 2, 1, at.Add(time.Hour))
	out, _, err = runCLI(t, vars, "spool", "quarantine", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 batches:\n%s", out)
	}
	for _, want := range []string{"2", "1", "2026-03-01T13:00:00.000Z", "2026-03-01T13:00:00.000Z", "2026-03-01T13:00:00Z",
		`unknown element "bogus" second line`, filepath.Join(data, "spool", "quarantine", "00000000000000000002.json")} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("first batch line lacks %q: %s", want, lines[1])
		}
	}
	for _, want := range []string{"7", "3", "2026-03-01T12:00:00.000Z", "2026-03-01T12:00:02.000Z", "00000000000000000007.json"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("second batch line lacks %q: %s", want, lines[2])
		}
	}
	// A damaged file is named, not skipped.
	bad := filepath.Join(data, "spool", "quarantine", shipper.QuarantineFile(9))
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, vars, "spool", "quarantine", "list"); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("damaged file: %v", err)
	}
}

func TestSpoolQuarantineExport(t *testing.T) {
	data := t.TempDir()
	vars := map[string]string{"SAMTYCKE_DATA_DIR": data}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	quarantine(t, data, 1, 2, at)
	quarantine(t, data, 4, 3, at)
	out, _, err := runCLI(t, vars, "spool", "quarantine", "export")
	if err != nil {
		t.Fatal(err)
	}
	var got []exportedRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r exportedRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		got = append(got, r)
	}
	if len(got) != 5 {
		t.Fatalf("%d lines, want 5:\n%s", len(got), out)
	}
	if r := got[2]; r.Batch != 4 || r.LogID != "demo@test" || r.Leaf != 40 || r.Method != "bogus" || !strings.HasPrefix(r.EventID, "ev-") || r.RecordedAt != "2026-03-01T12:00:00.000Z" {
		t.Errorf("third line: %+v", r)
	}
	file := filepath.Join(t.TempDir(), "q.ndjson")
	_, stderr, err := runCLI(t, vars, "spool", "quarantine", "export", "--out", file, "4")
	if err != nil || !strings.Contains(stderr, "3 records of 1 batches") {
		t.Fatalf("export 4: %v %s", err, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 3 {
		t.Errorf("export 4 wrote %d lines", n)
	}
	if _, _, err := runCLI(t, vars, "spool", "quarantine", "export", "3"); err == nil || !strings.Contains(err.Error(), "batch 3 is not in the quarantine") {
		t.Errorf("export of a batch not there: %v", err)
	}
	if _, _, err := runCLI(t, vars, "spool", "quarantine", "export", "x"); err == nil || !strings.Contains(err.Error(), `"x" is not a batch number`) {
		t.Errorf("export x: %v", err)
	}
}

func TestSpoolQuarantineRetry(t *testing.T) {
	data := t.TempDir()
	vars := map[string]string{"SAMTYCKE_DATA_DIR": data}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	quarantine(t, data, 1, 2, at)
	quarantine(t, data, 2, 1, at)
	quarantine(t, data, 3, 1, at)
	qdir := filepath.Join(data, "spool", shipper.QuarantineDir)
	rdir := filepath.Join(data, "spool", shipper.RetryDir)
	if _, _, err := runCLI(t, vars, "spool", "quarantine", "retry", "2", "5"); err == nil || !strings.Contains(err.Error(), "batch 5 is not in the quarantine") {
		t.Fatalf("retry of a batch not there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(qdir, shipper.QuarantineFile(2))); err != nil {
		t.Fatalf("a retry with a wrong number moved batch 2: %v", err)
	}
	out, _, err := runCLI(t, vars, "spool", "quarantine", "retry", "2")
	if err != nil || !strings.Contains(out, "batch 2 (1 records) sent back") {
		t.Fatalf("retry 2: %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(rdir, shipper.QuarantineFile(2))); err != nil {
		t.Fatalf("batch 2 not in the retry folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(qdir, shipper.QuarantineFile(2))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("batch 2 still in the quarantine: %v", err)
	}
	if q, err := shipper.ListQuarantine(filepath.Join(data, "spool")); err != nil || len(q) != 2 {
		t.Fatalf("after retry 2: %d batches, %v", len(q), err)
	}
	if _, _, err := runCLI(t, vars, "spool", "quarantine", "retry", "2"); err == nil || !strings.Contains(err.Error(), "batch 2 is not in the quarantine") {
		t.Errorf("retry 2 twice: %v", err)
	}
	for _, args := range [][]string{{}, {"--all", "1"}} {
		_, stderr, err := runCLI(t, vars, append([]string{"spool", "quarantine", "retry"}, args...)...)
		if !errors.Is(err, errUsage) || !strings.Contains(stderr, "give batch numbers or --all") {
			t.Errorf("retry %v: %v %s", args, err, stderr)
		}
	}
	out, _, err = runCLI(t, vars, "spool", "quarantine", "retry", "--all")
	if err != nil || strings.Count(out, "sent back") != 2 {
		t.Fatalf("retry --all: %v %s", err, out)
	}
	if _, _, err := runCLI(t, vars, "spool", "quarantine", "retry", "--all"); err == nil || !strings.Contains(err.Error(), "the quarantine is empty") {
		t.Errorf("retry --all of nothing: %v", err)
	}
	entries, err := os.ReadDir(rdir)
	if err != nil || len(entries) != 3 {
		t.Errorf("retry folder: %d files, %v", len(entries), err)
	}
}

func TestSpoolUsage(t *testing.T) {
	for _, args := range [][]string{{"spool"}, {"spool", "frob"}, {"spool", "quarantine"}, {"spool", "quarantine", "frob"}} {
		_, stderr, err := runCLI(t, nil, args...)
		if !errors.Is(err, errUsage) || !strings.Contains(stderr, "Usage: samtycke spool quarantine") {
			t.Errorf("%v: %v %s", args, err, stderr)
		}
	}
	if _, stderr, _ := runCLI(t, nil, "spool", "quarantine", "frob"); !strings.Contains(stderr, `unknown verb "frob"`) {
		t.Errorf("unknown verb not named: %s", stderr)
	}
}
