package ledger

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
)

func testRecord(site string) consent.Record {
	return consent.Record{RecordID: uuid.Must(uuid.NewV7()), ConsentID: uuid.New(), Site: site,
		RecordedAt: time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC), ConfigVersion: 3, ConfigHash: "ab", Lang: "sv",
		Categories: []string{"necessary", "statistics"}, Granted: []bool{true, false}, Method: consent.MethodCustom,
		Source: consent.SourceBanner, IPPrefix: "192.0.2.0/24", PageOrigin: "https://shop.example", PagePath: "/",
		RetainUntil: time.Date(2028, 12, 2, 0, 0, 0, 0, time.UTC)}
}

func notaryRing(t *testing.T) (*Key, *Keyring) {
	t.Helper()
	k, err := LoadKey(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Published("inst", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return k, NewKeyring([]PublicKey{pub}, Anchors{Fingerprint(k.Public): true})
}

// Receipts signed concurrently each verify, and each is kept by the leaf the
// log will write for its record after the spool's encoding round trip.
func TestReceiptsOfConcurrentDecisions(t *testing.T) {
	k, ring := notaryRing(t)
	n := NewNotary(k, "inst", nil)
	const count = 64
	recs := make([]consent.Record, count)
	got := make([]Receipt, count)
	var wg sync.WaitGroup
	for i := range recs {
		recs[i] = testRecord([]string{"demo", "other"}[i%2])
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = n.Sign(PromiseOf(&recs[i]))
		}()
	}
	wg.Wait()
	if groups, receipts := n.Stats(); receipts != count || groups != count {
		t.Fatalf("stats: %d groups, %d receipts", groups, receipts)
	}
	for i := range got {
		r := &got[i]
		if anchored, err := ring.CheckReceipt(r); err != nil || !anchored {
			t.Fatalf("receipt %d: anchored %v, %v", i, anchored, err)
		}
		// What the shipper will log: the record decoded from the spool.
		dec, err := consent.DecodeRecord(recs[i].Encode())
		if err != nil {
			t.Fatal(err)
		}
		row := RowOf(&dec)
		leaf, err := LeafOf(&row, dec.RecordedAt.UnixMilli()+5)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Keeps(leaf.Data()); err != nil {
			t.Fatalf("receipt %d against its record's leaf: %v", i, err)
		}
		if err := got[(i+1)%count].Keeps(leaf.Data()); err == nil {
			t.Fatalf("receipt %d accepted another record's leaf", (i+1)%count)
		}
		var back Receipt
		if err := json.Unmarshal(r.AppendJSON(nil), &back); err != nil {
			t.Fatalf("AppendJSON: %v", err)
		}
		if want, _ := json.Marshal(r); string(r.AppendJSON(nil)) != string(want) {
			t.Fatalf("AppendJSON differs from encoding/json:\n%s\n%s", r.AppendJSON(nil), want)
		}
	}
}

// A group of several: every path leads to the one signed root, and any
// change to what a receipt says breaks it.
func TestReceiptGroupAndTampering(t *testing.T) {
	k, ring := notaryRing(t)
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	n := NewNotary(k, "inst", func() time.Time { return at })
	group := make([]*Pending, 7)
	for i := range group {
		rec := testRecord("demo")
		group[i] = &Pending{Promise: PromiseOf(&rec)}
	}
	n.SignGroup(group)
	for i, q := range group {
		if q.Receipt.GroupSize != 7 || q.Receipt.GroupIndex != uint64(i) || q.Receipt.Signature != group[0].Receipt.Signature {
			t.Fatalf("receipt %d: group %d/%d", i, q.Receipt.GroupIndex, q.Receipt.GroupSize)
		}
		if _, err := ring.CheckReceipt(&q.Receipt); err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
	}
	if g, r := n.Stats(); g != 1 || r != 7 {
		t.Errorf("stats: %d groups, %d receipts", g, r)
	}
	if d := group[0].Receipt.Deadline().Sub(at); d != MergeDelay {
		t.Errorf("deadline %v after issue, want %v", d, MergeDelay)
	}
	good := group[3].Receipt
	other := group[4].Receipt
	flip := func(s string) string {
		c := "0"
		if s[0] == '0' {
			c = "1"
		}
		return c + s[1:]
	}
	for name, edit := range map[string]func(r *Receipt){
		"record hash":   func(r *Receipt) { r.RecordHash = flip(r.RecordHash) },
		"record id":     func(r *Receipt) { r.RecordID = other.RecordID },
		"site":          func(r *Receipt) { r.Site = "other" },
		"retain until":  func(r *Receipt) { r.RetainUntil = "2030-01-01" },
		"issued":        func(r *Receipt) { r.Issued -= 86400000 },
		"deadline":      func(r *Receipt) { r.IncludeBy += 86400000 },
		"index":         func(r *Receipt) { r.GroupIndex = 4 },
		"group size":    func(r *Receipt) { r.GroupSize = 8 },
		"path":          func(r *Receipt) { r.GroupPath[0] = flip(r.GroupPath[0]) },
		"signature":     func(r *Receipt) { r.Signature = flip(r.Signature) },
		"instance":      func(r *Receipt) { r.Instance = "evil" },
		"format":        func(r *Receipt) { r.Format = "samtycke-receipt-v0" },
		"deadline back": func(r *Receipt) { r.IncludeBy = r.Issued - 1 },
	} {
		r := good
		r.GroupPath = append([]string(nil), good.GroupPath...)
		edit(&r)
		if _, err := ring.CheckReceipt(&r); err == nil {
			t.Errorf("%s changed: the receipt still verifies", name)
		}
	}
	// A key that is not trusted, or not published.
	stranger, _ := notaryRing(t)
	forged := NewNotary(stranger, "inst", nil).Sign(group[0].Promise)
	if _, err := ring.CheckReceipt(&forged); err == nil || !strings.Contains(err.Error(), "not published") {
		t.Errorf("a receipt of an unknown key: %v", err)
	}
	untrusted := NewKeyring([]PublicKey{k.Published("inst", at)}, Anchors{Fingerprint(stranger.Public): true})
	if _, err := untrusted.CheckReceipt(&good); err == nil || !strings.Contains(err.Error(), "does not chain") {
		t.Errorf("a receipt of a key that is not the anchor: %v", err)
	}
	// The hash a receipt promises is that of the canonical row.
	rec := testRecord("demo")
	p := PromiseOf(&rec)
	if p.RecordHash != sha256.Sum256(RowOf(&rec).Encode()) {
		t.Error("the promise's hash is not the canonical row's")
	}
}
