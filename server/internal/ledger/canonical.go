// Package ledger makes the consent log tamper-evident, in the manner of
// Certificate Transparency (RFC 9162): every record shipped is appended as a
// leaf to a Merkle tree of its site and instance (a log), and after every
// batch the instance signs each changed log's tree head with its Ed25519 key.
// Writer does that as a decorator of consent.Sink; the proofs (inclusion,
// consistency, compact ranges) let an auditor check exports offline against
// keys they saved once. docs/tamper-evidence.md is the design and threat
// model.
package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/samtycke/samtycke/server/internal/consent"
)

// Format is the version of the canonical encoding and of the proof message.
const Format = 1

// Row is a record as exported and as hashed. Its canonical encoding (format
// 1) is its JSON with the fields in this order, no white space, and strings
// escaped as Go's encoding/json does with HTML escaping off. Where it sits in
// a log (Pos) is not part of it: the leaf says that.
type Row struct {
	RecordID      string   `json:"record_id"`
	ConsentID     string   `json:"consent_id"`
	EventID       string   `json:"event_id"`
	Site          string   `json:"site"`
	RecordedAt    string   `json:"recorded_at"` // 2006-01-02T15:04:05.000Z
	ConfigVersion uint32   `json:"config_version"`
	ConfigHash    string   `json:"config_hash"`
	Lang          string   `json:"lang"`
	Categories    []string `json:"categories"`
	Granted       []bool   `json:"granted"`
	Method        string   `json:"method"`
	Source        string   `json:"source"`
	GPC           bool     `json:"gpc"`
	UABrowser     string   `json:"ua_browser"`
	UAOS          string   `json:"ua_os"`
	UADevice      string   `json:"ua_device"`
	IPPrefix      string   `json:"ip_prefix"`
	PageOrigin    string   `json:"page_origin"`
	PagePath      string   `json:"page_path"`
	RetainUntil   string   `json:"retain_until"` // 2006-01-02
}

// TimeLayout is how recorded_at is written: UTC, milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// RowOf converts a record to its exported form.
func RowOf(r *consent.Record) Row {
	row := Row{RecordID: r.RecordID.String(), ConsentID: r.ConsentID.String(), EventID: r.EventID,
		Site: r.Site, RecordedAt: r.RecordedAt.UTC().Truncate(time.Millisecond).Format(TimeLayout),
		ConfigVersion: r.ConfigVersion, ConfigHash: r.ConfigHash, Lang: r.Lang,
		Categories: r.Categories, Granted: r.Granted, Method: r.Method, Source: r.Source, GPC: r.GPC,
		UABrowser: r.UA.Browser, UAOS: r.UA.OS, UADevice: r.UA.Device, IPPrefix: r.IPPrefix,
		PageOrigin: r.PageOrigin, PagePath: r.PagePath, RetainUntil: r.RetainUntil.UTC().Format(time.DateOnly)}
	// Nil and empty slices encode alike: as [].
	if row.Categories == nil {
		row.Categories = []string{}
	}
	if row.Granted == nil {
		row.Granted = []bool{}
	}
	return row
}

// Encode is the row's JSON in canonical form: what a leaf's record hash is
// the SHA-256 of. Every shipped record, receipt and NDJSON line encodes a
// row, so the common case (every string plain printable ASCII) is written
// by hand; anything else goes through encoding/json, which defines the form.
func (r Row) Encode() []byte {
	if r.plain() { // a row is some 650 bytes: one allocation, not three
		return r.appendPlain(make([]byte, 0, 1024))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if r.Categories == nil {
		r.Categories = []string{}
	}
	if r.Granted == nil {
		r.Granted = []bool{}
	}
	if err := enc.Encode(r); err != nil {
		panic(fmt.Sprintf("ledger: encode row: %v", err)) // a struct of strings, numbers and bools always encodes
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// plainString: encoding/json (HTML escaping off) writes s as it is.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (r *Row) plain() bool {
	for _, s := range [...]string{r.RecordID, r.ConsentID, r.EventID, r.Site, r.RecordedAt, r.ConfigHash, r.Lang, r.Method,
		r.Source, r.UABrowser, r.UAOS, r.UADevice, r.IPPrefix, r.PageOrigin, r.PagePath, r.RetainUntil} {
		if !plainString(s) {
			return false
		}
	}
	for _, s := range r.Categories {
		if !plainString(s) {
			return false
		}
	}
	return true
}

// appendPlain writes the canonical JSON of a row whose strings are plain.
func (r *Row) appendPlain(b []byte) []byte {
	str := func(b []byte, key, v string) []byte {
		b = append(b, key...)
		b = append(b, '"')
		b = append(b, v...)
		return append(b, '"')
	}
	boolean := func(b []byte, v bool) []byte {
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	}
	b = str(b, `{"record_id":`, r.RecordID)
	b = str(b, `,"consent_id":`, r.ConsentID)
	b = str(b, `,"event_id":`, r.EventID)
	b = str(b, `,"site":`, r.Site)
	b = str(b, `,"recorded_at":`, r.RecordedAt)
	b = append(b, `,"config_version":`...)
	b = strconv.AppendUint(b, uint64(r.ConfigVersion), 10)
	b = str(b, `,"config_hash":`, r.ConfigHash)
	b = str(b, `,"lang":`, r.Lang)
	b = append(b, `,"categories":[`...)
	for i, c := range r.Categories {
		if i > 0 {
			b = append(b, ',')
		}
		b = str(b, "", c)
	}
	b = append(b, `],"granted":[`...)
	for i, g := range r.Granted {
		if i > 0 {
			b = append(b, ',')
		}
		b = boolean(b, g)
	}
	b = append(b, ']')
	b = str(b, `,"method":`, r.Method)
	b = str(b, `,"source":`, r.Source)
	b = append(b, `,"gpc":`...)
	b = boolean(b, r.GPC)
	b = str(b, `,"ua_browser":`, r.UABrowser)
	b = str(b, `,"ua_os":`, r.UAOS)
	b = str(b, `,"ua_device":`, r.UADevice)
	b = str(b, `,"ip_prefix":`, r.IPPrefix)
	b = str(b, `,"page_origin":`, r.PageOrigin)
	b = str(b, `,"page_path":`, r.PagePath)
	b = str(b, `,"retain_until":`, r.RetainUntil)
	return append(b, '}')
}
