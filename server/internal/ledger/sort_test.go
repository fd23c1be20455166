package ledger

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
)

// A batch's records are ordered by time, then by record ID as text, which
// fixes the leaves of the tree: comparing the IDs' bytes orders them alike.
func TestSortBatchOrdersIDsAsText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var b consent.Batch
	for i := range 2000 {
		var id uuid.UUID
		for j := range id {
			id[j] = byte(rng.UintN(256))
		}
		b.Records = append(b.Records, consent.Record{RecordID: id, RecordedAt: at.Add(time.Duration(i%7) * time.Millisecond)})
	}
	want := slices.Clone(b.Records)
	slices.SortFunc(want, func(x, y consent.Record) int {
		return cmp.Or(x.RecordedAt.Compare(y.RecordedAt), strings.Compare(x.RecordID.String(), y.RecordID.String()))
	})
	sortBatch(&b)
	for i := range want {
		if b.Records[i].RecordID != want[i].RecordID {
			t.Fatalf("record %d: %s, want %s", i, b.Records[i].RecordID, want[i].RecordID)
		}
	}
}
