package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

var _ bundle.Source = (*Store)(nil)

// where selects the stored records of log's leaves [begin, end) that q's
// filters select. recorded_at bounds the search by the table's sort key: a
// leaf's log time is never before its record's recorded_at.
func where(q *bundle.Query, log string, begin, end uint64, first time.Time) (string, []any) {
	w := []string{"site = ?", "recorded_at >= ?", "recorded_at < ?", "log_id = ?", "leaf_index >= ?", "leaf_index < ?"}
	args := []any{q.Site, first.UTC().Truncate(time.Second), q.To.UTC(), log, begin, end}
	if q.Method != "" {
		w = append(w, "method = ?")
		args = append(args, q.Method)
	}
	if q.Lang != "" {
		w = append(w, "lang = ?")
		args = append(args, q.Lang)
	}
	if q.Category != "" {
		w = append(w, "has(categories, ?) AND granted[indexOf(categories, ?)] = ?")
		args = append(args, q.Category, q.Category, boolToUint8(q.Granted))
	}
	return strings.Join(w, " AND "), args
}

// recordFields is what is read back of a row: everything that is hashed,
// already as the text the export writes (ClickHouse formats a million
// UUIDs and times faster than Go can scan and format them). The arrays come
// joined by commas (category IDs are [a-z0-9_]).
var recordFields = []string{"log_id", "toString(record_id)", "toString(consent_id)", "event_id", "CAST(site AS String)",
	"concat(formatDateTime(recorded_at, '%Y-%m-%dT%H:%M:%S'), '.', substring(toString(1000 + recorded_ms), 2, 3), 'Z')",
	"config_hash", "CAST(lang AS String)", "arrayStringConcat(categories, ',')",
	"arrayStringConcat(arrayMap(g -> toString(g), granted), ',')", "toString(method)", "toString(source)",
	"CAST(ua_browser AS String)", "CAST(ua_os AS String)", "CAST(ua_device AS String)", "ip_prefix", "page_origin", "page_path",
	"toString(retain_until)"}

// recordColumns reads the text fields as one String per row, each field
// after its length in bytes and a colon, then the two numbers. The driver
// makes two allocations for every String it scans, which made scanning the
// largest cost of an export (P5); this way a row costs one.
var recordColumns = func() string {
	parts := make([]string, len(recordFields))
	for i, f := range recordFields {
		parts[i] = "toString(length(" + f + ")), ':', " + f
	}
	return "concat(" + strings.Join(parts, ", ") + "), leaf_index, config_version, gpc"
}()

// recordOrder is the order of a consent ID's history: by time, then record
// ID as text (ClickHouse sorts UUIDs by their halves, not as text).
const recordOrder = " ORDER BY recorded_at, recorded_ms, toString(record_id)"

// ExportSQL is the query of one log's part of an export, the fields as
// columns of their own: what the P5 benchmark has clickhouse-client run for
// comparison (EachRecord reads the same rows as recordColumns).
func ExportSQL(q bundle.Query, log string, begin, end uint64, first time.Time) (string, []any) {
	return exportSQL(q, log, begin, end, first, strings.Join(recordFields, ", ")+", leaf_index, config_version, gpc")
}

func exportSQL(q bundle.Query, log string, begin, end uint64, first time.Time, columns string) (string, []any) {
	w, args := where(&q, log, begin, end, first)
	return "SELECT " + columns + " FROM consent_log FINAL WHERE " + w + " ORDER BY leaf_index", args
}

// CountRecords counts a site's records of a period by their recorded_at,
// for an export's progress (an estimate: without FINAL, and the period is
// judged by log time in the export).
func (s *Store) CountRecords(ctx context.Context, q bundle.Query) (uint64, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM consent_log WHERE site = ? AND recorded_at >= ? AND recorded_at < ?", q.Site, q.From.UTC(), q.To.UTC()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count records: %w", err)
	}
	return n, nil
}

// EachRecord streams the records of log's leaves [begin, end) that q's
// filters select, in leaf order; FINAL folds the copies of a batch shipped
// twice.
func (s *Store) EachRecord(ctx context.Context, q bundle.Query, log string, begin, end uint64, first time.Time, fn func(*bundle.Record) error) error {
	sql, args := exportSQL(q, log, begin, end, first, recordColumns)
	return s.eachRow(ctx, sql, args, fn)
}

// ConsentHistory returns every record of one consent ID on a site, oldest
// first: a primary-key read of consent_by_id, then of consent_log by
// (site, recorded_at).
func (s *Store) ConsentHistory(ctx context.Context, site string, consentID uuid.UUID) ([]ledger.Row, error) {
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT recorded_at FROM consent_by_id WHERE site = ? AND consent_id = ? ORDER BY recorded_at LIMIT 1000", site, consentID)
	if err != nil {
		return nil, fmt.Errorf("consent history: %w", err)
	}
	var times []any
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("consent history: %w", err)
		}
		times = append(times, at)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent history: %w", err)
	}
	out := []ledger.Row{}
	if len(times) == 0 {
		return out, nil
	}
	// One placeholder per time: 18.16 takes no array for IN.
	args := append([]any{site}, times...)
	args = append(args, consentID)
	// Without FINAL, which merges parts on every read: the copies of a batch
	// shipped twice are identical rows, adjacent in this order, and are
	// skipped here.
	err = s.eachRow(ctx, "SELECT "+recordColumns+" FROM consent_log WHERE site = ? AND recorded_at IN (?"+
		strings.Repeat(", ?", len(times)-1)+") AND consent_id = ?"+recordOrder, args, func(r *bundle.Record) error {
		if n := len(out); n > 0 && out[n-1].RecordID == r.RecordID {
			return nil
		}
		out = append(out, r.Row)
		return nil
	})
	return out, err
}

// exportBlockRows bounds the rows ClickHouse sends per block, and so the
// memory a streamed read holds (the driver buffers a few blocks).
const exportBlockRows = 4096

func (s *Store) eachRow(ctx context.Context, sql string, args []any, fn func(*bundle.Record) error) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"max_block_size": exportBlockRows}))
	rows, err := s.conn.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	defer rows.Close()
	var (
		r                   bundle.Record
		text, cats, granted string
		gpc                 uint8
	)
	fields := []*string{&r.Log, &r.RecordID, &r.ConsentID, &r.EventID, &r.Site, &r.RecordedAt, &r.ConfigHash, &r.Lang,
		&cats, &granted, &r.Method, &r.Source, &r.UABrowser, &r.UAOS, &r.UADevice, &r.IPPrefix, &r.PageOrigin, &r.PagePath,
		&r.RetainUntil}
	for rows.Next() {
		if err := rows.Scan(&text, &r.Leaf, &r.ConfigVersion, &gpc); err != nil {
			return fmt.Errorf("read records: %w", err)
		}
		if err := splitFields(text, fields); err != nil {
			return fmt.Errorf("read records: %w", err)
		}
		r.GPC = gpc == 1
		r.Categories, r.Granted = splitChoices(cats, granted)
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	return nil
}

// SampleConsentIDs returns up to n consent IDs of a site, for benchmarks.
func (s *Store) SampleConsentIDs(ctx context.Context, site string, n int) ([]uuid.UUID, error) {
	rows, err := s.conn.Query(ctx, "SELECT consent_id FROM consent_by_id WHERE site = ? AND cityHash64(toString(consent_id)) % 1000 = 7 LIMIT ?", site, n)
	if err != nil {
		return nil, fmt.Errorf("sample consent ids: %w", err)
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sample consent ids: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// splitFields cuts a row read as recordColumns into its fields: substrings
// of s, so no copies.
func splitFields(s string, fields []*string) error {
	for _, f := range fields {
		colon := strings.IndexByte(s, ':')
		n, err := strconv.Atoi(s[:max(colon, 0)])
		if colon < 0 || err != nil || n < 0 || n > len(s)-colon-1 {
			return fmt.Errorf("a row's fields do not add up: %.40q", s)
		}
		*f, s = s[colon+1:colon+1+n], s[colon+1+n:]
	}
	if s != "" {
		return fmt.Errorf("a row has more fields than asked for: %.40q", s)
	}
	return nil
}

func splitChoices(cats, granted string) ([]string, []bool) {
	if cats == "" {
		return []string{}, []bool{}
	}
	c := strings.Split(cats, ",")
	g := make([]bool, 0, len(c))
	for _, x := range strings.Split(granted, ",") {
		g = append(g, x == "1")
	}
	return c, g
}
