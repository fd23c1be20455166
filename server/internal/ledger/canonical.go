// Package ledger makes the consent log tamper-evident. Every batch the
// shipper stores gets a Proof: the Merkle root over its records' canonical
// encodings (format 1, below), chained to the previous batch of the same
// instance and signed with that instance's Ed25519 key. Sink adds proofs as
// a decorator of consent.Sink; Check verifies them offline.
// docs/tamper-evidence.md is the threat model.
package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
)

// Format is the version of the canonical encoding and of the proof message.
const Format = 1

// Row is a record as exported and as hashed. Its canonical encoding (format
// 1) is its JSON with the fields in this order, no white space, and strings
// escaped as Go's encoding/json does with HTML escaping off; the batch ID is
// not part of what is hashed (the proof names the batch).
type Row struct {
	BatchID       string   `json:"batch_id,omitempty"`
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

// RowOf converts a record of batch (uuid.Nil: none) to its exported form.
func RowOf(batch uuid.UUID, r *consent.Record) Row {
	row := Row{RecordID: r.RecordID.String(), ConsentID: r.ConsentID.String(), EventID: r.EventID,
		Site: r.Site, RecordedAt: r.RecordedAt.UTC().Truncate(time.Millisecond).Format(TimeLayout),
		ConfigVersion: r.ConfigVersion, ConfigHash: r.ConfigHash, Lang: r.Lang,
		Categories: r.Categories, Granted: r.Granted, Method: r.Method, Source: r.Source, GPC: r.GPC,
		UABrowser: r.UA.Browser, UAOS: r.UA.OS, UADevice: r.UA.Device, IPPrefix: r.IPPrefix,
		PageOrigin: r.PageOrigin, PagePath: r.PagePath, RetainUntil: r.RetainUntil.UTC().Format(time.DateOnly)}
	if batch != uuid.Nil {
		row.BatchID = batch.String()
	}
	// Nil and empty slices encode alike: as [].
	if row.Categories == nil {
		row.Categories = []string{}
	}
	if row.Granted == nil {
		row.Granted = []bool{}
	}
	return row
}

// Encode is the row's JSON in canonical form, with its batch ID if set (an
// NDJSON line without the newline).
func (r Row) Encode() []byte {
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

// Leaf is what a batch's Merkle tree commits to for one record: which site
// it belongs to, when it was recorded, and the hash of its canonical
// encoding. A bundle carries the Leaf (not the record) of every record of a
// batch it does not export, so the root can still be recomputed and the
// times of omitted records of the exported site checked against the range.
type Leaf struct {
	SiteHash   [32]byte // SHA-256 of the site ID
	RecordedMs int64    // Unix milliseconds
	RowHash    [32]byte // SHA-256 of the canonical encoding without batch ID
}

// LeafOf computes a row's leaf.
func LeafOf(r Row) (Leaf, error) {
	at, err := time.Parse(TimeLayout, r.RecordedAt)
	if err != nil {
		return Leaf{}, fmt.Errorf("recorded_at %q: %w", r.RecordedAt, err)
	}
	r.BatchID = ""
	return Leaf{SiteHash: sha256.Sum256([]byte(r.Site)), RecordedMs: at.UnixMilli(), RowHash: sha256.Sum256(r.Encode())}, nil
}

// Hash is the leaf's node in the tree: SHA-256(0x00 ‖ site hash ‖ ms as
// 8 bytes big-endian ‖ row hash).
func (l Leaf) Hash() [32]byte {
	var b [1 + 32 + 8 + 32]byte
	copy(b[1:], l.SiteHash[:])
	for i := range 8 {
		b[33+i] = byte(uint64(l.RecordedMs) >> (56 - 8*i))
	}
	copy(b[41:], l.RowHash[:])
	return sha256.Sum256(b[:])
}
