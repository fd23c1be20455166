package dedup_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/dedup"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func TestIndex(t *testing.T) {
	for name, kv := range map[string]func(t *testing.T) cache.Cache{
		"memory": func(*testing.T) cache.Cache { return memory.New(100) },
		"redis":  func(t *testing.T) cache.Cache { return testutil.Redis(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			quiet := slog.New(slog.DiscardHandler)
			// Two instances on one cache: a retry may land on either.
			shared := kv(t)
			a, b := dedup.New(shared, quiet), dedup.New(shared, quiet)
			defer a.Close()
			defer b.Close()
			const ev = "0190B3C4-7D2E-7A6B-9C1D-2E3F4A5B6C7D"
			first := uuid.Must(uuid.NewV7())
			if st, _ := a.Claim(ctx, "demo", ev, first); st != dedup.Fresh {
				t.Fatalf("first claim: %v", st)
			}
			// The cache client may send a claim again when it lost the answer.
			if st, _ := a.Claim(ctx, "demo", ev, first); st != dedup.Fresh {
				t.Fatalf("the first claim sent again: %v, want Fresh (its own claim)", st)
			}
			if st, _ := b.Claim(ctx, "demo", ev, uuid.Must(uuid.NewV7())); st != dedup.Pending {
				t.Fatalf("claim while the first is being recorded: %v, want Pending", st)
			}
			if st, _ := b.Claim(ctx, "other", ev, uuid.Must(uuid.NewV7())); st != dedup.Fresh {
				t.Fatalf("the same event id on another site is another event: %v", st)
			}
			want := dedup.Entry{RecordID: uuid.Must(uuid.NewV7()), RecordedAt: time.Now().UTC().Truncate(time.Millisecond),
				RecordHash: [32]byte{1, 2, 3, 31: 9}, RetainUntil: time.Date(2028, 12, 2, 0, 0, 0, 0, time.UTC)}
			a.Done(ctx, "demo", ev, want)
			// Done lands in the background: until then the claim is pending.
			var st dedup.State
			var got dedup.Entry
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				st, got = b.Claim(ctx, "demo", "0190b3c4-7d2e-7a6b-9c1d-2e3f4a5b6c7d", uuid.Must(uuid.NewV7())) // case does not matter
				if st != dedup.Pending || time.Now().After(deadline) {
					break
				}
			}
			if st != dedup.Done || got.RecordID != want.RecordID || !got.RecordedAt.Equal(want.RecordedAt) ||
				got.RecordHash != want.RecordHash || !got.RetainUntil.Equal(want.RetainUntil) {
				t.Fatalf("retry after done: %v %+v, want Done %+v", st, got, want)
			}
			const ev2 = "0190b3c4-7d2e-7a6b-9c1d-000000000002"
			if st, _ := a.Claim(ctx, "demo", ev2, uuid.Must(uuid.NewV7())); st != dedup.Fresh {
				t.Fatal(st)
			}
			a.Abandon(ctx, "demo", ev2)
			if st, _ := b.Claim(ctx, "demo", ev2, uuid.Must(uuid.NewV7())); st != dedup.Fresh {
				t.Fatalf("claim after abandon: %v, want Fresh", st)
			}
		})
	}
}
