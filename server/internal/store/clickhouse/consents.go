package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/samtycke/samtycke/server/internal/consent"
)

var _ consent.Sink = (*Store)(nil)

// consentColumns maps every consent_log column to its value in a Record. The
// INSERT's column list is built from it once; a test checks it against the
// migrated table, so a column cannot be forgotten on either side.
var consentColumns = []struct {
	name  string
	value func(r *consent.Record) any
}{
	{"record_id", func(r *consent.Record) any { return r.RecordID }},
	{"consent_id", func(r *consent.Record) any { return r.ConsentID }},
	{"site", func(r *consent.Record) any { return r.Site }},
	{"recorded_at", func(r *consent.Record) any { return r.RecordedAt }},
	{"recorded_ms", func(r *consent.Record) any { return uint16(r.RecordedAt.Nanosecond() / 1e6) }},
	{"config_version", func(r *consent.Record) any { return r.ConfigVersion }},
	{"config_hash", func(r *consent.Record) any { return r.ConfigHash }},
	{"lang", func(r *consent.Record) any { return r.Lang }},
	{"categories", func(r *consent.Record) any { return r.Categories }},
	{"granted", func(r *consent.Record) any { return boolsToUint8(r.Granted) }},
	{"method", func(r *consent.Record) any { return r.Method }},
	{"source", func(r *consent.Record) any { return r.Source }},
	{"gpc", func(r *consent.Record) any { return boolToUint8(r.GPC) }},
	{"ua_browser", func(r *consent.Record) any { return r.UA.Browser }},
	{"ua_os", func(r *consent.Record) any { return r.UA.OS }},
	{"ua_device", func(r *consent.Record) any { return r.UA.Device }},
	{"ip_prefix", func(r *consent.Record) any { return r.IPPrefix }},
	{"page_origin", func(r *consent.Record) any { return r.PageOrigin }},
	{"page_path", func(r *consent.Record) any { return r.PagePath }},
	{"retain_until", func(r *consent.Record) any { return r.RetainUntil }},
}

var insertConsents = func() string {
	names := make([]string, len(consentColumns))
	for i, c := range consentColumns {
		names[i] = c.name
	}
	return "INSERT INTO consent_log (" + strings.Join(names, ", ") + ")"
}()

// Append inserts records into the consent log in one batch. It returns once
// ClickHouse has acknowledged the insert.
func (s *Store) Append(ctx context.Context, recs []consent.Record) error {
	if len(recs) == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, insertConsents)
	if err != nil {
		return fmt.Errorf("append consents: prepare: %w", err)
	}
	row := make([]any, len(consentColumns))
	for i := range recs {
		for j, c := range consentColumns {
			row[j] = c.value(&recs[i])
		}
		if err := b.Append(row...); err != nil {
			b.Abort()
			return fmt.Errorf("append consents: row %d: %w", i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("append consents: send %d rows: %w", len(recs), err)
	}
	return nil
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
