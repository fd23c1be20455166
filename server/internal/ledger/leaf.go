package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/rfc6962"
)

// LeafFormat is the first byte of every leaf's data (its layout's version).
const LeafFormat = 1

// Leaf is what a log commits to for one record. Everything completeness
// needs is in the open: which record, of which site, when it was logged and
// until when it must be kept, so that a record's absence can be judged from
// its leaf alone (its retention passed, or it was deleted). The record
// itself is committed to only by the hash of its canonical encoding.
type Leaf struct {
	RecordID uuid.UUID
	Site     string
	// TimeMs is the log's time for the record: its recorded_at in Unix
	// milliseconds, raised to the previous leaf's time when a record reaches
	// the log after a later one (requests finishing out of order, a clock
	// stepping back). Times therefore never decrease along a log, which is
	// what lets two boundary leaves prove that no leaf of a period lies
	// outside a range.
	TimeMs      int64
	RetainUntil time.Time // a date (UTC midnight): the record may be dropped after it
	RecordHash  [32]byte  // SHA-256 of the record's canonical encoding (Row.Encode)
}

// Data is the leaf's data as hashed and stored: the format byte, the record
// ID (16 bytes), the time (8 bytes, big-endian), retain_until in days since
// 1970-01-01 (4 bytes, big-endian), the record hash (32 bytes), then the
// site ID's length (1 byte) and the site ID.
func (l *Leaf) Data() []byte {
	b := make([]byte, 0, leafFixed+len(l.Site))
	b = append(b, LeafFormat)
	b = append(b, l.RecordID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(l.TimeMs))
	b = binary.BigEndian.AppendUint32(b, uint32(l.RetainUntil.Unix()/86400))
	b = append(b, l.RecordHash[:]...)
	b = append(b, byte(len(l.Site)))
	return append(b, l.Site...)
}

const leafFixed = 1 + 16 + 8 + 4 + 32 + 1

// ParseLeaf decodes leaf data. It accepts exactly what Data writes.
func ParseLeaf(b []byte) (Leaf, error) {
	var l Leaf
	if len(b) < leafFixed || b[0] != LeafFormat {
		return l, errors.New("not a leaf of format 1")
	}
	if n := int(b[leafFixed-1]); len(b) != leafFixed+n || n == 0 {
		return l, fmt.Errorf("leaf data of %d bytes for a site ID of %d", len(b), n)
	}
	copy(l.RecordID[:], b[1:17])
	l.TimeMs = int64(binary.BigEndian.Uint64(b[17:25]))
	l.RetainUntil = time.Unix(int64(binary.BigEndian.Uint32(b[25:29]))*86400, 0).UTC()
	copy(l.RecordHash[:], b[29:61])
	l.Site = string(b[leafFixed:])
	return l, nil
}

// Hash is the leaf's node in the tree: SHA-256(0x00 ‖ data), RFC 9162 §2.1.1.
func (l *Leaf) Hash() [32]byte { return LeafHash(l.Data()) }

// LeafHash hashes leaf data as RFC 9162 does.
func LeafHash(data []byte) [32]byte {
	return [32]byte(rfc6962.DefaultHasher.HashLeaf(data))
}

// LeafOf is the leaf of a row logged at timeMs (see Leaf.TimeMs).
func LeafOf(r *Row, timeMs int64) (Leaf, error) {
	id, err := uuid.Parse(r.RecordID)
	if err != nil {
		return Leaf{}, fmt.Errorf("record_id %q: %w", r.RecordID, err)
	}
	ret, err := time.Parse(time.DateOnly, r.RetainUntil)
	if err != nil {
		return Leaf{}, fmt.Errorf("retain_until %q: %w", r.RetainUntil, err)
	}
	if r.Site == "" || len(r.Site) > 255 {
		return Leaf{}, fmt.Errorf("site %q: not a site ID", r.Site)
	}
	return Leaf{RecordID: id, Site: r.Site, TimeMs: timeMs, RetainUntil: ret, RecordHash: sha256.Sum256(r.Encode())}, nil
}

// RecordedMs is a row's recorded_at in Unix milliseconds.
func RecordedMs(r *Row) (int64, error) {
	at, err := time.Parse(TimeLayout, r.RecordedAt)
	if err != nil {
		return 0, fmt.Errorf("recorded_at %q: %w", r.RecordedAt, err)
	}
	return at.UnixMilli(), nil
}
