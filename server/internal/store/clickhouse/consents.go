package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
)

var _ consent.Sink = (*Store)(nil)

// consentColumns maps every consent_log column to its value in a Record. The
// INSERT's column list is built from it once; a test checks it against the
// migrated table, so a column cannot be forgotten on either side.
var consentColumns = []struct {
	name  string
	value func(b *consent.Batch, r *consent.Record, p consent.LogPos) any
}{
	{"record_id", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.RecordID }},
	{"consent_id", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.ConsentID }},
	{"event_id", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.EventID }},
	{"batch_id", func(b *consent.Batch, _ *consent.Record, _ consent.LogPos) any { return b.ID }},
	{"log_id", func(_ *consent.Batch, _ *consent.Record, p consent.LogPos) any { return p.Log }},
	{"leaf_index", func(_ *consent.Batch, _ *consent.Record, p consent.LogPos) any { return p.Leaf }},
	{"site", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.Site }},
	{"recorded_at", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.RecordedAt }},
	{"recorded_ms", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any {
		return uint16(r.RecordedAt.Nanosecond() / 1e6)
	}},
	{"config_version", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.ConfigVersion }},
	{"config_hash", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.ConfigHash }},
	{"lang", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.Lang }},
	{"categories", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.Categories }},
	{"granted", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return boolsToUint8(r.Granted) }},
	{"method", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.Method }},
	{"source", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.Source }},
	{"gpc", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return boolToUint8(r.GPC) }},
	{"ua_browser", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.UA.Browser }},
	{"ua_os", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.UA.OS }},
	{"ua_device", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.UA.Device }},
	{"ip_prefix", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.IPPrefix }},
	{"page_origin", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.PageOrigin }},
	{"page_path", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.PagePath }},
	{"retain_until", func(_ *consent.Batch, r *consent.Record, _ consent.LogPos) any { return r.RetainUntil }},
}

var insertConsents = func() string {
	names := make([]string, len(consentColumns))
	for i, c := range consentColumns {
		names[i] = c.name
	}
	return "INSERT INTO consent_log (" + strings.Join(names, ", ") + ")"
}()

// AppendBatch stores a batch: its rows, then its manifest row in
// consent_batches. A batch whose rows are all in already (shipped before a
// crash, acknowledged too late) is not inserted again; a partly inserted one
// is inserted whole, and consent_log's ReplacingMergeTree folds the copies.
func (s *Store) AppendBatch(ctx context.Context, b consent.Batch) error {
	if len(b.Records) == 0 {
		return nil
	}
	first, last := b.Records[0].RecordedAt, b.Records[0].RecordedAt
	sites := map[string]bool{}
	for i := range b.Records {
		if at := b.Records[i].RecordedAt; at.Before(first) {
			first = at
		} else if at.After(last) {
			last = at
		}
		sites[b.Records[i].Site] = true
	}
	n, err := s.batchRows(ctx, b.ID, slices.Collect(maps.Keys(sites)), first, last)
	if err != nil {
		return err
	}
	if n < uint64(len(b.Records)) {
		if err := s.insertRows(ctx, &b); err != nil {
			if refusal(err) {
				return &consent.RefusedError{Batch: b, Err: err}
			}
			return err
		}
	} else {
		// Shipped before (a batch acknowledged too late, or shipped again
		// after an unclean stop): one manifest row is enough.
		var m uint64
		if err := s.conn.QueryRow(ctx, "SELECT count() FROM consent_batches WHERE instance = ? AND seq = ?", b.Instance, b.Seq).Scan(&m); err != nil {
			return fmt.Errorf("append batch %d: look for its manifest: %w", b.Seq, err)
		}
		if m > 0 {
			return nil
		}
	}
	mb, err := s.conn.PrepareBatch(ctx, "INSERT INTO consent_batches (batch_id, instance, seq, rows, first_recorded_at, last_recorded_at, shipped_at)")
	if err != nil {
		return fmt.Errorf("append batch %d: prepare manifest: %w", b.Seq, err)
	}
	if err := mb.Append(b.ID, b.Instance, b.Seq, uint32(len(b.Records)), first, last, time.Now().UTC()); err != nil {
		mb.Abort()
		return fmt.Errorf("append batch %d: manifest: %w", b.Seq, err)
	}
	if err := mb.Send(); err != nil {
		return fmt.Errorf("append batch %d: manifest: %w", b.Seq, err)
	}
	return nil
}

// batchRows counts the rows of batch id already stored. The sort key
// (site, recorded_at) bounds the search to the batch's own granules.
func (s *Store) batchRows(ctx context.Context, id uuid.UUID, sites []string, first, last time.Time) (uint64, error) {
	var n uint64
	// One placeholder per site: 18.16 takes no array for IN.
	args := make([]any, 0, len(sites)+3)
	for _, site := range sites {
		args = append(args, site)
	}
	args = append(args, first.Truncate(time.Second), last, id)
	err := s.conn.QueryRow(ctx, "SELECT count() FROM consent_log WHERE site IN ("+strings.Repeat("?, ", len(sites)-1)+
		"?) AND recorded_at >= ? AND recorded_at <= ? AND batch_id = ?", args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("append batch: look for an earlier copy: %w", err)
	}
	return n, nil
}

func (s *Store) insertRows(ctx context.Context, b *consent.Batch) error {
	pb, err := s.conn.PrepareBatch(ctx, insertConsents)
	if err != nil {
		return fmt.Errorf("append batch %d: prepare: %w", b.Seq, err)
	}
	row := make([]any, len(consentColumns))
	for i := range b.Records {
		consent.StepAside(i)
		var p consent.LogPos
		if i < len(b.Positions) {
			p = b.Positions[i]
		}
		for j, c := range consentColumns {
			row[j] = c.value(b, &b.Records[i], p)
		}
		if err := pb.Append(row...); err != nil {
			pb.Abort()
			return fmt.Errorf("append batch %d: row %d: %w", b.Seq, i, err)
		}
	}
	if err := pb.Send(); err != nil {
		return fmt.Errorf("append batch %d: send %d rows: %w", b.Seq, len(b.Records), err)
	}
	return nil
}

// refusal reports whether ClickHouse (or the driver, checking the rows
// against the table's columns) refused rows in a way that retrying cannot
// change: the values do not fit the table, or the server rejects them.
// Network failures, timeouts, a busy or restarting server, missing tables or
// memory are not refusals: they pass, and the shipper retries.
func refusal(err error) bool {
	var conv *column.ColumnConverterError
	var colErr *column.Error
	var unsupported *column.UnsupportedColumnTypeError
	if errors.As(err, &conv) || errors.As(err, &colErr) || errors.As(err, &unsupported) {
		return true
	}
	// A row that does not fit the server's columns (a value too long for
	// a FixedString, say).
	var block *proto.BlockError
	if errors.As(err, &block) && block.Op == "AppendRow" {
		return true
	}
	var ex *ch.Exception
	if !errors.As(err, &ex) {
		return false
	}
	return refusedCodes[ex.Code]
}

// refusedCodes are the ClickHouse exception codes of rows that cannot be
// stored as they are, with the same codes on 18.16 and current releases.
var refusedCodes = map[int32]bool{
	6:   true, // CANNOT_PARSE_TEXT (a view or default converting a value)
	27:  true, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	38:  true, // CANNOT_PARSE_DATE
	41:  true, // CANNOT_PARSE_DATETIME
	43:  true, // ILLEGAL_TYPE_OF_ARGUMENT
	44:  true, // ILLEGAL_COLUMN
	53:  true, // TYPE_MISMATCH
	69:  true, // ARGUMENT_OUT_OF_BOUND
	70:  true, // CANNOT_CONVERT_TYPE
	72:  true, // CANNOT_PARSE_NUMBER
	117: true, // INCORRECT_DATA
	131: true, // TOO_LARGE_STRING_SIZE
	190: true, // SIZES_OF_ARRAYS_DOESNT_MATCH (a view's ARRAY JOIN of categories and grants)
	321: true, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
	395: true, // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (a view's throwIf)
}

func boolToUint8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func boolsToUint8(bs []bool) []uint8 {
	out := make([]uint8, len(bs))
	for i, b := range bs {
		out[i] = boolToUint8(b)
	}
	return out
}

// durableTables are the tables a shipped batch writes to directly: the
// evidence a confirmed batch must not lose.
var durableTables = []string{"consent_log", "consent_batches", "log_leaves", "log_nodes", "log_heads"}

// FsyncInserts makes ClickHouse fsync every part inserted into the evidence
// tables (and their folders), on servers that have the MergeTree settings
// fsync_after_insert and fsync_part_directory (not 18.16: it cannot fsync
// parts at all). It reports whether it could; without it a confirmed batch
// may sit in the page cache for a while, which the spool's kept segments
// cover (SAMTYCKE_SPOOL_KEEP).
//
// It runs at every start, so it sends no DDL for a table that has the
// settings already. On a cluster the ALTER runs ON CLUSTER (the settings
// are each replica's own) but waits only fsyncDDLTimeout for the other
// nodes: a node that is down takes it from the DDL queue when it returns,
// and the start goes on meanwhile.
func (s *Store) FsyncInserts(ctx context.Context) (bool, error) {
	rows, err := s.conn.Query(ctx, "SELECT name FROM system.merge_tree_settings WHERE name IN ('fsync_after_insert', 'fsync_part_directory')")
	if err != nil {
		return false, fmt.Errorf("fsync inserts: %w", err)
	}
	var set []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return false, fmt.Errorf("fsync inserts: %w", err)
		}
		set = append(set, name+" = 1")
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("fsync inserts: %w", err)
	}
	if !slices.Contains(set, "fsync_after_insert = 1") {
		return false, nil
	}
	slices.Sort(set)
	engines := map[string]string{}
	trows, err := s.conn.Query(ctx, "SELECT name, engine_full FROM system.tables WHERE database = ?", s.database)
	if err != nil {
		return false, fmt.Errorf("fsync inserts: %w", err)
	}
	for trows.Next() {
		var name, engine string
		if err := trows.Scan(&name, &engine); err != nil {
			trows.Close()
			return false, fmt.Errorf("fsync inserts: %w", err)
		}
		engines[name] = engine
	}
	trows.Close()
	if err := trows.Err(); err != nil {
		return false, fmt.Errorf("fsync inserts: %w", err)
	}
	for _, t := range durableTables {
		if !fsyncPending(engines[t], set) {
			continue
		}
		q, qctx := "ALTER TABLE "+t, ctx
		if s.cluster != "" {
			q += " ON CLUSTER " + s.cluster
			qctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"distributed_ddl_task_timeout": fsyncDDLTimeout}))
		}
		if err := s.conn.Exec(qctx, q+" MODIFY SETTING "+strings.Join(set, ", ")); err != nil {
			var ex *ch.Exception
			if s.cluster != "" && errors.As(err, &ex) && ex.Code == 159 { // TIMEOUT_EXCEEDED: a node did not answer
				s.log.Warn("fsync settings not yet on every node; a node that is down applies them from the DDL queue when it returns", "table", t, "err", err)
				continue
			}
			return false, fmt.Errorf("fsync inserts: %s: %w", t, err)
		}
	}
	return true, nil
}

// fsyncDDLTimeout is how long (s) the fsync settings wait for the other
// nodes of a cluster at start.
const fsyncDDLTimeout = 5

// fsyncPending reports whether a table whose engine_full is engine lacks one
// of the settings set ("name = 1").
func fsyncPending(engine string, set []string) bool {
	for _, kv := range set {
		if !strings.Contains(engine, kv) {
			return true
		}
	}
	return false
}

// StartedAt is when the ClickHouse server started (to the second): a
// server that restarted since a batch was confirmed may have lost it, if
// it had not written it to disk yet.
func (s *Store) StartedAt(ctx context.Context) (time.Time, error) {
	var at uint32
	if err := s.conn.QueryRow(ctx, "SELECT toUInt32(toUInt32(now()) - uptime())").Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("clickhouse start time: %w", err)
	}
	return time.Unix(int64(at), 0).UTC(), nil
}

// Cluster is the cluster every table is created on, or "" for one server.
func (s *Store) Cluster() string { return s.cluster }
