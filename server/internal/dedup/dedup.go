// Package dedup makes a retried decision leave one row: the first request
// with an event ID claims it; a retry of it within 24 hours gets the first
// one's record ID and appends nothing.
//
// Claims live in the shared cache (Redis), so a retry that lands on another
// instance is recognised too. While Redis is down the cache falls back to
// process memory, and a retry is still recognised by the instance that saw
// the first attempt.
package dedup

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/cache"
)

// Window is how long an event ID is remembered.
const Window = 24 * time.Hour

// pendingTTL bounds a claim whose request never finished (a crash between
// claim and spool): after it, a retry is accepted as new.
const pendingTTL = 30 * time.Second

// State is what the index knows of an event ID.
type State int

// States of an event ID.
const (
	Fresh   State = iota // first seen now: the caller owns it
	Pending              // another request with it is being recorded
	Done                 // recorded earlier; Entry says as what
)

// Entry is what a recorded event ID answers with again.
type Entry struct {
	RecordID   uuid.UUID
	RecordedAt time.Time
	// RecordHash and RetainUntil let a replay carry a receipt for the
	// record (zero in entries written before receipts).
	RecordHash  [32]byte
	RetainUntil time.Time
}

// Index remembers event IDs in a cache.
type Index struct {
	kv      cache.Cache
	log     *slog.Logger
	done    chan item // Done entries on their way to the cache
	stopped chan struct{}
}

type item struct {
	key   string
	value []byte
}

// New returns an index on kv. Close it after the last request.
func New(kv cache.Cache, log *slog.Logger) *Index {
	x := &Index{kv: kv, log: log.With("component", "dedup"), done: make(chan item, 4096), stopped: make(chan struct{})}
	go x.write()
	return x
}

func key(site, eventID string) string { return "event:" + site + ":" + strings.ToLower(eventID) }

// Claim looks eventID of site up and, when it is new, claims it for the
// caller, who must then call Done or Abandon. owner names the caller's
// attempt (the record ID it will record under): a claim the cache client
// sent twice (it retries a round trip whose answer it lost, after Redis may
// have run it) finds its own claim and is still Fresh, not Pending. A cache
// failure counts as Fresh: recording a decision matters more than folding a
// retry.
func (x *Index) Claim(ctx context.Context, site, eventID string, owner uuid.UUID) (State, Entry) {
	mine := "p:" + owner.String()
	old, err := x.kv.SetNX(ctx, key(site, eventID), []byte(mine), pendingTTL)
	if err != nil {
		x.log.Warn("event id index unavailable; accepting the decision as new", "err", err)
		return Fresh, Entry{}
	}
	switch {
	case old == nil || string(old) == mine:
		return Fresh, Entry{}
	case strings.HasPrefix(string(old), "p"): // or "p" alone, from releases before owners
		return Pending, Entry{}
	}
	e, err := parse(string(old))
	if err != nil {
		x.log.Warn("ignoring a damaged event id entry", "err", err)
		return Fresh, Entry{}
	}
	return Done, e
}

// Done records that eventID was recorded as e. The entry is written in the
// background, many in one round trip: until it lands, a retry still finds
// the claim pending (409, "retry in a second"), never a second record.
func (x *Index) Done(ctx context.Context, site, eventID string, e Entry) {
	v := "d:" + e.RecordID.String() + ":" + strconv.FormatInt(e.RecordedAt.UnixMilli(), 10)
	if !e.RetainUntil.IsZero() {
		v += ":" + hex.EncodeToString(e.RecordHash[:]) + ":" + e.RetainUntil.UTC().Format(time.DateOnly)
	}
	it := item{key(site, eventID), []byte(v)}
	select {
	case x.done <- it:
	default: // the writer is behind: write this one now
		x.set(ctx, map[string][]byte{it.key: it.value})
	}
}

// write sends queued Done entries to the cache in batches until Close.
func (x *Index) write() {
	defer close(x.stopped)
	for it := range x.done {
		batch := map[string][]byte{it.key: it.value}
	more:
		for len(batch) < 512 {
			select {
			case it, ok := <-x.done:
				if !ok {
					break more
				}
				batch[it.key] = it.value
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		x.set(ctx, batch)
		cancel()
	}
}

func (x *Index) set(ctx context.Context, entries map[string][]byte) {
	if err := x.kv.SetMany(ctx, entries, Window); err != nil {
		x.log.Warn("event ids not remembered; a retry of them within 30 s waits, later ones would be recorded again", "events", len(entries), "err", err)
	}
}

// Close writes the queued entries and stops the writer. Call it once no
// request can call Done any more.
func (x *Index) Close() error {
	close(x.done)
	<-x.stopped
	return nil
}

// Abandon releases a claim whose decision was not recorded, so a retry can
// record it.
func (x *Index) Abandon(ctx context.Context, site, eventID string) {
	if err := x.kv.Delete(ctx, key(site, eventID)); err != nil {
		x.log.Warn("event id claim not released; a retry waits for it to expire", "err", err)
	}
}

func parse(v string) (Entry, error) {
	rest, ok := strings.CutPrefix(v, "d:")
	f := strings.Split(rest, ":")
	if !ok || (len(f) != 2 && len(f) != 4) {
		return Entry{}, fmt.Errorf("entry %q", v)
	}
	rid, err := uuid.Parse(f[0])
	if err != nil {
		return Entry{}, err
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{RecordID: rid, RecordedAt: time.UnixMilli(n).UTC()}
	if len(f) == 4 {
		h, err := hex.DecodeString(f[2])
		if err != nil || len(h) != 32 {
			return Entry{}, fmt.Errorf("entry %q: record hash", v)
		}
		if e.RetainUntil, err = time.Parse(time.DateOnly, f[3]); err != nil {
			return Entry{}, err
		}
		e.RecordHash = [32]byte(h)
	}
	return e, nil
}
