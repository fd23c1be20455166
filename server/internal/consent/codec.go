package consent

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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

// Encode returns the record's spool form. Records of plain strings (nearly
// all) are written by hand, byte for byte as encoding/json would write
// them, which took a measurable part of each consent's CPU; the rest go
// through encoding/json.
func (r *Record) Encode() []byte {
	if b, ok := r.appendPlain(make([]byte, 0, 768)); ok {
		return b
	}
	b, err := json.Marshal(spooled{codecVersion, r.RecordID, r.ConsentID, r.EventID, r.Site, r.RecordedAt.UnixMilli(),
		r.ConfigVersion, r.ConfigHash, r.Lang, r.Categories, r.Granted, r.Method, r.Source, r.GPC,
		[3]string{r.UA.Browser, r.UA.OS, r.UA.Device}, r.IPPrefix, r.PageOrigin, r.PagePath, r.RetainUntil.Format(time.DateOnly)})
	if err != nil {
		panic("consent: encode: " + err.Error()) // strings, numbers and bools always marshal
	}
	return b
}

// plain reports whether encoding/json writes s as it is, between quotes:
// printable ASCII without the characters it escapes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// appendPlain appends the spooled form of r and reports true, or false when
// a string or a nil list needs encoding/json.
func (r *Record) appendPlain(b []byte) ([]byte, bool) {
	if r.Categories == nil || r.Granted == nil {
		return nil, false
	}
	ok := true
	str := func(b []byte, s string) []byte {
		ok = ok && plain(s)
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, codecVersion, 10)
	b = append(b, `,"id":`...)
	b = str(b, r.RecordID.String())
	b = append(b, `,"cid":`...)
	b = str(b, r.ConsentID.String())
	if r.EventID != "" {
		b = append(b, `,"eid":`...)
		b = str(b, r.EventID)
	}
	b = append(b, `,"s":`...)
	b = str(b, r.Site)
	b = append(b, `,"at":`...)
	b = strconv.AppendInt(b, r.RecordedAt.UnixMilli(), 10)
	b = append(b, `,"cv":`...)
	b = strconv.AppendUint(b, uint64(r.ConfigVersion), 10)
	b = append(b, `,"ch":`...)
	b = str(b, r.ConfigHash)
	b = append(b, `,"l":`...)
	b = str(b, r.Lang)
	b = append(b, `,"c":[`...)
	for i, c := range r.Categories {
		if i > 0 {
			b = append(b, ',')
		}
		b = str(b, c)
	}
	b = append(b, `],"g":[`...)
	for i, g := range r.Granted {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendBool(b, g)
	}
	b = append(b, `],"m":`...)
	b = str(b, r.Method)
	b = append(b, `,"src":`...)
	b = str(b, r.Source)
	if r.GPC {
		b = append(b, `,"gpc":true`...)
	}
	b = append(b, `,"ua":[`...)
	b = str(b, r.UA.Browser)
	b = append(b, ',')
	b = str(b, r.UA.OS)
	b = append(b, ',')
	b = str(b, r.UA.Device)
	b = append(b, `],"ip":`...)
	b = str(b, r.IPPrefix)
	b = append(b, `,"po":`...)
	b = str(b, r.PageOrigin)
	b = append(b, `,"pp":`...)
	b = str(b, r.PagePath)
	b = append(b, `,"ru":"`...)
	b = r.RetainUntil.AppendFormat(b, time.DateOnly)
	b = append(b, `"}`...)
	return b, ok
}

// DecodeRecord reads a record written by Encode. The spool checks integrity
// with CRCs; this still refuses anything that is not a complete record, so a
// bug can never ship a half-empty row.
func DecodeRecord(b []byte) (Record, error) {
	s, ok := decodePlain(b)
	if !ok {
		s = spooled{}
		if err := json.Unmarshal(b, &s); err != nil {
			return Record{}, fmt.Errorf("decode record: %w", err)
		}
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

// decodePlain reads the spooled form exactly as Encode and encoding/json
// write it for plain strings, and reports false for anything else (escapes,
// other spacing or order), which encoding/json then reads: the shipper
// decodes every record, and reflection was most of its CPU.
func decodePlain(b []byte) (s spooled, ok bool) {
	d := plainDecoder{b: b, ok: true}
	d.lit(`{"v":`)
	s.V = int(d.int(64))
	d.lit(`,"id":`)
	s.ID = d.uuid()
	d.lit(`,"cid":`)
	s.CID = d.uuid()
	if d.maybe(`,"eid":`) {
		s.EID = d.str()
	}
	d.lit(`,"s":`)
	s.S = d.str()
	d.lit(`,"at":`)
	s.At = d.int(64)
	d.lit(`,"cv":`)
	s.CV = uint32(d.uint(32))
	d.lit(`,"ch":`)
	s.CH = d.str()
	d.lit(`,"l":`)
	s.L = d.str()
	d.lit(`,"c":[`)
	s.C = []string{}
	for d.ok && !d.maybe(`]`) {
		if len(s.C) > 0 {
			d.lit(`,`)
		}
		s.C = append(s.C, d.str())
	}
	d.lit(`,"g":[`)
	s.G = []bool{}
	for d.ok && !d.maybe(`]`) {
		if len(s.G) > 0 {
			d.lit(`,`)
		}
		switch {
		case d.maybe(`true`):
			s.G = append(s.G, true)
		case d.maybe(`false`):
			s.G = append(s.G, false)
		default:
			d.ok = false
		}
	}
	d.lit(`,"m":`)
	s.M = d.str()
	d.lit(`,"src":`)
	s.Src = d.str()
	s.GPC = d.maybe(`,"gpc":true`)
	d.lit(`,"ua":[`)
	s.UA[0] = d.str()
	d.lit(`,`)
	s.UA[1] = d.str()
	d.lit(`,`)
	s.UA[2] = d.str()
	d.lit(`],"ip":`)
	s.IP = d.str()
	d.lit(`,"po":`)
	s.PO = d.str()
	d.lit(`,"pp":`)
	s.PP = d.str()
	d.lit(`,"ru":`)
	s.RU = d.str()
	d.lit(`}`)
	return s, d.ok && len(d.b) == 0
}

// plainDecoder reads b from the front; the first mismatch clears ok, and
// every later call then reads nothing.
type plainDecoder struct {
	b  []byte
	ok bool
}

func (d *plainDecoder) maybe(lit string) bool {
	if !d.ok || len(d.b) < len(lit) || string(d.b[:len(lit)]) != lit {
		return false
	}
	d.b = d.b[len(lit):]
	return true
}

func (d *plainDecoder) lit(lit string) {
	if !d.maybe(lit) {
		d.ok = false
	}
}

// str reads a string of the bytes plain accepts.
func (d *plainDecoder) str() string {
	if !d.maybe(`"`) {
		d.ok = false
		return ""
	}
	for i, c := range d.b {
		switch {
		case c == '"':
			s := string(d.b[:i])
			d.b = d.b[i+1:]
			return s
		case c < 0x20 || c > 0x7e || c == '\\':
			d.ok = false
			return ""
		}
	}
	d.ok = false
	return ""
}

// digits reads a JSON integer's digits (a leading zero only alone).
func (d *plainDecoder) digits(signed bool) []byte {
	n := 0
	if signed && n < len(d.b) && d.b[n] == '-' {
		n++
	}
	start := n
	for n < len(d.b) && d.b[n] >= '0' && d.b[n] <= '9' {
		n++
	}
	if !d.ok || n == start || (d.b[start] == '0' && n > start+1) {
		d.ok = false
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *plainDecoder) int(bits int) int64 {
	v, err := strconv.ParseInt(string(d.digits(true)), 10, bits)
	d.ok = d.ok && err == nil
	return v
}

func (d *plainDecoder) uint(bits int) uint64 {
	v, err := strconv.ParseUint(string(d.digits(false)), 10, bits)
	d.ok = d.ok && err == nil
	return v
}

func (d *plainDecoder) uuid() uuid.UUID {
	s := d.str()
	if !d.ok {
		return uuid.Nil
	}
	id, err := uuid.Parse(s)
	d.ok = err == nil
	return id
}
