// Package consent is the domain of the consent log: what a visitor's decision
// looks like on the wire (Request), how it is checked against the
// configuration version they were shown, and the minimal Record that is
// appended to the log through a Sink.
//
// The path of one consent: web.postConsent → Decode → Request.Check →
// NewRecord → Sink.Append (ClickHouse today; a durable spool slots in here).
package consent

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Methods a decision can be made by.
const (
	MethodAcceptAll = "accept_all"
	MethodRejectAll = "reject_all"
	MethodCustom    = "custom"
	MethodWithdraw  = "withdraw"
	MethodGPC       = "gpc"
)

// Sources: which part of the UI (or the API) the decision came from.
const (
	SourceBanner   = "banner"
	SourceSettings = "settings"
	SourceAPI      = "api"
)

// Record is one row of the consent log. It holds no full IP address, no
// query string and no identifier other than the visitor's random consent ID.
type Record struct {
	RecordID      uuid.UUID
	ConsentID     uuid.UUID
	Site          string
	RecordedAt    time.Time // server time, millisecond precision, UTC
	ConfigVersion uint32
	ConfigHash    string
	Lang          string
	Categories    []string // in the version's display order
	Granted       []bool   // parallel to Categories
	Method        string
	Source        string
	GPC           bool
	UA            UserAgent
	IPPrefix      string // e.g. 192.0.2.0/24, 2001:db8:1::/48
	PageOrigin    string
	PagePath      string
	RetainUntil   time.Time // date after which the row may be dropped
}

// Sink appends records to the consent log. Append returns only once the
// records are durable: its success is what a 201 promises.
type Sink interface {
	Append(ctx context.Context, recs []Record) error
}
