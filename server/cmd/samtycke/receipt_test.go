package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

type answer struct {
	status   int
	RecordID string          `json:"record_id"`
	Receipt  json.RawMessage `json:"receipt"`
}

func postDecision(base string, eventID string) (answer, error) {
	body := fmt.Sprintf(`{"site":"demo","consent_id":%q,"event_id":%q,"config_version":1,"method":"custom","lang":"sv","url":"https://shop.example/","gpc":false,`+
		`"choices":{"necessary":true,"preferences":true,"statistics":false,"marketing":false}}`, uuid.NewString(), eventID)
	resp, err := http.Post(base+"/v1/consents", "application/json", strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode}
	if resp.StatusCode == http.StatusCreated {
		err = json.Unmarshal(b, &a)
	}
	return a, err
}

// verifyReceipt runs samtycke verify-receipt: its exit code and output.
func verifyReceipt(t *testing.T, args ...string) (int, string) {
	t.Helper()
	stdout, stderr, err := runCLI(t, nil, append([]string{"verify-receipt"}, args...)...)
	code := 0
	switch {
	case errors.Is(err, errUntrusted):
		code = 3
	case errors.Is(err, errNotYet):
		code = 2
	case err != nil:
		code = 1
		stdout = err.Error() + "\n" + stdout
	}
	return code, stdout + stderr
}

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "receipts.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A visitor's receipts, from the 201 of real requests, are checked against
// the live log and against an export bundle; altered, forged and broken
// promises are caught.
func TestVisitorReceipts(t *testing.T) {
	dir := t.TempDir()
	base, vars, _ := serveInstance(t, dir)

	// Decisions in parallel: their receipts share group signatures.
	const n = 24
	receipts := make([]ledger.Receipt, n)
	events := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range receipts {
		events[i] = uuid.NewString()
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := postDecision(base, events[i])
			switch {
			case err != nil:
				errs <- err
			case a.status != http.StatusCreated || len(a.Receipt) == 0:
				errs <- fmt.Errorf("answer %d without a receipt", a.status)
			default:
				errs <- json.Unmarshal(a.Receipt, &receipts[i])
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A retry of a recorded decision answers with a receipt for the same record.
	var replay answer
	for deadline := time.Now().Add(10 * time.Second); ; {
		a, err := postDecision(base, events[0])
		if err != nil {
			t.Fatal(err)
		}
		if a.status != http.StatusConflict || time.Now().After(deadline) {
			replay = a
			break
		}
	}
	var again ledger.Receipt
	if replay.status != http.StatusCreated || json.Unmarshal(replay.Receipt, &again) != nil || again.RecordID != receipts[0].RecordID ||
		again.RecordHash != receipts[0].RecordHash {
		t.Fatalf("replayed answer %d: receipt %s, want one for record %s", replay.status, replay.Receipt, receipts[0].RecordID)
	}
	receipts = append(receipts, again)
	file := writeJSON(t, receipts)

	trusted := filepath.Join(t.TempDir(), "trusted.json")
	if _, stderr, err := runCLI(t, vars, "log", "keys", "--out", trusted); err != nil {
		t.Fatalf("log keys: %v %s", err, stderr)
	}
	// Shipping is asynchronous: until every record is a leaf, verify-receipt
	// says "not shown yet" (exit 2).
	var code int
	var out string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, out = verifyReceipt(t, "--trust", trusted, "--url", base, file)
		if code != 2 || time.Now().After(deadline) {
			break
		}
	}
	if code != 0 || strings.Count(out, "as promised") != n+1 {
		t.Fatalf("verify-receipt --url: exit %d\n%s", code, out)
	}
	if code, out := verifyReceipt(t, "--url", base, file); code != 3 {
		t.Errorf("without --trust: exit %d, want 3\n%s", code, out)
	}

	// Altered: the visitor (or anyone) edits what the receipt says.
	altered := receipts[5]
	altered.RetainUntil = "2099-01-01"
	if code, out := verifyReceipt(t, "--trust", trusted, "--url", base, writeJSON(t, altered)); code != 1 || !strings.Contains(out, "signature does not verify") {
		t.Errorf("altered receipt: exit %d\n%s", code, out)
	}
	// Forged by a key the auditor does not trust.
	stranger, err := ledger.LoadKey(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	rec := consent.Record{RecordID: uuid.Must(uuid.NewV7()), Site: "demo", RecordedAt: time.Now(), RetainUntil: time.Now().AddDate(2, 0, 0)}
	forged := ledger.NewNotary(stranger, receipts[0].Instance, nil).Sign(ledger.PromiseOf(&rec))
	if code, out := verifyReceipt(t, "--trust", trusted, "--url", base, writeJSON(t, forged)); code != 1 || !strings.Contains(out, "not published") {
		t.Errorf("forged receipt: exit %d\n%s", code, out)
	}
	// Promised by the instance's own key but never logged (the record was
	// dropped before it reached the log): not yet a failure before the
	// deadline, a broken promise after it.
	key, err := ledger.LoadKey(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	fresh := ledger.NewNotary(key, receipts[0].Instance, nil).Sign(ledger.PromiseOf(&rec))
	if code, out := verifyReceipt(t, "--trust", trusted, "--url", base, writeJSON(t, fresh)); code != 2 || !strings.Contains(out, "not shown") {
		t.Errorf("a promise not yet due: exit %d\n%s", code, out)
	}
	// Noon two days ago: its deadline, noon yesterday, has passed.
	// The log holds a different record than the one promised (changed
	// between the answer and the log).
	changed := ledger.NewNotary(key, receipts[0].Instance, nil).Sign(ledger.Promise{RecordID: uuid.MustParse(receipts[2].RecordID),
		RecordHash: [32]byte{7}, RetainUntil: time.Now().AddDate(2, 0, 0).UTC().Truncate(24 * time.Hour), Site: "demo"})
	if code, out := verifyReceipt(t, "--trust", trusted, "--url", base, writeJSON(t, changed)); code != 1 || !strings.Contains(out, "the record was changed") {
		t.Errorf("a changed record: exit %d\n%s", code, out)
	}
	twoDaysAgo := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2).Add(12 * time.Hour)
	old := ledger.NewNotary(key, receipts[0].Instance, func() time.Time { return twoDaysAgo }).Sign(ledger.PromiseOf(&rec))
	if code, out := verifyReceipt(t, "--trust", trusted, "--url", base, writeJSON(t, old)); code != 1 || !strings.Contains(out, "promise was broken") {
		t.Errorf("a broken promise: exit %d\n%s", code, out)
	}

	// Against an export bundle of today, verified in full first.
	today := time.Now().UTC().Format(time.DateOnly)
	bundlePath := filepath.Join(t.TempDir(), "bundle.zip")
	if _, stderr, err := runCLI(t, vars, "export", "--site", "demo", "--from", today, "--to", today, "--out", bundlePath); err != nil {
		t.Fatalf("export: %v %s", err, stderr)
	}
	if code, out := verifyReceipt(t, "--trust", trusted, "--bundle", bundlePath, file); code != 0 || strings.Count(out, "in the verified bundle") != n+1 {
		t.Errorf("verify-receipt --bundle: exit %d\n%s", code, out)
	}
	// A bundle of the day the old receipt was issued proves its record
	// absent: every leaf of that day is in it, signed after the deadline.
	day := twoDaysAgo
	oldBundle := filepath.Join(t.TempDir(), "old.zip")
	d := day.Format(time.DateOnly)
	if _, stderr, err := runCLI(t, vars, "export", "--site", "demo", "--from", d, "--to", d, "--out", oldBundle); err != nil {
		t.Fatalf("export of %s: %v %s", d, err, stderr)
	}
	if code, out := verifyReceipt(t, "--trust", trusted, "--bundle", oldBundle, writeJSON(t, old)); code != 1 || !strings.Contains(out, "promise was broken") {
		t.Errorf("a broken promise against a bundle: exit %d\n%s", code, out)
	}
	// And a receipt whose record the bundle's period does not hold. Not just
	// any of today's: the bundle also holds the first leaf after its period
	// (a boundary leaf, proving the period complete), today's first record,
	// and a receipt for that one is rightly found in it. Leaves follow the
	// records' time, so the record with the latest ID (UUIDv7, time-ordered)
	// is never that leaf.
	latest := receipts[0]
	for _, r := range receipts[:n] {
		if r.RecordID > latest.RecordID {
			latest = r
		}
	}
	if code, out := verifyReceipt(t, "--trust", trusted, "--bundle", oldBundle, writeJSON(t, latest)); code != 2 || !bytes.Contains([]byte(out), []byte("does not hold")) {
		t.Errorf("a receipt outside the bundle's period: exit %d\n%s", code, out)
	}
}
