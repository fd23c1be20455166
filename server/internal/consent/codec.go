package consent

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// spooled is a Record as written to the spool: JSON with short names and a
// format version, so that a spool written by one release is read by the next.
type spooled struct {
	V   int       `json:"v"`
	ID  uuid.UUID `json:"id"`
	CID uuid.UUID `json:"cid"`
	EID string    `json:"eid,omitempty"`
	S   string    `json:"s"`
	At  int64     `json:"at"` // Unix milliseconds
	CV  uint32    `json:"cv"`
	CH  string    `json:"ch"`
	L   string    `json:"l"`
	C   []string  `json:"c"`
	G   []bool    `json:"g"`
	M   string    `json:"m"`
	Src string    `json:"src"`
	GPC bool      `json:"gpc,omitempty"`
	UA  [3]string `json:"ua"`
	IP  string    `json:"ip"`
	PO  string    `json:"po"`
	PP  string    `json:"pp"`
	RU  string    `json:"ru"` // retain-until date, 2006-01-02
}

const codecVersion = 1

// Encode returns the record's spool form.
func (r *Record) Encode() []byte {
	b, err := json.Marshal(spooled{codecVersion, r.RecordID, r.ConsentID, r.EventID, r.Site, r.RecordedAt.UnixMilli(),
		r.ConfigVersion, r.ConfigHash, r.Lang, r.Categories, r.Granted, r.Method, r.Source, r.GPC,
		[3]string{r.UA.Browser, r.UA.OS, r.UA.Device}, r.IPPrefix, r.PageOrigin, r.PagePath, r.RetainUntil.Format(time.DateOnly)})
	if err != nil {
		panic("consent: encode: " + err.Error()) // strings, numbers and bools always marshal
	}
	return b
}

// DecodeRecord reads a record written by Encode. The spool checks integrity
// with CRCs; this still refuses anything that is not a complete record, so a
// bug can never ship a half-empty row.
func DecodeRecord(b []byte) (Record, error) {
	var s spooled
	if err := json.Unmarshal(b, &s); err != nil {
		return Record{}, fmt.Errorf("decode record: %w", err)
	}
	if s.V != codecVersion {
		return Record{}, fmt.Errorf("decode record: format version %d, want %d", s.V, codecVersion)
	}
	ru, err := time.Parse(time.DateOnly, s.RU)
	if err != nil {
		return Record{}, fmt.Errorf("decode record: retain-until: %w", err)
	}
	if s.ID == uuid.Nil || s.CID == uuid.Nil || s.S == "" || s.At <= 0 || s.CV == 0 || len(s.C) == 0 || len(s.C) != len(s.G) || s.M == "" {
		return Record{}, errors.New("decode record: incomplete record")
	}
	return Record{
		RecordID: s.ID, ConsentID: s.CID, EventID: s.EID, Site: s.S,
		RecordedAt: time.UnixMilli(s.At).UTC(), ConfigVersion: s.CV, ConfigHash: s.CH, Lang: s.L,
		Categories: s.C, Granted: s.G, Method: s.M, Source: s.Src, GPC: s.GPC,
		UA: UserAgent{s.UA[0], s.UA[1], s.UA[2]}, IPPrefix: s.IP, PageOrigin: s.PO, PagePath: s.PP, RetainUntil: ru,
	}, nil
}
