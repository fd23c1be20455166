// Package consent is the domain of the consent log: what a visitor's decision
// looks like on the wire (Request), how it is checked against the
// configuration version they were shown, and the minimal Record that is
// appended to the log through a Sink.
//
// The path of one consent: web.postConsent → Decode → Request.Check →
// NewRecord → Record.Encode → spool.Append (fsynced: the 201) → shipper →
// Sink.AppendBatch (ClickHouse).
package consent

import (
	"context"
	"strconv"
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
	EventID       string // the decision's idempotency key; empty when the client sent none
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

// Batch is a run of records that the shipper moves from one instance's spool
// to the log together. Its ID follows from Instance and Seq, so a batch that
// is shipped again after a crash has the same ID and the same rows.
type Batch struct {
	ID       uuid.UUID
	Instance string // the spool's owner: one server instance
	Seq      uint64 // 1, 2, … per instance
	Records  []Record
	// Positions, parallel to Records, say where each record is a leaf of
	// the ledger (package ledger sets them before the rows are stored).
	Positions []LogPos
}

// LogPos is a record's place in the ledger: its log and leaf index.
type LogPos struct {
	Log  string
	Leaf uint64
}

// batchSpace is the UUID namespace of batch IDs.
var batchSpace = uuid.MustParse("6c1f5a52-3a0e-4e0b-9a43-5a4d1c2b7e10")

// NewBatch names the seq-th batch of instance.
func NewBatch(instance string, seq uint64, recs []Record) Batch {
	return Batch{ID: uuid.NewSHA1(batchSpace, []byte(instance+"/"+strconv.FormatUint(seq, 10))),
		Instance: instance, Seq: seq, Records: recs}
}

// StepAside is called for the i-th record by each loop that works through a
// batch (decoding, hashing, encoding it): every 256 records it sleeps for a
// moment. A batch can wait; the visitors' answers cannot. A second's batch
// is tens of milliseconds of such work; while it holds a processor the
// handlers queue on the others, and the network poller that wakes them runs
// only when a processor has nothing else to do.
// At half the maximum rate the median p99 of four sets of 4-6 alternating
// runs was lower with it in each (21 against 24 ms, 26/33, 29/35, 27/28);
// it adds some 15 ms to shipping a 5,000-record batch.
func StepAside(i int) {
	if i%256 == 255 {
		time.Sleep(100 * time.Microsecond)
	}
}

// Sink is the consent log (ClickHouse). AppendBatch returns once the batch
// is stored; appending a batch that is already stored must leave one copy.
type Sink interface {
	AppendBatch(ctx context.Context, b Batch) error
}
